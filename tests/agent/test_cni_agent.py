"""Pods get networking on a node: the real CNI executable, the real agent,
real network namespaces, veths and routes, a real etcd."""

from __future__ import annotations

import json
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from lab import netns as labns
from tests.agent.nodefixture import TestNode, wait_for

pytestmark = pytest.mark.root


def addresses(node: TestNode, pod: str) -> dict[str, list[str]]:
    links = json.loads(labns.ip("-j", "addr", "show", netns=pod).stdout)
    return {l["ifname"]: [f"{a['local']}/{a['prefixlen']}" for a in l.get("addr_info", []) if a["family"] == "inet"]
            for l in links}


def routes(pod: str) -> set[tuple[str, str]]:
    return {(r["dst"], r.get("gateway", "")) for r in json.loads(labns.ip("-j", "route", "show", netns=pod).stdout)}


def host_veths(node: TestNode) -> set[str]:
    links = json.loads(labns.ip("-j", "link", "show", netns=node.name).stdout)
    return {l["ifname"] for l in links if l["ifname"].startswith("cv")}


def ipam_keys(node: TestNode) -> set[str]:
    from lab.netns import run
    out = run("etcdctl", "--endpoints", node.etcd.endpoint, "get", "--prefix", "--keys-only", "/contiv/ipam/",
              ).stdout
    return {line.rsplit("/", 1)[1] for line in out.split() if line}


def pod_ip(result) -> str:
    return result.output["ips"][0]["address"].split("/")[0]


def test_add_wires_the_pod_and_returns_the_spec_result(node: TestNode) -> None:
    pod = node.new_pod_netns()
    result = node.cni("ADD", "c-add", pod, pod="web-0")
    assert result.ok, result.output
    out = result.output
    assert out["cniVersion"] == "1.1.0"
    ip = pod_ip(out and result)
    assert ip.startswith("10.1.1.") and out["ips"][0]["gateway"] == "10.1.1.1"
    sandbox = [i for i in out["interfaces"] if i.get("sandbox")]
    assert sandbox and sandbox[0]["name"] == "eth0" and sandbox[0]["sandbox"] == f"/var/run/netns/{pod}"
    assert addresses(node, pod)["eth0"] == [f"{ip}/32"]
    assert routes(pod) == {("default", "10.1.1.1"), ("10.1.1.1", "")}
    neighbours = json.loads(labns.ip("-j", "neigh", "show", netns=pod).stdout)
    assert any(n["dst"] == "10.1.1.1" and "PERMANENT" in n["state"] for n in neighbours)
    host_routes = json.loads(labns.ip("-j", "route", "show", netns=node.name).stdout)
    assert any(r["dst"] == ip for r in host_routes)
    assert ip in ipam_keys(node)
    assert [p["pod_name"] for p in node.rest_get("/contiv/v1/pods")] == ["web-0"]


def test_two_pods_reach_each_other_and_the_node_over_tcp(node: TestNode) -> None:
    a, b = node.new_pod_netns(), node.new_pod_netns()
    ip_a = pod_ip(node.cni("ADD", "c-a", a))
    ip_b = pod_ip(node.cni("ADD", "c-b", b))
    servers = [node.start_echo(b), node.start_echo(node.name, port=8081)]
    try:
        assert node.probe(a, ip_b)["ok"] == 1
        assert node.probe(a, node.node_ip, port=8081)["ok"] == 1
        assert node.probe(node.name, ip_a, port=8081)["failed"] == 1  # nothing listens in a: refused, not lost
    finally:
        for server in servers:
            server.kill()


def test_del_removes_every_trace_and_is_idempotent(node: TestNode) -> None:
    pod = node.new_pod_netns()
    ip = pod_ip(node.cni("ADD", "c-del", pod))
    assert node.cni("DEL", "c-del", pod).ok
    assert "eth0" not in addresses(node, pod)
    assert host_veths(node) == set()
    assert ip not in ipam_keys(node)
    assert not any(r["dst"] == ip for r in json.loads(labns.ip("-j", "route", "show", netns=node.name).stdout))
    assert node.rest_get("/contiv/v1/pods") == []
    # Again, without a netns, and for a container never seen.
    assert node.cni("DEL", "c-del", pod).ok
    assert node.cni("DEL", "c-del", None).ok
    assert node.cni("DEL", "never-added", None).ok


def test_repeated_add_returns_the_same_result(node: TestNode) -> None:
    pod = node.new_pod_netns()
    first = node.cni("ADD", "c-rep", pod)
    second = node.cni("ADD", "c-rep", pod)
    assert first.ok and second.ok and first.output == second.output
    assert len(ipam_keys(node)) == 1 and len(host_veths(node)) == 1


