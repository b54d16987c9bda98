"""The lab's state file: every name, address and process the lab made.

`up` writes the whole plan (every name it is about to create) before it
creates anything, so `down` can undo a half-finished `up`; each process is
recorded as soon as it is started. Writes are atomic (temp file + rename),
so a crash never leaves a torn file behind.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

STATE_FILE = "state.json"
DEFAULT_PREFIX = "clab"
DEFAULT_UNDERLAY = ipaddress.IPv4Network("192.168.16.0/24")
AGENT_REST_PORT = 9999
# Every process the lab starts carries this variable (value: the prefix), so
# `down` finds them in /proc even when the state file is lost or stale.
MARKER_ENV = "CONTIV_LAB_PREFIX"
# Link names are at most 15 bytes: the prefix plus "-br" / "-n<index>" must fit.
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{1,7}$")


def default_dir() -> Path:
    return Path("/var/lib/contiv-lab") if os.geteuid() == 0 else Path("lab-state").resolve()


def check_prefix(prefix: str) -> str:
    if not _PREFIX_RE.match(prefix):
        raise ValueError(f"lab prefix {prefix!r} must be 2-8 lowercase letters/digits, starting with a letter")
    return prefix


class ProcessRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pid: int
    # The kernel's start time of the process (clock ticks since boot): a pid
    # reused by an unrelated process after a reboot or a long time never
    # matches it, so `down` cannot kill a stranger.
    start_time: int
    argv: list[str]
    log: Path
    netns: str | None = None


class NodeState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    index: int
    netns: str
    host_link: str
    ip: ipaddress.IPv4Interface
    dir: Path
    agent: ProcessRecord | None = None
    kubelet: ProcessRecord | None = None

    @property
    def address(self) -> str:
        return str(self.ip.ip)

    @property
    def cni_socket(self) -> Path:
        return self.dir / "cni.sock"

    @property
    def agent_state_dir(self) -> Path:
        return self.dir / "state"

    @property
    def rest_url(self) -> str:
        return f"http://{self.address}:{AGENT_REST_PORT}"


class LabState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prefix: str
    dir: Path
    underlay: ipaddress.IPv4Network
    bridge: str
    bridge_ip: ipaddress.IPv4Interface
    etcd_endpoint: str
    etcd_peer_port: int
    api_port: int
    nodes: list[NodeState] = Field(default_factory=list)
    # etcd, apiserver, ksr, scheduler
    components: dict[str, ProcessRecord] = Field(default_factory=dict)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return check_prefix(value)

    @property
    def api_url(self) -> str:
        return f"http://{self.bridge_ip.ip}:{self.api_port}"

    @property
    def logs(self) -> Path:
        return self.dir / "logs"

    def node(self, name: str) -> NodeState:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in this lab (nodes: {', '.join(n.name for n in self.nodes)})")


def state_path(directory: Path) -> Path:
    return Path(directory) / STATE_FILE


def load(directory: Path) -> LabState | None:
    path = state_path(directory)
    try:
        return LabState.model_validate_json(path.read_text())
    except FileNotFoundError:
        return None


def save(state: LabState) -> None:
    write_atomically(state_path(state.dir), state.model_dump_json(indent=2).encode())


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
