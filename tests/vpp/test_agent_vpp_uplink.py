"""The agent on VPP with a stolen NIC: VPP takes the NIC's addresses and
routes on its uplink, the node's Linux keeps its address and reaches pods,
services and the network through VPP, and a clean shutdown gives the NIC
back."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import netns as labns
from lab.vpp_standin.config import StandinConfig
from lab.vpp_standin.harness import StandinProcess
from tests.agent.nodefixture import TestNode, make_node, nic_state, start_stn_with_nic, wait_for

from .test_agent_vpp import APIDIR

pytestmark = pytest.mark.root


@pytest.fixture
def vpp_stn_node(tmp_path: Path) -> Iterator[tuple[TestNode, StandinProcess]]:
    standin = StandinProcess(tmp_path / "vpp-api.sock", APIDIR, StandinConfig(vhost_net=False))
    standin.start()
    node = make_node(tmp_path)
    stn: subprocess.Popen | None = None
    try:
        node.setup_without_agent()
        node.agent_env = {"CONTIV_AGENT_DATAPLANE": "vpp",
                          "CONTIV_AGENT_VPP__API_SOCKET": str(tmp_path / "vpp-api.sock")}
        stn = start_stn_with_nic(node, tmp_path)
        node.start_agent()
        yield node, standin
    finally:
        if stn is not None:
            stn.kill()
        node.teardown()
        standin.stop()


def host_routes(node: TestNode) -> dict[str, dict]:
    routes = json.loads(labns.ip("-j", "route", "show", "dev", "vpp-host", netns=node.name).stdout)
    return {r["dst"]: r for r in routes}


def test_vpp_takes_the_stolen_nic_and_linux_routes_through_vpp(vpp_stn_node) -> None:
    node, standin = vpp_stn_node
    snapshot = standin.control.snapshot()
    uplink = snapshot.interface("host-nic0")
    assert uplink is not None and uplink.tag == "contiv-uplink-main" and uplink.admin_up
    assert uplink.addresses == ["10.77.0.2/24"]
    table0 = {r.prefix: r for r in snapshot.table(0).routes}
    via_gateway = table0["10.78.0.0/16"].paths[0]
    assert (via_gateway.sw_if_index, via_gateway.next_hop) == (uplink.sw_if_index, "10.77.0.1")
    assert table0["0.0.0.0/0"].paths[0].next_hop == "10.77.0.1" if "0.0.0.0/0" in table0 else True
    # Table 0 hands pod traffic to the pod VRF.
    assert table0["10.1.0.0/16"].paths[0].table_id == 1
    host_link = next(i for i in snapshot.interfaces if i.tag == "contiv-host-main")
    assert host_link.addresses == ["172.30.1.1/24"]
    assert snapshot.stn_rules == {"10.77.0.2": host_link.sw_if_index}

    # Linux: the NIC is bare; the node's address and routes ride the interconnect.
    assert nic_state(node)[0] == []
    addrs = json.loads(labns.ip("-j", "addr", "show", "vpp-host", netns=node.name).stdout)[0]["addr_info"]
    assert {f"{a['local']}/{a['prefixlen']}" for a in addrs if a["family"] == "inet"} == {"172.30.1.2/24",
                                                                                            "10.77.0.2/32"}
    routes = host_routes(node)
    assert {dst: r["gateway"] for dst, r in routes.items() if "gateway" in r} == {
        "10.1.0.0/16": "172.30.1.1", "10.96.0.0/12": "172.30.1.1",
        "10.77.0.0/24": "172.30.1.1", "10.78.0.0/16": "172.30.1.1"}
    assert routes["10.78.0.0/16"]["prefsrc"] == "10.77.0.2"
    # Should STN put the NIC back behind the agent's back, the NIC's own routes win.
    assert routes["10.78.0.0/16"]["metric"] > 1024 and "metric" not in routes["10.1.0.0/16"]
    neighbours = json.loads(labns.ip("-j", "neigh", "show", "dev", "vpp-host", netns=node.name).stdout)
    assert [n["dst"] for n in neighbours if "PERMANENT" in n.get("state", [])] == ["172.30.1.1"]


def test_restart_changes_nothing_and_shutdown_gives_the_nic_back(vpp_stn_node) -> None:
    node, standin = vpp_stn_node
    node.stop_agent(signal.SIGKILL)
    node.start_agent()
    resyncs = wait_for(lambda: [t for t in node.rest_get("/controller/event-history") if t["resync"]], 10,
                       "the restart's resync")
    assert resyncs[-1]["operations"] == [], resyncs[-1]

    node.stop_agent(signal.SIGTERM)
    addresses, routes = nic_state(node)
    assert addresses == ["10.77.0.2/24"] and "10.78.0.0/16" in routes
