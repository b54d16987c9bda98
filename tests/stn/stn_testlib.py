"""Helpers of the STN tests: a fake node in network namespaces, the daemon as a
subprocess, an agent stand-in, and snapshots of Linux state via `ip -j`."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[2]
CONTIV_STN = str(REPO / ".venv" / "bin" / "contiv-stn")
PYTHON = str(REPO / ".venv" / "bin" / "python")

T = TypeVar("T")

# Nothing answers on port 1: a daemon started with this URL sees a dead agent.
NO_AGENT = "http://127.0.0.1:1/liveness"


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def ip(netns: str, *args: str) -> str:
    return run("ip", "-n", netns, *args).stdout


def wait_for(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Polls until condition() is truthy; fails naming `what` after the deadline."""
    deadline = time.monotonic() + timeout
    last: T = condition()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
        last = condition()
    return last


# ---- Linux state snapshots ------------------------------------------------

_VOLATILE_ADDR = {"tentative", "dadfailed", "optimistic"}
_VOLATILE_LINK = {"operstate", "qdisc", "txqlen", "group", "link_netnsid", "link_index", "ifindex"}


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda d: json.dumps(d, sort_keys=True))


def addresses(netns: str, dev: str) -> list[dict[str, Any]]:
    links = json.loads(ip(netns, "-j", "addr", "show", "dev", dev))
    return _sorted([{k: v for k, v in a.items() if k not in _VOLATILE_ADDR} for a in links[0]["addr_info"]])


def link(netns: str, dev: str) -> dict[str, Any]:
    info = json.loads(ip(netns, "-j", "link", "show", "dev", dev))[0]
    info = {k: v for k, v in info.items() if k not in _VOLATILE_LINK}
    # LOWER_UP follows the carrier, not anything STN sets.
    info["flags"] = sorted(f for f in info["flags"] if f != "LOWER_UP")
    return info


