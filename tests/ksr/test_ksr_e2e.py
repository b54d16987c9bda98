"""The KSR end to end: a real `contiv-ksr` process, the Kubernetes API
stand-in driven through the official client, and real etcd servers."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from kubernetes import client as k8s

from kvstore import EtcdConfig, KVStore, Lease
from lab.etcd import EtcdServer, free_port
from model import ENDPOINTS, NAMESPACE, NODE, POD, POLICY, SERVICE, KeyKind, Pod
from tests.ksr.ksrlib import KEYS, KSR_BINARY, PREFIX, KsrProcess, reflected, wait_converged, wait_for

pytestmark = pytest.mark.slow

DEADLINE = 20.0


async def stored(store: KVStore, kind: KeyKind, *parts: str):
    item = await store.get(kind.model, KEYS.key(kind, *parts))
    return item.value if item is not None else None


async def wait_value(store: KVStore, kind: KeyKind, *parts: str, check=lambda v: v is not None,
                     timeout: float = DEADLINE):
    async def ready():
        value = await stored(store, kind, *parts)
        return value if check(value) else None

    return await wait_for(ready, timeout, f"{kind.name} {'/'.join(parts)} in etcd")


async def wait_gone(store: KVStore, kind: KeyKind, *parts: str, timeout: float = DEADLINE) -> None:
    async def gone() -> bool:
        return await store.get_raw(KEYS.key(kind, *parts)) is None

    await wait_for(gone, timeout, f"{kind.name} {'/'.join(parts)} to leave etcd")


def pod_body(name: str, labels: dict | None = None, port: int = 8080) -> dict:
    return {"metadata": {"name": name, "labels": labels or {"app": "web"},
                         "annotations": {"contivpp.io/custom-if": "memif1", "other.io/x": "dropped"}},
            "spec": {"nodeName": "node-a",
                     "containers": [{"name": "app", "image": "nginx",
                                     "ports": [{"name": "http", "containerPort": port}]}]}}


def set_pod_ip(core: k8s.CoreV1Api, namespace: str, name: str, ip: str) -> None:
    pod = core.read_namespaced_pod(name, namespace)
    pod.status = k8s.V1PodStatus(phase="Running", host_ip="192.168.16.1", pod_ip=ip,
                                 pod_ips=[k8s.V1PodIP(ip=ip)],
                                 conditions=[k8s.V1PodCondition(type="Ready", status="True")])
    core.replace_namespaced_pod_status(name, namespace, pod)


def slice_body(name: str, service: str, *ips: str) -> dict:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": "node-a"} for ip in ips],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def make_namespace(core: k8s.CoreV1Api, name: str) -> None:
    core.create_namespace({"metadata": {"name": name}})


# --- create, update, delete ---------------------------------------------------------


async def test_every_kind_is_reflected_on_create_update_and_delete(kube, core, start_ksr, ksr_store, apiserver) -> None:
    ksr = start_ksr()
    await ksr.wait_role("leader")
    discovery, networking = k8s.DiscoveryV1Api(kube), k8s.NetworkingV1Api(kube)

    core.create_namespace({"metadata": {"name": "shop", "labels": {"team": "a"}}})
    core.create_node({"metadata": {"name": "node-a", "labels": {"zone": "z1"}}, "spec": {"podCIDR": "10.1.1.0/24"}})
    core.create_namespaced_pod("shop", pod_body("web-0"))
    set_pod_ip(core, "shop", "web-0", "10.1.1.5")
    core.create_namespaced_service("shop", {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
    discovery.create_namespaced_endpoint_slice("shop", slice_body("web-1", "web", "10.1.1.5"))
    discovery.create_namespaced_endpoint_slice("shop", slice_body("web-2", "web", "10.1.1.6"))
    networking.create_namespaced_network_policy("shop", {
        "metadata": {"name": "allow-web"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                 "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}}],
                              "ports": [{"port": 8000, "endPort": 8100}]}]}})

    namespace = await wait_value(ksr_store, NAMESPACE, "shop")
    assert namespace.name == "shop" and namespace.labels["team"] == "a"
    node = await wait_value(ksr_store, NODE, "node-a")
    assert node.pod_cidrs == ("10.1.1.0/24",) and node.labels == {"zone": "z1"}
    pod = await wait_value(ksr_store, POD, "shop", "web-0", check=lambda p: p is not None and p.pod_ips)
    assert pod.pod_ips == ("10.1.1.5",) and pod.node_name == "node-a" and pod.phase == "Running"
    assert pod.annotations == {"contivpp.io/custom-if": "memif1"}
    service = await wait_value(ksr_store, SERVICE, "shop", "web")
    api_service = core.read_namespaced_service("web", "shop")
    assert service.cluster_ips == tuple(api_service.spec.cluster_ips or [api_service.spec.cluster_ip])
    assert service.ports[0].target_port == "http"
    endpoints = await wait_value(ksr_store, ENDPOINTS, "shop", "web",
                                 check=lambda e: e is not None and len(e.endpoints) == 2)
    assert [e.addresses for e in endpoints.endpoints] == [("10.1.1.5",), ("10.1.1.6",)]
    policy = await wait_value(ksr_store, POLICY, "shop", "allow-web")
    assert policy.ingress[0].peers[0].ip_block.except_ == ("10.9.0.0/16",)
    assert policy.ingress[0].ports[0].end_port == 8100

    # Updates.
    ns = core.read_namespace("shop")
    ns.metadata.labels = {"team": "b"}
    core.replace_namespace("shop", ns)
    api_pod = core.read_namespaced_pod("web-0", "shop")
    api_pod.metadata.labels = {"app": "web", "version": "2"}
    core.replace_namespaced_pod("web-0", "shop", api_pod)
    api_service = core.read_namespaced_service("web", "shop")
    api_service.spec.ports[0].port = 8081
    core.replace_namespaced_service("web", "shop", api_service)
    discovery.replace_namespaced_endpoint_slice("web-2", "shop", {
        **slice_body("web-2", "web", "10.1.1.7"),
        "metadata": {"name": "web-2", "labels": {"kubernetes.io/service-name": "web"},
                     "resourceVersion": discovery.read_namespaced_endpoint_slice("web-2", "shop").metadata.resource_version}})
    api_policy = networking.read_namespaced_network_policy("allow-web", "shop")
    api_policy.spec.pod_selector = k8s.V1LabelSelector(match_labels={"app": "api"})
    networking.replace_namespaced_network_policy("allow-web", "shop", api_policy)
    api_node = core.read_node("node-a")
    api_node.metadata.labels = {"zone": "z2"}
    core.replace_node("node-a", api_node)

    await wait_value(ksr_store, NAMESPACE, "shop", check=lambda v: v is not None and v.labels.get("team") == "b")
    await wait_value(ksr_store, POD, "shop", "web-0",
                     check=lambda v: v is not None and v.labels.get("version") == "2" and v.pod_ips == ("10.1.1.5",))
    await wait_value(ksr_store, SERVICE, "shop", "web", check=lambda v: v is not None and v.ports[0].port == 8081)
    await wait_value(ksr_store, ENDPOINTS, "shop", "web", check=lambda v: v is not None and [
        e.addresses for e in v.endpoints] == [("10.1.1.5",), ("10.1.1.7",)])
    await wait_value(ksr_store, POLICY, "shop", "allow-web",
                     check=lambda v: v is not None and v.pod_selector.match_labels == {"app": "api"})
    await wait_value(ksr_store, NODE, "node-a", check=lambda v: v is not None and v.labels == {"zone": "z2"})

    # Deletes: one slice leaves the service's endpoints, the last one removes them.
    discovery.delete_namespaced_endpoint_slice("web-1", "shop")
    await wait_value(ksr_store, ENDPOINTS, "shop", "web",
                     check=lambda v: v is not None and [e.addresses for e in v.endpoints] == [("10.1.1.7",)])
    discovery.delete_namespaced_endpoint_slice("web-2", "shop")
    networking.delete_namespaced_network_policy("allow-web", "shop")
    core.delete_namespaced_service("web", "shop")
    core.delete_namespaced_pod("web-0", "shop", grace_period_seconds=0)
    core.delete_node("node-a")
    for kind, parts in ((ENDPOINTS, ("shop", "web")), (POLICY, ("shop", "allow-web")), (SERVICE, ("shop", "web")),
                        (POD, ("shop", "web-0")), (NODE, ("node-a",))):
        await wait_gone(ksr_store, kind, *parts)
    await wait_converged(ksr_store, apiserver.url)


async def test_a_pod_status_condition_change_writes_nothing(core, start_ksr, ksr_store) -> None:
    ksr = start_ksr()
    await ksr.wait_role("leader")
    make_namespace(core, "app")
    core.create_namespaced_pod("app", pod_body("busy"))
    set_pod_ip(core, "app", "busy", "10.1.1.9")
    await wait_value(ksr_store, POD, "app", "busy", check=lambda p: p is not None and p.pod_ips)
    before = (await ksr_store.get_raw(KEYS.key(POD, "app", "busy"))).mod_revision
    writes_before = await ksr.metric("contiv_ksr_etcd_writes_total", kind="pod")

    for status in ("False", "True", "False"):
        api_pod = core.read_namespaced_pod("busy", "app")
        api_pod.status.conditions = [k8s.V1PodCondition(type="Ready", status=status),
                                     k8s.V1PodCondition(type="ContainersReady", status=status)]
        core.replace_namespaced_pod_status("busy", "app", api_pod)
    # Pod events arrive in order on one watch: once this later pod is in
    # etcd, the condition changes before it have been handled.
    core.create_namespaced_pod("app", pod_body("sentinel"))
    await wait_value(ksr_store, POD, "app", "sentinel")

    assert (await ksr_store.get_raw(KEYS.key(POD, "app", "busy"))).mod_revision == before
    assert await ksr.metric("contiv_ksr_etcd_writes_total", kind="pod") == writes_before + 1


# --- resync ----------------------------------------------------------------------------


async def test_restarted_ksr_makes_etcd_exactly_the_projection_of_the_api(kube, core, start_ksr, ksr_store,
                                                                          apiserver) -> None:
    discovery = k8s.DiscoveryV1Api(kube)
    ksr = start_ksr()
    await ksr.wait_role("leader")
    make_namespace(core, "a")
    for name in ("keep", "change", "delete"):
        core.create_namespaced_pod("a", pod_body(name))
    core.create_namespaced_service("a", {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}})
    discovery.create_namespaced_endpoint_slice("a", slice_body("svc-1", "svc", "10.1.1.1"))
    await wait_converged(ksr_store, apiserver.url)
    keep_revision = (await ksr_store.get_raw(KEYS.key(POD, "a", "keep"))).mod_revision
    assert ksr.stop() == 0

    # While no KSR runs: add, change and delete through the API, and leave a
    # stray key in etcd that no API object explains.
    core.create_namespaced_pod("a", pod_body("new"))
    changed = core.read_namespaced_pod("change", "a")
    changed.metadata.labels = {"app": "changed"}
    core.replace_namespaced_pod("change", "a", changed)
    core.delete_namespaced_pod("delete", "a", grace_period_seconds=0)
    discovery.delete_namespaced_endpoint_slice("svc-1", "a")
    await ksr_store.put(KEYS.key(POD, "ghost", "stray"), Pod(namespace="ghost", name="stray"))

    start_ksr(identity="ksr-b")
    expected = await wait_converged(ksr_store, apiserver.url)
    assert KEYS.key(POD, "a", "new") in expected and KEYS.key(POD, "a", "delete") not in expected
    assert KEYS.key(ENDPOINTS, "a", "svc") not in expected
    assert Pod.from_json(expected[KEYS.key(POD, "a", "change")]).labels == {"app": "changed"}
    # What did not change was not rewritten.
    assert (await ksr_store.get_raw(KEYS.key(POD, "a", "keep"))).mod_revision == keep_revision


async def test_watch_410_gone_relists_and_converges(api_etcd, core, start_ksr, ksr_store, api_store,
                                                    apiserver, tmp_path) -> None:
    from lab.apiserver.testing import ApiServerProcess

    ksr = start_ksr()
    await ksr.wait_role("leader")
    make_namespace(core, "g")
    core.create_namespaced_pod("g", pod_body("before"))
    core.create_namespaced_pod("g", pod_body("doomed"))
    await wait_converged(ksr_store, apiserver.url)

    # The KSR's API server goes away; meanwhile another one changes the
    # objects and the history it would resume from is compacted.
    port = apiserver.port
    apiserver.stop()
    with ApiServerProcess(api_etcd.endpoint, log_file=tmp_path / "apiserver-2.log") as other:
        other_core = k8s.CoreV1Api(k8s.ApiClient(k8s.Configuration(host=other.url)))
        other_core.create_namespaced_pod("g", pod_body("while-away"))
        other_core.delete_namespaced_pod("doomed", "g", grace_period_seconds=0)
        await api_store.compact(await api_store.revision())

        with ApiServerProcess(api_etcd.endpoint, port=port, log_file=tmp_path / "apiserver-3.log") as back:
            await wait_converged(ksr_store, back.url, timeout=40)
            assert await ksr.metric("contiv_ksr_watch_restarts_total", reason="expired") >= 1
            assert await ksr.metric("contiv_ksr_resyncs_total", kind="pod", trigger="list") >= 2
            await ksr.wait_role("leader")


async def test_ksr_etcd_restarted_and_then_wiped_converges(core, start_ksr, ksr_store, ksr_etcd, apiserver) -> None:
    ksr = start_ksr()
    await ksr.wait_role("leader")
    make_namespace(core, "w")
    for i in range(5):
        core.create_namespaced_pod("w", pod_body(f"p{i}"))
    await wait_converged(ksr_store, apiserver.url)

    ksr_etcd.restart(kill=True)
    core.create_namespaced_pod("w", pod_body("after-restart"))
    await wait_value(ksr_store, POD, "w", "after-restart", timeout=30)
    await wait_converged(ksr_store, apiserver.url)

    ksr_etcd.wipe()
    assert await reflected(ksr_store) == {}
    expected = await wait_converged(ksr_store, apiserver.url, timeout=30)
    assert KEYS.key(POD, "w", "p0") in expected
    await ksr.wait_role("leader")
    core.create_namespaced_pod("w", pod_body("after-wipe"))
    await wait_value(ksr_store, POD, "w", "after-wipe")
    assert ksr.running


async def test_lost_data_under_a_surviving_lease_is_noticed_and_resynced(core, start_ksr, ksr_store, apiserver) -> None:
    """An etcd restored from a backup can keep the leader's lease yet lack the
    KSR's keys: nothing fails, so the KSR must notice by itself."""
    ksr = start_ksr(lease_ttl=30)
    await ksr.wait_role("leader")
    make_namespace(core, "r")
    for i in range(3):
        core.create_namespaced_pod("r", pod_body(f"p{i}"))
    await wait_converged(ksr_store, apiserver.url)

    await ksr_store.delete_prefix(f"{PREFIX}/k8s/")
    await ksr_store.delete(f"{PREFIX}/ksr/epoch")
    expected = await wait_converged(ksr_store, apiserver.url, timeout=DEADLINE)
    assert KEYS.key(POD, "r", "p2") in expected
    assert await ksr.metric("contiv_ksr_store_lost_total") >= 1
    assert await ksr.metric("contiv_ksr_resyncs_total", kind="pod", trigger="store-lost") >= 1
    # The same term did it: leadership never changed hands.
    assert await ksr.metric("contiv_ksr_leadership_acquired_total") == 1
    await wait_for(lambda: ksr_store.get_raw(f"{PREFIX}/ksr/epoch"), DEADLINE, "a new epoch marker")


