"""core/v1 through the official client: the verbs, the errors clients
branch on, selectors, subresources and optimistic concurrency."""

from __future__ import annotations

import ipaddress
from datetime import datetime

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.apiserver.helpers import pod, raw_call, status_of, unique


def test_pod_lifecycle(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_pod(namespace, pod("web", labels={"app": "web"}))
    assert created.metadata.uid and created.metadata.namespace == namespace
    assert isinstance(created.metadata.creation_timestamp, datetime)
    assert created.status.phase == "Pending"
    assert created.spec.containers[0].image_pull_policy == "IfNotPresent"
    rv = int(created.metadata.resource_version)

    got = core.read_namespaced_pod("web", namespace)
    assert got.metadata.uid == created.metadata.uid and got.metadata.resource_version == str(rv)

    got.metadata.labels["tier"] = "front"
    updated = core.replace_namespaced_pod("web", namespace, got)
    assert updated.metadata.labels == {"app": "web", "tier": "front"}
    assert int(updated.metadata.resource_version) > rv
    assert updated.metadata.uid == created.metadata.uid

    merged = core.patch_namespaced_pod("web", namespace, {"metadata": {"labels": {"tier": None, "x": "1"}}})
    assert merged.metadata.labels == {"app": "web", "x": "1"}

    patched = core.patch_namespaced_pod("web", namespace, [
        {"op": "test", "path": "/metadata/labels/x", "value": "1"},
        {"op": "replace", "path": "/metadata/labels/x", "value": "2"},
        {"op": "add", "path": "/metadata/annotations", "value": {"note": "json-patch"}}])
    assert patched.metadata.labels["x"] == "2" and patched.metadata.annotations == {"note": "json-patch"}

    deleted = core.delete_namespaced_pod("web", namespace)
    assert deleted.metadata.name == "web"
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("web", namespace)
    assert missing.value.status == 404
    assert status_of(missing.value)["reason"] == "NotFound"


def test_generate_name(core: client.CoreV1Api, namespace: str) -> None:
    body = pod(None)  # type: ignore[arg-type]
    body.metadata.generate_name = "worker-"
    names = {core.create_namespaced_pod(namespace, body).metadata.name for _ in range(3)}
    assert len(names) == 3 and all(n.startswith("worker-") and len(n) == len("worker-") + 5 for n in names)


def test_strategic_merge_patch_merges_containers_by_name(core: client.CoreV1Api, namespace: str) -> None:
    spec = pod("two")
    spec.spec.containers.append(client.V1Container(name="side", image="busybox:1.36"))
    core.create_namespaced_pod(namespace, spec)
    # The Python client sends strategic merge patch for a dict body by default.
    patched = core.patch_namespaced_pod("two", namespace, {"spec": {"containers": [
        {"name": "side", "image": "busybox:1.37"}]}})
    images = {c.name: c.image for c in patched.spec.containers}
    assert images == {"main": "busybox:1.36", "side": "busybox:1.37"}


def test_stale_resource_version_conflicts(core: client.CoreV1Api, namespace: str) -> None:
    first = core.create_namespaced_pod(namespace, pod("cas"))
    first.metadata.labels = {"writer": "a"}
    core.replace_namespaced_pod("cas", namespace, first)
    first.metadata.labels = {"writer": "b"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_pod("cas", namespace, first)
    assert stale.value.status == 409 and status_of(stale.value)["reason"] == "Conflict"
    with pytest.raises(ApiException) as stale_patch:
        core.patch_namespaced_pod("cas", namespace, {"metadata": {
            "resourceVersion": first.metadata.resource_version, "labels": {"writer": "c"}}})
    assert stale_patch.value.status == 409
    assert core.read_namespaced_pod("cas", namespace).metadata.labels == {"writer": "a"}


def test_already_exists_and_missing_namespace(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, pod("dup"))
    with pytest.raises(ApiException) as dup:
        core.create_namespaced_pod(namespace, pod("dup"))
    assert dup.value.status == 409 and status_of(dup.value)["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as nons:
        core.create_namespaced_pod("no-such-namespace", pod("x"))
    body = status_of(nons.value)
    assert nons.value.status == 404 and body["reason"] == "NotFound"
    assert body["details"] == {"name": "no-such-namespace", "kind": "namespaces"}


@pytest.mark.parametrize("name, field", [("Bad_Name", "metadata.name"), ("", "metadata.name")])
def test_invalid_names_are_422(core: client.CoreV1Api, namespace: str, name: str, field: str) -> None:
    with pytest.raises(ApiException) as bad:
        core.create_namespaced_pod(namespace, pod(name))
    body = status_of(bad.value)
    assert bad.value.status == 422 and body["reason"] == "Invalid"
    assert [c["field"] for c in body["details"]["causes"]] == [field]


def test_bad_body_is_400(core: client.CoreV1Api, namespace: str) -> None:
    with pytest.raises(ApiException) as bad:
        raw_call(core.api_client, "POST", f"/api/v1/namespaces/{namespace}/pods", body="{not json")
    assert bad.value.status == 400 and status_of(bad.value)["reason"] == "BadRequest"


def test_namespace_defaults_and_delete_takes_contents(core: client.CoreV1Api) -> None:
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system"} <= names
    name = unique("gone")
    ns = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    assert ns.status.phase == "Active" and ns.metadata.labels["kubernetes.io/metadata.name"] == name
    core.create_namespaced_pod(name, pod("inside"))
    core.create_namespaced_service(name, client.V1Service(
        metadata=client.V1ObjectMeta(name="svc"), spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)])))
    core.delete_namespace(name)
    assert core.list_namespaced_pod(name).items == []
    assert core.list_namespaced_service(name).items == []
    with pytest.raises(ApiException) as missing:
        core.read_namespace(name)
    assert missing.value.status == 404


