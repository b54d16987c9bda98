"""Node-to-node connectivity: the VXLAN full mesh between real agents."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import netns as labns
from tests.agent.meshfixture import MeshCluster, make_cluster
from tests.agent.nodefixture import wait_for

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[MeshCluster]:
    mesh = make_cluster(tmp_path)
    try:
        mesh.setup()
        yield mesh
    finally:
        mesh.teardown()


def pod_ip(result) -> str:
    assert result.ok, result.output
    return result.output["ips"][0]["address"].split("/")[0]


def test_every_pod_reaches_every_other_pod_across_three_nodes(cluster: MeshCluster) -> None:
    nodes = [cluster.add_node() for _ in range(3)]
    pods = []
    for node in nodes:
        pod = node.new_pod_netns()
        pods.append((node, pod, pod_ip(node.cni("ADD", f"c-{pod}", pod))))
    servers = [node.start_echo(pod) for node, pod, _ in pods]
    try:
        for node, pod, _ in pods:
            for _, _, target in pods:
                result = wait_for(lambda: node.probe(pod, target)["ok"] == 1, 20, f"{pod} -> {target}")
                assert result
    finally:
        for server in servers:
            server.kill()


def test_a_node_that_joins_is_meshed_and_one_that_leaves_is_removed(cluster: MeshCluster) -> None:
    first, second = cluster.add_node(), cluster.add_node()
    third = cluster.add_node()
    third_id = third.node_id()
    third_subnet = f"10.1.{third_id}.0/24"
    wait_for(lambda: third_subnet in first.routes() and third_subnet in second.routes(), 20,
             "the new node's pod subnet to be routed on the others")

    # The third node leaves: its agent stops and its record is deleted.
    third.stop_agent(signal.SIGTERM)
    labns.run("etcdctl", "--endpoints", cluster.etcd.endpoint, "del", f"/contiv/nodes/{third_id}")
    wait_for(lambda: third_subnet not in first.routes() and third_subnet not in second.routes(), 20,
             "the departed node's routes to disappear")
    for node in (first, second):
        neighbours = json.loads(labns.ip("-j", "neigh", "show", "dev", "vxlan-contiv", netns=node.name).stdout)
        assert f"192.168.30.{third_id}" not in {n["dst"] for n in neighbours}
        fdb = labns.run(*labns.exec_in(node.name, "bridge", "-j", "fdb", "show", "dev", "vxlan-contiv")).stdout
        assert third.node_ip not in {e.get("dst") for e in json.loads(fdb)}


def test_agent_restart_keeps_cross_node_traffic_and_changes_nothing(cluster: MeshCluster) -> None:
    a, b = cluster.add_node(), cluster.add_node()
    pod_a, pod_b = a.new_pod_netns(), b.new_pod_netns()
    pod_ip(a.cni("ADD", "c-a", pod_a))
    ip_b = pod_ip(b.cni("ADD", "c-b", pod_b))
    server = b.start_echo(pod_b)
    try:
        wait_for(lambda: a.probe(pod_a, ip_b)["ok"] == 1, 20, "cross-node reachability")
        results: dict = {}
        prober = threading.Thread(target=lambda: results.update(a.probe(pod_a, ip_b, count=60, interval=0.05)))
        prober.start()
        a.stop_agent(signal.SIGTERM)
        a.start_agent()
        prober.join(timeout=120)
        assert results["failed"] == 0, results
    finally:
        server.kill()
    resyncs = [t for t in a.rest_get("/controller/event-history") if t["resync"]]
    assert resyncs[-1]["operations"] == [], resyncs[-1]


def test_agents_resume_after_an_etcd_restart(cluster: MeshCluster) -> None:
    a, b = cluster.add_node(), cluster.add_node()
    cluster.etcd.restart()
    c = cluster.add_node()
    subnet = f"10.1.{c.node_id()}.0/24"
    wait_for(lambda: subnet in a.routes() and subnet in b.routes(), 30, "agents to see a node added after the restart")