# --- leader election ---------------------------------------------------------------------


async def test_standby_takes_over_within_the_ttl_when_the_leader_is_killed(core, start_ksr, ksr_store,
                                                                            apiserver) -> None:
    first = start_ksr(identity="ksr-a", lease_ttl=3)
    await first.wait_role("leader")
    second = start_ksr(identity="ksr-b", lease_ttl=3)
    await second.wait_role("standby")
    make_namespace(core, "h")
    core.create_namespaced_pod("h", pod_body("one"))
    await wait_value(ksr_store, POD, "h", "one")
    assert await second.metric("contiv_ksr_etcd_writes_total") == 0, "a standby wrote to etcd"
    assert await second.metric("contiv_ksr_leader") == 0

    first.kill()
    killed_at = time.monotonic()
    await second.wait_role("leader", timeout=3 + 5)
    assert time.monotonic() - killed_at <= 3 + 2, "the standby took longer than the lease TTL to take over"
    core.create_namespaced_pod("h", pod_body("two"))
    await wait_value(ksr_store, POD, "h", "two")
    await wait_converged(ksr_store, apiserver.url)


async def test_a_clean_shutdown_hands_over_at_once(start_ksr) -> None:
    first = start_ksr(identity="ksr-a", lease_ttl=30)
    await first.wait_role("leader")
    second = start_ksr(identity="ksr-b", lease_ttl=30)
    await second.wait_role("standby")
    assert first.stop() == 0
    # Far sooner than the 30 s TTL: the leader resigned on SIGTERM.
    await second.wait_role("leader", timeout=10)
    assert "stopped" in first.log()