def test_label_selectors(core: client.CoreV1Api, namespace: str) -> None:
    for name, labels in (("a", {"app": "web", "tier": "front"}), ("b", {"app": "web", "tier": "back"}),
                         ("c", {"app": "db"}), ("d", {})):
        core.create_namespaced_pod(namespace, pod(name, labels=labels))

    def names(selector: str) -> list[str]:
        return sorted(p.metadata.name for p in core.list_namespaced_pod(namespace, label_selector=selector).items)

    assert names("app=web") == ["a", "b"]
    assert names("app==web,tier!=back") == ["a"]
    assert names("app!=web") == ["c", "d"]
    assert names("tier in (front, back)") == ["a", "b"]
    assert names("app notin (web)") == ["c", "d"]
    assert names("tier") == ["a", "b"]
    assert names("!tier") == ["c", "d"]
    assert names("app in (web,db),!tier") == ["c"]
    with pytest.raises(ApiException) as bad:
        names("app in (web")
    assert bad.value.status == 400


def test_field_selectors_and_all_namespaces(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, pod("on-a", node="node-a"))
    core.create_namespaced_pod(namespace, pod("on-b", node="node-b"))
    mine = f"metadata.namespace={namespace}"
    on_b = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName=node-b,{mine}").items
    assert [p.metadata.name for p in on_b] == ["on-b"]
    not_b = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName!=node-b,{mine}").items
    assert [p.metadata.name for p in not_b] == ["on-a"]
    by_name = core.list_namespaced_pod(namespace, field_selector="metadata.name=on-a").items
    assert [p.metadata.name for p in by_name] == ["on-a"]
    everywhere = core.list_pod_for_all_namespaces()
    assert {"on-a", "on-b"} <= {p.metadata.name for p in everywhere.items}
    assert int(everywhere.metadata.resource_version) > 0
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_pod(namespace, field_selector="spec.unknownField=x")
    assert bad.value.status == 400


def test_list_pagination(core: client.CoreV1Api, namespace: str) -> None:
    for i in range(5):
        core.create_namespaced_pod(namespace, pod(f"p{i}"))
    first = core.list_namespaced_pod(namespace, limit=2)
    assert [p.metadata.name for p in first.items] == ["p0", "p1"]
    assert first.metadata.remaining_item_count == 3 and first.metadata.var_continue
    core.create_namespaced_pod(namespace, pod("p9"))  # after the snapshot: not in this list
    rest = core.list_namespaced_pod(namespace, limit=10, _continue=first.metadata.var_continue)
    assert [p.metadata.name for p in rest.items] == ["p2", "p3", "p4"]
    assert rest.metadata.resource_version == first.metadata.resource_version and not rest.metadata.var_continue


def test_pod_status_subresource(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, pod("st"))
    patched = core.patch_namespaced_pod_status("st", namespace, {"status": {
        "phase": "Running", "podIP": "10.1.1.5", "podIPs": [{"ip": "10.1.1.5"}]}})
    assert patched.status.phase == "Running" and patched.status.pod_ip == "10.1.1.5"
    # The status subresource changes nothing else...
    current = core.read_namespaced_pod("st", namespace)
    current.metadata.labels = {"ignored": "yes"}
    current.status.phase = "Succeeded"
    after_status = core.replace_namespaced_pod_status("st", namespace, current)
    assert after_status.status.phase == "Succeeded" and not after_status.metadata.labels
    # ...and the main resource does not change status.
    after_status.status.phase = "Failed"
    after_status.metadata.labels = {"kept": "yes"}
    after_main = core.replace_namespaced_pod("st", namespace, after_status)
    assert after_main.status.phase == "Succeeded" and after_main.metadata.labels == {"kept": "yes"}
    assert core.read_namespaced_pod_status("st", namespace).status.pod_ip == "10.1.1.5"
    assert core.list_namespaced_pod(namespace, field_selector="status.phase=Succeeded").items[0].metadata.name == "st"