def routes(netns: str, dev: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for family in ("-4", "-6"):
        for route in json.loads(ip(netns, "-j", family, "route", "show", "table", "all", "dev", dev) or "[]"):
            route = {k: v for k, v in route.items() if k != "expires"}
            out.append({"family": family, **route})
    return _sorted(out)


@dataclass(frozen=True)
class Snapshot:
    link: dict[str, Any]
    addresses: list[dict[str, Any]]
    routes: list[dict[str, Any]]

    @classmethod
    def take(cls, netns: str, dev: str) -> Snapshot:
        return cls(link(netns, dev), addresses(netns, dev), routes(netns, dev))


# Connects to a closed port: a refusal proves the peer answered.
_REACH = r"""
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.settimeout(1)
try:
    s.connect((sys.argv[1], 9))
except ConnectionRefusedError:
    pass
except OSError:
    sys.exit(1)
"""


# ---- the fake node ----------------------------------------------------------

@dataclass
class FakeNode:
    """A node namespace whose NICs are veths into a gateway namespace."""

    ns: str
    gw: str
    nics: tuple[str, ...] = ("nic0", "nic1")

    def snapshot(self, dev: str) -> Snapshot:
        return Snapshot.take(self.ns, dev)

    def stripped(self, dev: str) -> bool:
        return not addresses(self.ns, dev) and not routes(self.ns, dev)

    def restored_to(self, dev: str, before: Snapshot) -> bool:
        return self.snapshot(dev) == before

    def wait_restored(self, dev: str, before: Snapshot, timeout: float = 10) -> None:
        """Polls until `dev` looks exactly as in `before`; on timeout shows the difference."""
        try:
            wait_for(lambda: self.restored_to(dev, before), timeout, f"{dev} to be restored")
        except AssertionError:
            now = self.snapshot(dev)
            assert now.link == before.link
            assert now.addresses == before.addresses
            assert now.routes == before.routes
            raise

    def reaches(self, address: str) -> bool:
        """Whether the node gets an answer from `address` (a TCP reset counts)."""
        return run("ip", "netns", "exec", self.ns, python(), "-c", _REACH, address, check=False).returncode == 0


def build_node() -> FakeNode:
    suffix = secrets.token_hex(4)
    node = FakeNode(ns=f"stnt-{suffix}-n", gw=f"stnt-{suffix}-g")
    try:
        _wire(node)
    except BaseException:
        destroy_node(node)
        raise
    return node


def _ipv6_settled(netns: str, dev: str) -> bool:
    raw = json.loads(ip(netns, "-j", "addr", "show", "dev", dev))[0]["addr_info"]
    link_local = [a for a in raw if a["family"] == "inet6" and a["scope"] == "link"]
    return bool(link_local) and not any(a.get("tentative") for a in raw)


def _wire(node: FakeNode) -> None:
    run("ip", "netns", "add", node.ns)
    run("ip", "netns", "add", node.gw)
    n, g = node.ns, node.gw
    ip(n, "link", "set", "lo", "up")
    # nic0: the NIC of a typical node, with every kind of route users have.
    run("ip", "link", "add", "nic0", "netns", n, "type", "veth", "peer", "name", "gw0", "netns", g)
    ip(g, "link", "set", "gw0", "up")
    ip(g, "addr", "add", "10.50.0.1/24", "dev", "gw0")
    ip(g, "addr", "add", "fd00:50::1/64", "dev", "gw0", "nodad")
    # Answers only through the route via the gateway.
    ip(g, "link", "set", "lo", "up")
    ip(g, "addr", "add", "10.70.0.1/32", "dev", "lo")
    ip(n, "link", "set", "nic0", "up")
    ip(n, "addr", "add", "10.50.0.2/24", "dev", "nic0")
    ip(n, "addr", "add", "10.60.0.2/24", "dev", "nic0")
    ip(n, "addr", "add", "fd00:50::2/64", "dev", "nic0", "nodad")
    ip(n, "route", "add", "default", "via", "10.50.0.1", "dev", "nic0")
    ip(n, "-6", "route", "add", "default", "via", "fd00:50::1", "dev", "nic0")
    ip(n, "route", "add", "10.70.0.0/16", "via", "10.50.0.1", "metric", "50")
    ip(n, "route", "add", "10.80.0.0/24", "dev", "nic0", "scope", "link")
    ip(n, "route", "add", "10.90.0.0/24", "via", "10.50.0.1", "table", "100", "proto", "static")
    # Route attributes a restore must carry over: path MTU, source, onlink.
    ip(n, "route", "add", "10.81.0.0/24", "via", "10.50.0.1", "mtu", "1400")
    ip(n, "route", "add", "10.82.0.0/24", "via", "10.50.0.1", "src", "10.60.0.2")
    ip(n, "route", "add", "10.83.0.0/24", "via", "10.99.0.1", "dev", "nic0", "onlink")
    # nic1: a second NIC, for concurrent requests.
    run("ip", "link", "add", "nic1", "netns", n, "type", "veth", "peer", "name", "gw1", "netns", g)
    ip(g, "link", "set", "gw1", "up")
    ip(g, "addr", "add", "10.51.0.1/24", "dev", "gw1")
    ip(n, "link", "set", "nic1", "up")
    ip(n, "addr", "add", "10.51.0.2/24", "dev", "nic1")
    ip(n, "route", "add", "10.71.0.0/16", "via", "10.51.0.1", "metric", "7")
    # Link-local addresses appear after the links come up, and their local
    # routes only after duplicate address detection; wait for both so the
    # "before" snapshots are settled.
    for dev in node.nics:
        wait_for(lambda dev=dev: _ipv6_settled(n, dev), 10, f"the IPv6 link-local address of {dev}")
    wait_for(lambda: node.reaches("10.50.0.1"), 10, "the gateway to answer")


def destroy_node(node: FakeNode) -> None:
    for ns in (node.ns, node.gw):
        run("ip", "netns", "del", ns, check=False)


# ---- processes --------------------------------------------------------------

@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    socket: Path
    state_dir: Path
    log: Path

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def record_path(self, dev: str) -> Path:
        return self.state_dir / f"{dev}.json"

    def wait_exit(self, timeout: float) -> int:
        return self.proc.wait(timeout)


@dataclass
class Processes:
    """Every process a test starts; all are killed at teardown."""

    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, args: list[str], log: Path, env: dict[str, str] | None = None,
              stdout: int | None = None) -> subprocess.Popen[bytes]:
        full_env = {**os.environ, **(env or {})}
        with open(log, "ab") as log_file:
            proc = subprocess.Popen(args, stdout=stdout if stdout is not None else log_file,
                                    stderr=log_file, env=full_env)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            if proc.stdout is not None:
                proc.stdout.close()


AGENT_STAND_IN = r"""
import http.server, sys
hits = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global hits
        if self.path == "/liveness":
            hits += 1
            body = b'{"alive": true}'
        elif self.path == "/hits":
            body = str(hits).encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CONTIV_STN, *args], capture_output=True, text=True, timeout=60)


def python() -> str:
    return PYTHON if Path(PYTHON).exists() else sys.executable
