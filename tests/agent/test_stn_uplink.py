"""The agent with STN: the NIC is stolen before the dataplane starts, the node
keeps its addresses and routes, and the NIC goes back on a clean shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import netns as labns
from tests.agent.nodefixture import TestNode, make_node, nic_state, start_stn_with_nic, stn_show

pytestmark = pytest.mark.root


@pytest.fixture
def stn_node(tmp_path: Path) -> Iterator[tuple[TestNode, subprocess.Popen]]:
    node = make_node(tmp_path)
    stn = None
    try:
        node.setup_without_agent()
        stn = start_stn_with_nic(node, tmp_path)
        node.start_agent()
        yield node, stn
    finally:
        if stn is not None:
            stn.kill()
        node.teardown()


def test_stolen_nic_keeps_the_node_connected_and_is_given_back(stn_node, tmp_path: Path) -> None:
    node, _ = stn_node
    socket = str(tmp_path / "stn.sock")
    # Stolen by STN, then put back on the node's side by the agent.
    assert [s["interface_name"] for s in stn_show(node, socket)] == ["nic0"]
    addresses, routes = nic_state(node)
    assert addresses == ["10.77.0.2/24"] and "10.78.0.0/16" in routes
    dump = node.rest_get("/scheduler/dump")["applied"]
    assert "linux/address/host/nic0/10.77.0.2/24" in dump and "linux/route/host/10.78.0.0/16" in dump

    # A restart finds the NIC already stolen and changes nothing.
    node.stop_agent(signal.SIGKILL)
    node.start_agent()
    resyncs = [t for t in node.rest_get("/controller/event-history") if t["resync"]]
    assert resyncs[-1]["operations"] == []

    # A clean shutdown gives the NIC back, configured as before.
    node.stop_agent(signal.SIGTERM)
    assert stn_show(node, socket) == [] or all(not s for s in stn_show(node, socket))
    addresses, routes = nic_state(node)
    assert addresses == ["10.77.0.2/24"] and "10.78.0.0/16" in routes


def test_first_nic_is_the_one_with_the_best_default_route(tmp_path: Path) -> None:
    name = f"upl{tmp_path.name[-6:]}".replace("_", "")[:12]
    labns.add_netns(name)
    try:
        for nic, peer, net, metric in (("nicA", "peerA", "10.81", "200"), ("nicB", "peerB", "10.82", "100")):
            labns.ip("link", "add", nic, "type", "veth", "peer", "name", peer, netns=name)
            labns.ip("addr", "add", f"{net}.0.2/24", "dev", nic, netns=name)
            labns.ip("link", "set", nic, "up", netns=name)
            labns.ip("link", "set", peer, "up", netns=name)
            labns.ip("route", "add", "default", "via", f"{net}.0.1", "metric", metric, netns=name)
        code = "import asyncio; from vswitch.uplink import default_route_interface as f; print(asyncio.run(f()))"
        done = subprocess.run(labns.exec_in(name, sys.executable, "-c", code), capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[2])
        assert done.stdout.strip() == "nicB", done.stderr
    finally:
        labns.delete_netns(name)
