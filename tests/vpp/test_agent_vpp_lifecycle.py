"""The agent running VPP itself (the stand-in behind VPP's command line):
start-up from the rendered startup.conf, VPP's health in /readiness, the NIC
back with Linux while VPP is down, a restart that rebuilds VPP's state, and
signals passed on to VPP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.agent.nodefixture import TestNode, make_node, nic_state, start_stn_with_nic, wait_for

from .conftest import APIDIR

pytestmark = pytest.mark.root

VPPEXEC = [sys.executable, "-m", "lab.vpp_standin.vppexec"]


def readiness(node: TestNode) -> tuple[int, dict]:
    reply = httpx.get(f"{node.rest}/readiness", timeout=2)
    return reply.status_code, reply.json()


def vpp_pid(node: TestNode) -> int | None:
    try:
        return readiness(node)[1]["dataplane"]["process"]["pid"]
    except (httpx.HTTPError, KeyError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start_node(tmp: Path, sock_dir: Path, restart: str) -> tuple[TestNode, subprocess.Popen]:
    api_socket = sock_dir / "api.sock"
    config = {"vpp": {"api_socket": str(api_socket), "process": {
        "enabled": True, "command": VPPEXEC, "startup_conf": str(tmp / "vpp" / "startup.conf"),
        "restart": restart, "restart_delay": 2.0, "stop_timeout": 5.0,
        "startup": {"api_socket": str(api_socket), "cli_socket": str(sock_dir / "cli.sock"),
                    "log": str(tmp / "vpp" / "vpp.log"), "hugepages": False}}}}
    (tmp / "agent.yaml").write_text(yaml.safe_dump(config))
    node = make_node(tmp)
    node.setup_without_agent()
    node.agent_env = {"CONTIV_AGENT_DATAPLANE": "vpp", "CONTIV_STANDIN_APIDIR": str(APIDIR),
                      "CONTIV_STANDIN_VHOST_NET": "no"}
    node.agent_args = ["--config", str(tmp / "agent.yaml")]
    stn = start_stn_with_nic(node, tmp)
    node.start_agent()
    return node, stn


@pytest.fixture
def node_factory(tmp_path: Path, sock_dir: Path) -> Iterator:
    """Nodes whose agent runs VPP; sock_dir (conftest) keeps socket paths short."""
    started: list[tuple[TestNode, subprocess.Popen]] = []

    def make(restart: str = "always") -> TestNode:
        started.append(start_node(tmp_path, sock_dir, restart))
        return started[-1][0]

    yield make
    for node, stn in started:
        pid = vpp_pid(node) if node.agent is not None and node.agent.poll() is None else None
        node.teardown()
        if pid is not None and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        stn.kill()


def test_agent_starts_vpp_and_reports_it_ready(node_factory, tmp_path: Path) -> None:
    node = node_factory()
    status, body = readiness(node)
    assert status == 200 and body["dataplane"]["connected"] and body["dataplane"]["process"]["running"]
    assert "socket-name" in (tmp_path / "vpp" / "startup.conf").read_text()
    pod = node.new_pod_netns()
    assert node.cni("ADD", "c-life", pod).ok
    assert nic_state(node)[0] == []  # VPP holds the NIC's address now


def test_vpp_crash_gives_the_nic_back_then_restart_rebuilds(node_factory) -> None:
    node = node_factory()
    pod = node.new_pod_netns()
    assert node.cni("ADD", "c-crash", pod).ok
    first = vpp_pid(node)
    assert first is not None
    os.kill(first, signal.SIGKILL)

    # While VPP is down: not ready, and the node's address is back on its NIC.
    wait_for(lambda: readiness(node)[0] == 503, 5, "readiness to drop")
    wait_for(lambda: nic_state(node)[0] == ["10.77.0.2/24"], 5, "the NIC back with Linux")
    assert "10.78.0.0/16" in nic_state(node)[1]

    # Restarted by policy: a new VPP, the NIC VPP's again, the pod rebuilt.
    wait_for(lambda: readiness(node)[0] == 200 and vpp_pid(node) not in (None, first), 20, "VPP restarted")
    wait_for(lambda: nic_state(node)[0] == [], 5, "the NIC stolen again")
    wait_for(lambda: any(k.startswith("vpp/interface/contiv-pod-")
                         for k in node.rest_get("/scheduler/dump")["applied"]), 10, "the pod rebuilt")
    assert node.cni("CHECK", "c-crash", pod).ok


def test_sigterm_reaches_vpp_and_the_nic_goes_back(node_factory) -> None:
    node = node_factory()
    pid = vpp_pid(node)
    assert pid is not None
    node.stop_agent(signal.SIGTERM)
    wait_for(lambda: not pid_alive(pid), 10, "VPP to exit")
    addresses, routes = nic_state(node)
    assert addresses == ["10.77.0.2/24"] and "10.78.0.0/16" in routes


def test_policy_never_ends_the_agent_with_a_clear_message(node_factory) -> None:
    node = node_factory(restart="never")
    pid = vpp_pid(node)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert node.agent is not None
    assert node.agent.wait(timeout=20) == 1
    assert node.agent_log is not None and "restart policy 'never'" in node.agent_log.read_text()
    node.agent = None
    assert nic_state(node)[0] == ["10.77.0.2/24"]


def test_vpp_dies_with_a_killed_agent_and_the_next_agent_runs_its_own(node_factory) -> None:
    node = node_factory()
    first = vpp_pid(node)
    assert first is not None
    node.stop_agent(signal.SIGKILL)
    wait_for(lambda: not pid_alive(first), 10, "VPP to die with its agent")
    node.start_agent()
    assert vpp_pid(node) not in (None, first)
    assert readiness(node)[0] == 200