async def test_a_leader_whose_lease_is_taken_stops_writing_and_campaigns_again(core, start_ksr, ksr_store) -> None:
    ksr = start_ksr(lease_ttl=3)
    await ksr.wait_role("leader")
    leader_key = f"{PREFIX}/ksr/leader"
    # Someone else now holds the leader key (as if our lease had expired and
    # another KSR won): our fenced writes must fail.
    await ksr_store.delete(leader_key)
    intruder = await Lease.grant(ksr_store, ttl=3)
    await ksr_store.put(leader_key, b"intruder", lease=intruder.id)
    make_namespace(core, "f")
    core.create_namespaced_pod("f", pod_body("fenced"))
    await ksr.wait_role("standby", timeout=DEADLINE)
    assert await ksr_store.get_raw(KEYS.key(POD, "f", "fenced")) is None
    assert "lost leadership" in ksr.log()

    await intruder.revoke()
    await ksr.wait_role("leader", timeout=DEADLINE)
    await wait_value(ksr_store, POD, "f", "fenced")


# --- bad input and faults ------------------------------------------------------------------


async def test_an_object_the_model_cannot_parse_is_skipped_and_the_rest_keeps_working(core, start_ksr, ksr_store,
                                                                                     api_store) -> None:
    make_namespace(core, "x")
    core.create_namespaced_pod("x", pod_body("good-before"))
    # The stand-in validates like the real one, so the bad object goes
    # straight into its storage, as a buggy or newer writer might leave it.
    bad = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "bad", "namespace": "x", "uid": "u-bad", "creationTimestamp": "2024-01-01T00:00:00Z"},
           "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80, "protocol": "ICMP"}]}]},
           "status": {"podIP": "10.1.1.300"}}
    await api_store.put("/registry/pods/x/bad", json.dumps(bad).encode())

    ksr = start_ksr()
    await ksr.wait_role("leader")
    await wait_value(ksr_store, POD, "x", "good-before")
    assert await ksr.metric("contiv_ksr_skipped_objects_total", kind="pod") >= 1
    assert "skipping pod x/bad" in ksr.log()
    assert await ksr_store.get_raw(KEYS.key(POD, "x", "bad")) is None

    # A bad object arriving on the watch is skipped too, and later ones still flow.
    await api_store.put("/registry/pods/x/bad2", json.dumps({**bad, "metadata": {**bad["metadata"], "name": "bad2"}}).encode())
    core.create_namespaced_pod("x", pod_body("good-after"))
    await wait_value(ksr_store, POD, "x", "good-after")
    await wait_for(lambda: "skipping pod x/bad2" in ksr.log(), DEADLINE, "the skip to be logged")
    assert await ksr.metric("contiv_ksr_skipped_objects_total", kind="pod") >= 2
    assert ksr.running