def test_service_defaults_and_cluster_ips(core: client.CoreV1Api, namespace: str) -> None:
    service_range = ipaddress.ip_network("10.96.0.0/12")
    ips = set()
    for i in range(8):
        svc = core.create_namespaced_service(namespace, client.V1Service(
            metadata=client.V1ObjectMeta(name=f"svc{i}"),
            spec=client.V1ServiceSpec(selector={"app": "x"}, ports=[client.V1ServicePort(port=80 + i)])))
        assert ipaddress.ip_address(svc.spec.cluster_ip) in service_range
        assert svc.spec.cluster_ips == [svc.spec.cluster_ip] and svc.spec.type == "ClusterIP"
        port = svc.spec.ports[0]
        assert port.protocol == "TCP" and port.target_port == 80 + i
        ips.add(svc.spec.cluster_ip)
    assert len(ips) == 8
    taken = core.read_namespaced_service("svc0", namespace).spec.cluster_ip
    with pytest.raises(ApiException) as dup:
        core.create_namespaced_service(namespace, client.V1Service(
            metadata=client.V1ObjectMeta(name="same-ip"),
            spec=client.V1ServiceSpec(cluster_ip=taken, ports=[client.V1ServicePort(port=80)])))
    assert dup.value.status == 422
    # A deleted service's address is free again.
    core.delete_namespaced_service("svc0", namespace)
    again = core.create_namespaced_service(namespace, client.V1Service(
        metadata=client.V1ObjectMeta(name="reuse"),
        spec=client.V1ServiceSpec(cluster_ip=taken, ports=[client.V1ServicePort(port=80)])))
    assert again.spec.cluster_ip == taken
    # Replacing a service without its address keeps the address.
    again.spec.cluster_ip = None
    again.spec.cluster_ips = None
    assert core.replace_namespaced_service("reuse", namespace, again).spec.cluster_ip == taken


def test_service_node_ports(core: client.CoreV1Api, namespace: str) -> None:
    svc = core.create_namespaced_service(namespace, client.V1Service(
        metadata=client.V1ObjectMeta(name="np"),
        spec=client.V1ServiceSpec(type="NodePort", ports=[client.V1ServicePort(port=80, target_port=8080)])))
    assert 30000 <= svc.spec.ports[0].node_port <= 32767 and svc.spec.ports[0].target_port == 8080
    patched = core.patch_namespaced_service("np", namespace, {"metadata": {"labels": {"a": "b"}}})
    assert patched.spec.ports[0].node_port == svc.spec.ports[0].node_port


@pytest.mark.parametrize("port", [0, 70000])
def test_service_port_out_of_range_is_422(core: client.CoreV1Api, namespace: str, port: int) -> None:
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad"}, "spec": {"ports": [{"port": port}]}}
    with pytest.raises(ApiException) as bad:
        core.create_namespaced_service(namespace, body)
    causes = status_of(bad.value)["details"]["causes"]
    assert bad.value.status == 422 and causes[0]["field"] == "spec.ports[0].port"


def test_nodes_and_node_status(core: client.CoreV1Api) -> None:
    name = unique("node")
    core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=name, labels={"role": "worker"})))
    try:
        patched = core.patch_node_status(name, {"status": {"addresses": [
            {"type": "InternalIP", "address": "192.168.16.1"}]}})
        assert patched.status.addresses[0].address == "192.168.16.1"
        core.patch_node(name, {"spec": {"podCIDR": "10.1.1.0/24"}})
        node = core.read_node(name)
        assert node.spec.pod_cidr == "10.1.1.0/24" and node.status.addresses[0].type == "InternalIP"
        assert name in {n.metadata.name for n in core.list_node(label_selector="role=worker").items}
        with pytest.raises(ApiException) as wrong_scope:
            raw_call(core.api_client, "GET", f"/api/v1/namespaces/default/nodes/{name}")
        assert wrong_scope.value.status == 404
    finally:
        core.delete_node(name)
    assert name not in {n.metadata.name for n in core.list_node().items}


def test_method_not_allowed(core: client.CoreV1Api, namespace: str) -> None:
    with pytest.raises(ApiException) as bad:
        raw_call(core.api_client, "PUT", f"/api/v1/namespaces/{namespace}/pods", body={})
    assert bad.value.status == 405 and status_of(bad.value)["reason"] == "MethodNotAllowed"