def test_check_knows_wired_pods_and_unknown_containers(node: TestNode) -> None:
    pod = node.new_pod_netns()
    assert node.cni("ADD", "c-chk", pod).ok
    assert node.cni("CHECK", "c-chk", pod).ok
    unknown = node.cni("CHECK", "c-unknown", pod)
    assert unknown.code == 3 and "unknown" in unknown.output["msg"]

    # Drift inside the pod is found in the dataplane itself, and CHECK
    # reports it without changing anything.
    labns.ip("route", "del", "default", netns=pod)
    drifted = node.cni("CHECK", "c-chk", pod)
    assert not drifted.ok and "linux/route" in drifted.output["msg"] and "0.0.0.0/0" in drifted.output["msg"]
    assert ("default", "10.1.1.1") not in routes(pod)


def test_50_concurrent_adds_get_50_distinct_addresses(node: TestNode) -> None:
    pods = [node.new_pod_netns() for _ in range(50)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda p: node.cni("ADD", f"c-{p}", p), pods))
    assert all(r.ok for r in results), [r.output for r in results if not r.ok][:3]
    ips = {pod_ip(r) for r in results}
    assert len(ips) == 50
    assert ipam_keys(node) == ips
    assert len(host_veths(node)) == 50


def test_agent_killed_during_an_add_storm_leaves_no_duplicate_leak_or_orphan(node: TestNode) -> None:
    pods = [node.new_pod_netns() for _ in range(30)]
    answered = threading.Semaphore(0)

    def add(pod: str):
        result = node.cni("ADD", f"c-{pod}", pod)
        answered.release()
        return result

    with ThreadPoolExecutor(max_workers=30) as pool:
        futures = [pool.submit(add, p) for p in pods]
        for _ in range(8):
            answered.acquire(timeout=60)
        node.stop_agent(signal.SIGKILL)
        results = [f.result() for f in futures]
    node.start_agent()

    # The runtime's way: a failed ADD is cleaned up with DEL, then retried.
    final = {}
    for pod, result in zip(pods, results):
        if not result.ok:
            assert result.code == 11 or result.output.get("code"), result.output
            assert node.cni("DEL", f"c-{pod}", pod).ok
            result = node.cni("ADD", f"c-{pod}", pod)
        assert result.ok, result.output
        final[pod] = pod_ip(result)
    assert len(set(final.values())) == 30
    assert ipam_keys(node) == set(final.values())
    assert len(host_veths(node)) == 30
    for pod, ip in final.items():
        assert addresses(node, pod)["eth0"] == [f"{ip}/32"]


def test_agent_restart_changes_nothing_and_traffic_keeps_flowing(node: TestNode) -> None:
    a, b = node.new_pod_netns(), node.new_pod_netns()
    assert node.cni("ADD", "c-a", a).ok
    ip_b = pod_ip(node.cni("ADD", "c-b", b))
    server = node.start_echo(b)
    try:
        results: dict = {}
        prober = threading.Thread(target=lambda: results.update(node.probe(a, ip_b, count=60, interval=0.05)))
        prober.start()
        node.stop_agent(signal.SIGTERM)
        node.start_agent()
        prober.join(timeout=120)
        assert results["failed"] == 0 and results["ok"] == 60, results
    finally:
        server.kill()
    history = node.rest_get("/controller/event-history")
    resyncs = [t for t in history if t["resync"]]
    assert resyncs and resyncs[-1]["operations"] == [], resyncs[-1]
    assert len(node.rest_get("/contiv/v1/pods")) == 2


def test_netns_outside_the_namespace_directories_is_refused(node: TestNode, tmp_path) -> None:
    outside = tmp_path / "fake-netns"
    outside.write_text("")
    result = node.cni("ADD", "c-out", str(outside))
    assert not result.ok and result.output["code"] in (4, 7)
    assert "netns" in result.output["msg"]
    # A real namespace mounted elsewhere is refused too, by where it is.
    result = node.cni("ADD", "c-out", "/proc/self/ns/net/../net")
    assert not result.ok
    assert ipam_keys(node) == set() and host_veths(node) == set()


def test_bad_invocations_get_the_spec_error_codes(node: TestNode) -> None:
    pod = node.new_pod_netns()
    assert node.cni("ADD", "c-x", pod, config=b"{not json").code == 6
    missing = node.cni("ADD", None, pod)
    assert missing.code == 4 and "CNI_CONTAINERID" in missing.output["msg"]
    assert node.cni("ADD", "c-x", None).code == 4
    assert node.cni("ADD", "c-x", pod, config=node.network_config(cniVersion="9.9.9")).code == 1
    assert ipam_keys(node) == set()


def test_cni_socket_is_private(node: TestNode) -> None:
    import os
    import stat
    assert stat.S_IMODE(os.stat(node.socket).st_mode) == 0o600


def test_status_reports_ready_and_unreachable_agent_means_try_again(node: TestNode) -> None:
    assert node.cni("STATUS", None, None, ifname=None).ok
    node.stop_agent(signal.SIGKILL)
    pod = node.new_pod_netns()
    assert node.cni("ADD", "c-later", pod).code == 11
    assert node.cni("STATUS", None, None, ifname=None).code == 50