async def test_unreachable_api_server_and_etcd_are_retried_until_they_come(tmp_path: Path, api_etcd) -> None:
    from lab.apiserver.testing import ApiServerProcess

    api_port, etcd_port = free_port(), free_port()
    ksr = KsrProcess(f"http://127.0.0.1:{api_port}", f"127.0.0.1:{etcd_port}", tmp_path / "ksr.log").start()
    try:
        health = await wait_for(lambda: ksr.get("/healthz"), DEADLINE, "/healthz to answer")
        assert health.status_code == 200
        await wait_for(lambda: "cannot reach etcd" in ksr.log(), DEADLINE, "the etcd retry to be logged")
        ready = await ksr.get("/readyz")
        assert ready.status_code == 503 and ready.json()["etcd_reachable"] is False

        etcd = EtcdServer(tmp_path / "late-etcd", client_port=etcd_port)
        etcd.start()
        try:
            # Leader at once, but not ready: the API server is still missing.
            status = await wait_for(lambda: _status_if(ksr, role="leader"), DEADLINE, "leadership")
            assert status["ready"] is False
            await wait_for(lambda: "Kubernetes API at" in ksr.log(), DEADLINE, "the API retry to be logged")
            assert (await ksr.get("/readyz")).status_code == 503

            with ApiServerProcess(api_etcd.endpoint, port=api_port, log_file=tmp_path / "apiserver.log") as api:
                await ksr.wait_role("leader", ready=True, timeout=40)
                core = k8s.CoreV1Api(k8s.ApiClient(k8s.Configuration(host=api.url)))
                make_namespace(core, "late")
                async with KVStore(EtcdConfig(endpoints=[etcd.endpoint])) as store:
                    await wait_value(store, NAMESPACE, "late")
                metrics = await ksr.metrics()
                assert await ksr.metric("contiv_ksr_api_errors_total") >= 1
                assert await ksr.metric("contiv_ksr_etcd_errors_total", operation="connect") >= 1
                assert any(name == "contiv_ksr_resync_duration_seconds_count" for name, _ in metrics)
                assert await ksr.metric("contiv_ksr_objects", kind="namespace") >= 1
                assert await ksr.metric("contiv_ksr_leader") == 1
                assert await ksr.metric("contiv_ksr_synced") in (0, 1)
        finally:
            etcd.stop(kill=True)
        assert ksr.running
    finally:
        assert ksr.stop() == 0


