"""The agent with `--dataplane vpp` against the VPP stand-in: CNI ADD/DEL
through the real executable, and a restart that changes nothing."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import netns as labns
from lab.vpp_standin.config import StandinConfig
from lab.vpp_standin.harness import StandinProcess
from tests.agent.nodefixture import TestNode, make_node, wait_for

pytestmark = pytest.mark.root

APIDIR = Path(__file__).resolve().parents[2].parent / "shared" / "vpp-api"


@pytest.fixture
def vpp_node(tmp_path: Path) -> Iterator[tuple[TestNode, StandinProcess]]:
    standin = StandinProcess(tmp_path / "vpp-api.sock", APIDIR, StandinConfig(vhost_net=False))
    standin.start()
    node = make_node(tmp_path)
    try:
        node.setup_without_agent()
        node.agent_env = {"CONTIV_AGENT_DATAPLANE": "vpp",
                          "CONTIV_AGENT_VPP__API_SOCKET": str(tmp_path / "vpp-api.sock")}
        node.start_agent()
        yield node, standin
    finally:
        node.teardown()
        standin.stop()


def pod_interfaces(standin: StandinProcess) -> list:
    return [i for i in standin.control.snapshot().interfaces if i.tag.startswith("contiv-pod")]


def routes_in_pod_vrf(standin: StandinProcess) -> set[str]:
    table = standin.control.snapshot().table(1)
    return {r.prefix for r in table.routes} if table else set()


def test_cni_add_and_del_program_vpp(vpp_node) -> None:
    node, standin = vpp_node
    pod = node.new_pod_netns()
    result = node.cni("ADD", "c-vpp", pod)
    assert result.ok, result.output
    ip = result.output["ips"][0]["address"].split("/")[0]
    assert len(pod_interfaces(standin)) == 1
    assert f"{ip}/32" in routes_in_pod_vrf(standin)
    neighbours = standin.control.snapshot().neighbors
    assert any(n.ip_address == ip for n in neighbours)
    links = json.loads(labns.ip("-j", "addr", "show", "eth0", netns=pod).stdout)
    assert [a["local"] for a in links[0]["addr_info"] if a["family"] == "inet"] == [ip]

    assert node.cni("DEL", "c-vpp", pod).ok
    assert pod_interfaces(standin) == []
    assert f"{ip}/32" not in routes_in_pod_vrf(standin)


def test_agent_restart_against_vpp_changes_nothing(vpp_node) -> None:
    node, standin = vpp_node
    pod = node.new_pod_netns()
    assert node.cni("ADD", "c-vpp", pod).ok
    node.stop_agent(signal.SIGTERM)
    node.start_agent()
    resyncs = wait_for(lambda: [t for t in node.rest_get("/controller/event-history") if t["resync"]], 10,
                       "the restart's resync")
    assert resyncs[-1]["operations"] == [], resyncs[-1]
    assert len(pod_interfaces(standin)) == 1
