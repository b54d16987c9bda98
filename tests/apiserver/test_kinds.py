"""EndpointSlices, NetworkPolicies and discovery, through the official client."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.apiserver.helpers import raw_call, status_of


def test_endpoint_slice_crud(k8s: client.ApiClient, namespace: str) -> None:
    api = client.DiscoveryV1Api(k8s)
    body = client.V1EndpointSlice(
        metadata=client.V1ObjectMeta(name="web-abc", labels={"kubernetes.io/service-name": "web"}),
        address_type="IPv4",
        endpoints=[client.V1Endpoint(addresses=["10.1.1.2"], node_name="node-a",
                                     conditions=client.V1EndpointConditions(ready=True))],
        ports=[client.DiscoveryV1EndpointPort(name="http", port=8080)])
    created = api.create_namespaced_endpoint_slice(namespace, body)
    assert created.ports[0].protocol == "TCP" and created.endpoints[0].conditions.ready is True
    listed = api.list_namespaced_endpoint_slice(namespace, label_selector="kubernetes.io/service-name=web")
    assert [s.metadata.name for s in listed.items] == ["web-abc"]
    patched = api.patch_namespaced_endpoint_slice("web-abc", namespace, [
        {"op": "add", "path": "/endpoints/-", "value": {"addresses": ["10.1.2.2"], "nodeName": "node-b"}}])
    assert [e.addresses[0] for e in patched.endpoints] == ["10.1.1.2", "10.1.2.2"]
    assert {s.metadata.name for s in api.list_endpoint_slice_for_all_namespaces().items} >= {"web-abc"}
    bad = body.to_dict()
    bad["metadata"]["name"] = "bad"
    bad["endpoints"] = [{"addresses": ["not-an-ip"]}]
    with pytest.raises(ApiException) as invalid:
        api.create_namespaced_endpoint_slice(namespace, api.api_client.sanitize_for_serialization(bad))
    assert invalid.value.status == 422
    api.delete_namespaced_endpoint_slice("web-abc", namespace)
    assert api.list_namespaced_endpoint_slice(namespace).items == []


def test_network_policy_crud(k8s: client.ApiClient, namespace: str) -> None:
    api = client.NetworkingV1Api(k8s)
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "allow-web"},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                     "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 80}]}],
                     "egress": [{"to": [{"namespaceSelector": {}}]}]}}
    created = api.create_namespaced_network_policy(namespace, body)
    assert created.spec.policy_types == ["Ingress", "Egress"]
    assert created.spec.ingress[0].ports[0].protocol == "TCP"
    created.spec.ingress[0].ports[0].port = 443
    replaced = api.replace_namespaced_network_policy("allow-web", namespace, created)
    assert replaced.spec.ingress[0].ports[0].port == 443 and replaced.metadata.generation == 2
    merged = api.patch_namespaced_network_policy("allow-web", namespace, {"metadata": {"labels": {"x": "y"}}})
    assert merged.metadata.generation == 2 and merged.metadata.labels == {"x": "y"}
    assert [p.metadata.name for p in api.list_namespaced_network_policy(namespace).items] == ["allow-web"]
    api.delete_namespaced_network_policy("allow-web", namespace)
    with pytest.raises(ApiException) as missing:
        api.read_namespaced_network_policy("allow-web", namespace)
    assert status_of(missing.value)["message"] == 'networkpolicies.networking.k8s.io "allow-web" not found'


def test_discovery(k8s: client.ApiClient) -> None:
    version = client.VersionApi(k8s).get_code()
    assert version.major == "1" and version.git_version.startswith("v1.")
    assert client.CoreApi(k8s).get_api_versions().versions == ["v1"]
    core = {r.name: r for r in client.CoreV1Api(k8s).get_api_resources().resources}
    assert {"namespaces", "pods", "pods/status", "services", "nodes", "nodes/status"} <= set(core)
    assert core["pods"].namespaced and not core["nodes"].namespaced and "watch" in core["pods"].verbs
    groups = {g.name: g for g in client.ApisApi(k8s).get_api_versions().groups}
    assert {"discovery.k8s.io", "networking.k8s.io", "apiextensions.k8s.io"} <= set(groups)
    assert groups["networking.k8s.io"].preferred_version.group_version == "networking.k8s.io/v1"
    assert {r.name for r in client.NetworkingV1Api(k8s).get_api_resources().resources} == {"networkpolicies"}
    assert {r.name for r in client.DiscoveryV1Api(k8s).get_api_resources().resources} == {"endpointslices"}
    with pytest.raises(ApiException) as unknown:
        raw_call(k8s, "GET", "/apis/nosuch.example.com/v1/things")
    assert unknown.value.status == 404