async def _status_if(ksr: KsrProcess, **expected: object) -> dict | None:
    status = await ksr.status()
    return status if all(status.get(k) == v for k, v in expected.items()) else None


@pytest.mark.parametrize("args, message", [
    (["--server", "localhost:6443"], "must be an http:// or https:// URL"),
    (["--server", "http://127.0.0.1:1", "--etcd-endpoints", "no-port"], "is not host:port"),
    (["--server", "http://127.0.0.1:1", "--prefix", "/"], "prefix"),
    (["--server", "http://127.0.0.1:1", "--lease-ttl", "0"], "lease-ttl"),
    (["--server", "http://127.0.0.1:1", "--etcd-cert", "/etc/hostname"], "certificate needs its key"),
    (["--kubeconfig", "/nonexistent/kubeconfig"], "does not exist"),
])
def test_unusable_options_exit_with_a_clear_message(args: list[str], message: str) -> None:
    result = subprocess.run([str(KSR_BINARY), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


async def test_sigterm_while_etcd_is_unreachable_exits_promptly(tmp_path: Path) -> None:
    ksr = KsrProcess("http://127.0.0.1:1", f"127.0.0.1:{free_port()}", tmp_path / "ksr.log").start()
    await wait_for(lambda: ksr.get("/healthz"), DEADLINE, "/healthz to answer")
    started = time.monotonic()
    assert ksr.stop() == 0
    assert time.monotonic() - started < 3, "SIGTERM waited for an etcd connection attempt"
