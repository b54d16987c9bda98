"""CRDs: creating one serves its resources (namespaced or cluster-scoped, in
every served version, with a status subresource if it asks for one) and
lists them in discovery; deleting it takes its objects with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tests.apiserver.helpers import raw_call, status_of, unique


def crd_body(group: str, kind: str, plural: str, scope: str) -> dict:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": scope,
                 "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "shortNames": ["nc"]},
                 "versions": [
                     {"name": "v1", "served": True, "storage": True, "schema": schema,
                      "subresources": {"status": {}}},
                     {"name": "v1beta1", "served": True, "storage": False, "schema": schema}]}}


@pytest.fixture
def group(k8s: client.ApiClient) -> Iterator[str]:
    name = f"{unique('g')}.contiv.io"
    yield name
    ext = client.ApiextensionsV1Api(k8s)
    for crd in ext.list_custom_resource_definition().items:
        if crd.spec.group == name:
            ext.delete_custom_resource_definition(crd.metadata.name)


def test_crd_serves_namespaced_custom_resources(k8s: client.ApiClient, namespace: str, group: str) -> None:
    ext = client.ApiextensionsV1Api(k8s)
    created = ext.create_custom_resource_definition(crd_body(group, "NodeConfig", "nodeconfigs", "Namespaced"))
    established = {c.type: c.status for c in created.status.conditions}
    assert established == {"NamesAccepted": "True", "Established": "True"}
    assert created.spec.names.list_kind == "NodeConfigList"

    resources = client.ApisApi(k8s).get_api_versions()
    assert group in {g.name for g in resources.groups}
    listing = raw_call(k8s, "GET", f"/apis/{group}/v1")
    assert {(r["name"], r["namespaced"], r["kind"]) for r in listing["resources"]} == {
        ("nodeconfigs", True, "NodeConfig"), ("nodeconfigs/status", True, "NodeConfig")}

    custom = client.CustomObjectsApi(k8s)
    body = {"apiVersion": f"{group}/v1", "kind": "NodeConfig", "metadata": {"name": "node-a", "labels": {"a": "1"}},
            "spec": {"mainInterface": "eth0", "gateway": "192.168.16.100"}}
    obj = custom.create_namespaced_custom_object(group, "v1", namespace, "nodeconfigs",
                                                 {**body, "status": {"applied": True}})
    assert obj["metadata"]["uid"] and obj["metadata"]["generation"] == 1
    assert "status" not in obj  # the status subresource's to set
    rv = obj["metadata"]["resourceVersion"]

    got = custom.get_namespaced_custom_object(group, "v1", namespace, "nodeconfigs", "node-a")
    assert got["spec"] == body["spec"]
    # Another served version serves the same object.
    beta = custom.get_namespaced_custom_object(group, "v1beta1", namespace, "nodeconfigs", "node-a")
    assert beta["apiVersion"] == f"{group}/v1beta1" and beta["spec"] == body["spec"]

    patched = custom.patch_namespaced_custom_object(group, "v1", namespace, "nodeconfigs", "node-a",
                                                    {"spec": {"gateway": "192.168.16.1"}})
    assert patched["spec"] == {"mainInterface": "eth0", "gateway": "192.168.16.1"}
    assert patched["metadata"]["generation"] == 2

    status = custom.patch_namespaced_custom_object_status(group, "v1", namespace, "nodeconfigs", "node-a",
                                                         {"status": {"applied": True}})
    assert status["status"] == {"applied": True} and status["metadata"]["generation"] == 2
    # With a status subresource, the main resource leaves status alone.
    replaced = custom.replace_namespaced_custom_object(group, "v1", namespace, "nodeconfigs", "node-a",
                                                      {**status, "status": {"applied": False}})
    assert replaced["status"] == {"applied": True}

    listed = custom.list_namespaced_custom_object(group, "v1", namespace, "nodeconfigs", label_selector="a=1")
    assert listed["kind"] == "NodeConfigList" and [i["metadata"]["name"] for i in listed["items"]] == ["node-a"]
    everywhere = custom.list_cluster_custom_object(group, "v1", "nodeconfigs")
    assert [i["metadata"]["name"] for i in everywhere["items"]] == ["node-a"]

    w = watch.Watch()
    events = []
    for event in w.stream(custom.list_namespaced_custom_object, group, "v1", namespace, "nodeconfigs",
                          resource_version=rv, timeout_seconds=10):
        events.append((event["type"], event["object"]["metadata"]["name"]))
        if len(events) == 2:
            w.stop()
    assert events == [("MODIFIED", "node-a"), ("MODIFIED", "node-a")]

    with pytest.raises(ApiException) as stale:
        custom.replace_namespaced_custom_object(group, "v1", namespace, "nodeconfigs", "node-a", obj)
    assert stale.value.status == 409

    custom.delete_namespaced_custom_object(group, "v1", namespace, "nodeconfigs", "node-a")
    with pytest.raises(ApiException) as missing:
        custom.get_namespaced_custom_object(group, "v1", namespace, "nodeconfigs", "node-a")
    assert missing.value.status == 404 and status_of(missing.value)["details"]["group"] == group


def test_cluster_scoped_crd_and_its_deletion(k8s: client.ApiClient, group: str) -> None:
    ext = client.ApiextensionsV1Api(k8s)
    ext.create_custom_resource_definition(crd_body(group, "Fabric", "fabrics", "Cluster"))
    custom = client.CustomObjectsApi(k8s)
    custom.create_cluster_custom_object(group, "v1", "fabrics", {
        "apiVersion": f"{group}/v1", "kind": "Fabric", "metadata": {"name": "main"}, "spec": {"mtu": 1450}})
    assert custom.get_cluster_custom_object(group, "v1", "fabrics", "main")["spec"] == {"mtu": 1450}
    with pytest.raises(ApiException) as wrong_scope:
        custom.create_namespaced_custom_object(group, "v1", "default", "fabrics", {
            "apiVersion": f"{group}/v1", "kind": "Fabric", "metadata": {"name": "x"}})
    assert wrong_scope.value.status == 404

    ext.delete_custom_resource_definition(f"fabrics.{group}")
    with pytest.raises(ApiException) as unserved:
        custom.list_cluster_custom_object(group, "v1", "fabrics")
    assert unserved.value.status == 404
    assert group not in {g.name for g in client.ApisApi(k8s).get_api_versions().groups}
    # Defining it again does not bring the old objects back.
    ext.create_custom_resource_definition(crd_body(group, "Fabric", "fabrics", "Cluster"))
    assert custom.list_cluster_custom_object(group, "v1", "fabrics")["items"] == []


def test_invalid_crd_is_422(k8s: client.ApiClient, group: str) -> None:
    body = crd_body(group, "Thing", "things", "Namespaced")
    body["metadata"]["name"] = "wrong-name"
    with pytest.raises(ApiException) as bad:
        client.ApiextensionsV1Api(k8s).create_custom_resource_definition(body)
    assert bad.value.status == 422
    assert "metadata.name" in {c["field"] for c in status_of(bad.value)["details"]["causes"]}
