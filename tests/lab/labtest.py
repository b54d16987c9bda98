"""Helpers of the lab tests: a lab of its own per test module (unique prefix,
underlay and directory), run through the real `contiv-lab` command."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from lab import netns as labns
from lab.procs import marked_pids
from lab.state import LabState, load

LAB = [str(Path(sys.executable).parent / "contiv-lab")]
T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def lab_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAB, *args], capture_output=True, text=True, timeout=timeout)


def _underlay_in_use(octet: int) -> bool:
    listed = labns.ip("-4", "addr", "show").stdout
    return f" 10.251.{octet}." in listed


class Lab:
    def __init__(self, directory: Path, nodes: int) -> None:
        self.prefix = "lbt" + secrets.token_hex(2)
        octet = 10 + secrets.randbelow(240)
        while _underlay_in_use(octet):
            octet = 10 + secrets.randbelow(240)
        self.underlay = f"10.251.{octet}.0/24"
        self.dir = directory
        self.nodes = nodes
        self.state: LabState | None = None

    def up(self) -> LabState:
        done = lab_cli("up", "--nodes", str(self.nodes), "--dir", str(self.dir), "--prefix", self.prefix,
                       "--underlay", self.underlay)
        assert done.returncode == 0, f"up failed:\n{done.stdout}\n{done.stderr}\n{self.logs()}"
        self.state = load(self.dir)
        assert self.state is not None
        return self.state

    def down(self) -> subprocess.CompletedProcess[str]:
        return lab_cli("down", "--dir", str(self.dir), "--prefix", self.prefix)

    def logs(self) -> str:
        logs = self.dir / "logs"
        if not logs.exists():
            return ""
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in sorted(logs.iterdir()))

    def leftovers(self) -> list[str]:
        owned = f"{self.prefix}-"
        found = [f"netns {n}" for n in labns.list_netns(owned)] + [f"link {n}" for n in labns.list_links(owned)]
        found += [f"process {pid}" for pid in marked_pids(self.prefix)]
        if self.dir.exists():
            found.append(f"dir {self.dir}: {sorted(p.name for p in self.dir.iterdir())}")
        return found

    # --- the API --------------------------------------------------------------------------

    @property
    def api(self) -> str:
        assert self.state is not None
        return self.state.api_url

    def create_pod(self, name: str, node: str | None = None, echo: bool = True) -> dict[str, Any]:
        pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                               "spec": {"containers": [{"name": "c", "image": "contiv/echo" if echo else "pause"}]}}
        if node:
            pod["spec"]["nodeName"] = node
        reply = httpx.post(f"{self.api}/api/v1/namespaces/default/pods", json=pod, timeout=10)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def get_pod(self, name: str) -> dict[str, Any] | None:
        reply = httpx.get(f"{self.api}/api/v1/namespaces/default/pods/{name}", timeout=10)
        return reply.json() if reply.status_code == 200 else None

    def delete_pod(self, name: str) -> None:
        httpx.delete(f"{self.api}/api/v1/namespaces/default/pods/{name}", timeout=10)

    def wait_running(self, name: str, timeout: float = 30) -> dict[str, Any]:
        def running() -> dict[str, Any] | None:
            pod = self.get_pod(name)
            status = (pod or {}).get("status") or {}
            return pod if status.get("phase") == "Running" and status.get("podIP") else None
        try:
            return wait_for(running, timeout, f"pod {name} to run with an IP")
        except AssertionError:
            raise AssertionError(f"pod {name}: {self.get_pod(name)}\n{self.logs()}") from None

    def probe(self, source_pod: dict[str, Any], ip: str, port: int = 8080) -> dict[str, Any]:
        from lab.runtime import REPO, sandbox_netns
        meta = source_pod["metadata"]
        netns = sandbox_netns(self.prefix, meta["namespace"], meta["name"], meta["uid"])
        done = subprocess.run(labns.exec_in(netns, sys.executable, "-m", "lab.tcpecho", "probe", ip, str(port),
                                            "--timeout", "2"), capture_output=True, text=True, cwd=REPO, timeout=20)
        return json.loads(done.stdout)
