"""A node's container runtime, as far as networking goes: a pod sandbox is a
network namespace, wired by the real `contiv-cni` executable called exactly
as a CRI runtime calls a CNI plugin (env + network config on stdin); a pod
may run the built-in TCP echo server inside its sandbox."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from lab import netns as labns
from lab.procs import alive, marked_env, spawn, terminate
from lab.state import NodeState, ProcessRecord, write_atomically

CNI_VERSION = "1.1.0"
NETWORK_NAME = "contiv"
CNI_BIN_DIR = "/usr/lib/cni"
CNI_TIMEOUT = 60.0
REPO = Path(__file__).resolve().parents[1]


def cni_plugin() -> str:
    beside = Path(sys.executable).parent / "contiv-cni"
    return str(beside) if beside.exists() else "contiv-cni"


class CniError(RuntimeError):
    pass


@dataclass(frozen=True)
class CniOutcome:
    code: int
    result: dict[str, Any]
    stderr: str


class Sandbox(BaseModel):
    """What the runtime made for one pod, kept on disk so a restarted kubelet
    can still tear it down."""

    model_config = ConfigDict(extra="forbid")

    uid: str
    namespace: str
    name: str
    netns: str
    container_id: str
    ip: str | None = None
    echo: ProcessRecord | None = None


def sandbox_netns(prefix: str, namespace: str, name: str, uid: str) -> str:
    # The uid suffix keeps a re-created pod of the same name (possibly on
    # another node, while this one is still tearing down) from colliding.
    readable = f"{prefix}-{namespace}-{name}"[:200]
    return f"{readable}-{uid.replace('-', '')[:6]}"


class Runtime:
    def __init__(self, prefix: str, node: NodeState) -> None:
        self.prefix = prefix
        self.node = node
        self.records = node.dir / "pods"

    # --- the CNI call -------------------------------------------------------------------

    def network_config(self) -> dict[str, Any]:
        return {"cniVersion": CNI_VERSION, "name": NETWORK_NAME, "type": "contiv-cni",
                "agentSocket": str(self.node.cni_socket), "logFile": str(self.node.dir / "cni.log")}

    async def cni(self, command: str, sandbox: Sandbox) -> CniOutcome:
        env = {
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": sandbox.container_id,
            "CNI_NETNS": str(labns.NETNS_DIR / sandbox.netns),
            "CNI_IFNAME": "eth0",
            "CNI_ARGS": (f"IgnoreUnknown=1;K8S_POD_NAMESPACE={sandbox.namespace};K8S_POD_NAME={sandbox.name};"
                         f"K8S_POD_INFRA_CONTAINER_ID={sandbox.container_id};K8S_POD_UID={sandbox.uid}"),
            "CNI_PATH": CNI_BIN_DIR,
        }
        environ = {k: v for k, v in marked_env(self.prefix).items() if not k.startswith("CNI_")}
        process = await asyncio.create_subprocess_exec(
            cni_plugin(), env={**environ, **env}, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        # Not wait_for on communicate: a cancelled ADD must still finish, or
        # the agent's view and the sandbox would disagree.
        stdout, stderr = await process.communicate(json.dumps(self.network_config()).encode())
        try:
            result = json.loads(stdout) if stdout.strip() else {}
        except ValueError:
            result = {"raw": stdout.decode(errors="replace")}
        return CniOutcome(process.returncode or 0, result, stderr.decode(errors="replace"))

    # --- sandboxes ----------------------------------------------------------------------

    def new_sandbox(self, pod: dict[str, Any]) -> Sandbox:
        meta = pod["metadata"]
        return Sandbox(uid=meta["uid"], namespace=meta["namespace"], name=meta["name"],
                       netns=sandbox_netns(self.prefix, meta["namespace"], meta["name"], meta["uid"]),
                       container_id=hashlib.sha256(f"{meta['uid']}/{secrets.token_hex(8)}".encode()).hexdigest())

    def _record_path(self, uid: str) -> Path:
        return self.records / f"{uid}.json"

    def save(self, sandbox: Sandbox) -> None:
        write_atomically(self._record_path(sandbox.uid), sandbox.model_dump_json().encode())

    def saved(self) -> dict[str, Sandbox]:
        found = {}
        for path in sorted(self.records.glob("*.json")) if self.records.exists() else []:
            sandbox = Sandbox.model_validate_json(path.read_text())
            found[sandbox.uid] = sandbox
        return found

    async def start(self, sandbox: Sandbox, echo_port: int | None) -> str:
        """Create the sandbox, wire it, start its server; returns the pod IP.
        The record is saved before anything is made, so a crash half-way is
        undone by `stop`."""
        self.save(sandbox)
        if not (labns.NETNS_DIR / sandbox.netns).exists():
            await asyncio.to_thread(labns.add_netns, sandbox.netns)
        outcome = await self.cni("ADD", sandbox)
        if outcome.code != 0:
            raise CniError(f"CNI ADD for {sandbox.namespace}/{sandbox.name} failed ({outcome.code}): "
                           f"{outcome.result.get('msg') or outcome.stderr.strip()}"
                           + (f" ({outcome.result['details']})" if outcome.result.get("details") else ""))
        ips = [entry["address"].split("/")[0] for entry in outcome.result.get("ips", [])]
        if not ips:
            raise CniError(f"CNI ADD for {sandbox.namespace}/{sandbox.name} returned no IP: {outcome.result}")
        sandbox.ip = ips[0]
        if echo_port is not None and not alive(sandbox.echo):
            sandbox.echo = await self._start_echo(sandbox, echo_port)
        self.save(sandbox)
        return sandbox.ip

    async def _start_echo(self, sandbox: Sandbox, port: int) -> ProcessRecord:
        log = self.records / f"{sandbox.uid}.echo.log"
        log.unlink(missing_ok=True)
        record = await asyncio.to_thread(
            spawn, self.prefix, [sys.executable, "-m", "lab.tcpecho", "serve", "--port", str(port)], log,
            netns=sandbox.netns, cwd=REPO)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while "listening" not in (log.read_text() if log.exists() else ""):
            if not alive(record):
                raise CniError(f"the echo server of {sandbox.namespace}/{sandbox.name} exited: {log.read_text()}")
            if loop.time() > deadline:
                raise CniError(f"the echo server of {sandbox.namespace}/{sandbox.name} did not start in 15s")
            await asyncio.sleep(0.05)
        return record

    async def stop(self, sandbox: Sandbox) -> CniOutcome:
        """Stop what runs in the sandbox, DEL, delete the namespace, forget it.
        DEL must succeed before the record goes, or the agent would keep the
        pod's address forever."""
        if (labns.NETNS_DIR / sandbox.netns).exists():
            await asyncio.to_thread(terminate, labns.netns_pids(sandbox.netns), 5.0)
        outcome = await self.cni("DEL", sandbox)
        if outcome.code != 0:
            raise CniError(f"CNI DEL for {sandbox.namespace}/{sandbox.name} failed ({outcome.code}): "
                           f"{outcome.result.get('msg') or outcome.stderr.strip()}")
        await asyncio.to_thread(labns.delete_netns, sandbox.netns)
        self._record_path(sandbox.uid).unlink(missing_ok=True)
        (self.records / f"{sandbox.uid}.echo.log").unlink(missing_ok=True)
        return outcome


def echo_port(pod: dict[str, Any]) -> int | None:
    """The pod's echo port: the lab annotation, or the first port of a
    container running the `contiv/echo` image (8080 when it names none)."""
    annotation = (pod["metadata"].get("annotations") or {}).get("contivpp.io/lab-echo-port")
    if annotation:
        return int(annotation)
    for container in pod.get("spec", {}).get("containers", []):
        image = container.get("image", "")
        if image == "contiv/echo" or image.startswith(("contiv/echo:", "contiv/echo@")):
            ports = container.get("ports") or []
            return int(ports[0]["containerPort"]) if ports else 8080
    return None
