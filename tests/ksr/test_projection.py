"""The projection of Kubernetes JSON onto the stored model, on its own."""

from __future__ import annotations

import copy

import pytest

from ksr.projection import (
    merge_endpoints,
    project_endpoint_slice,
    project_namespace,
    project_network_policy,
    project_node,
    project_pod,
    project_service,
)
from model import (
    ContainerPort,
    Endpoint,
    EndpointPort,
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    Namespace,
    NetworkPolicy,
    Node,
    NodeAddress,
    ObjectRef,
    Pod,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
)

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1", "resourceVersion": "17",
                 "labels": {"app": "web", "tier": "front"},
                 "annotations": {"contivpp.io/custom-if": "memif1", "kubectl.kubernetes.io/last-applied": "{}",
                                 "contivpp.io/microservice-label": "web"}},
    "spec": {"nodeName": "node-a", "containers": [
        {"name": "app", "image": "nginx", "ports": [{"name": "http", "containerPort": 8080},
                                                    {"containerPort": 53, "protocol": "UDP", "hostPort": 5353}]}],
        "initContainers": [
            {"name": "setup", "ports": [{"containerPort": 9999}]},
            {"name": "proxy", "restartPolicy": "Always", "ports": [{"name": "admin", "containerPort": 15000}]}]},
    "status": {"phase": "Running", "hostIP": "192.168.16.1", "podIP": "10.1.1.5",
               "podIPs": [{"ip": "10.1.1.5"}, {"ip": "fd00:10:1::5"}],
               "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}]},
}


def test_pod_keeps_what_networking_needs_and_only_contiv_annotations() -> None:
    assert project_pod(POD) == Pod(
        namespace="shop", name="web-0", uid="u-1", labels={"app": "web", "tier": "front"}, node_name="node-a",
        pod_ips=("10.1.1.5", "fd00:10:1::5"), host_ip="192.168.16.1",
        container_ports=(ContainerPort(name="http", container_port=8080),
                         ContainerPort(container_port=53, protocol="UDP", host_port=5353),
                         ContainerPort(name="admin", container_port=15000)),
        phase="Running",
        annotations={"contivpp.io/custom-if": "memif1", "contivpp.io/microservice-label": "web"})


def test_pod_condition_and_heartbeat_changes_project_to_identical_bytes() -> None:
    changed = copy.deepcopy(POD)
    changed["metadata"]["resourceVersion"] = "99"
    changed["status"]["conditions"] = [{"type": "Ready", "status": "False", "lastTransitionTime": "2025-01-01T00:00:00Z"}]
    changed["metadata"]["labels"] = {"tier": "front", "app": "web"}  # same labels, other order
    assert project_pod(changed).to_json() == project_pod(POD).to_json()


def test_pending_pod_with_nothing_but_a_name() -> None:
    pod = project_pod({"metadata": {"name": "p", "namespace": "default"}})
    assert pod == Pod(namespace="default", name="p")


def test_pod_with_only_the_old_single_pod_ip() -> None:
    pod = project_pod({"metadata": {"name": "p", "namespace": "d"}, "status": {"podIP": "10.1.2.3"}})
    assert pod.pod_ips == ("10.1.2.3",)


def test_host_network_pod() -> None:
    pod = project_pod({"metadata": {"name": "p", "namespace": "d"}, "spec": {"hostNetwork": True},
                       "status": {"podIP": "192.168.16.1", "hostIP": "192.168.16.1"}})
    assert pod.host_network and pod.pod_ips == ("192.168.16.1",)


def test_explicit_nulls_read_as_absent() -> None:
    pod = project_pod({"metadata": {"name": "p", "namespace": "d", "labels": None, "annotations": None},
                       "spec": {"containers": [{"name": "c", "ports": None}], "nodeName": None}, "status": None})
    assert pod == Pod(namespace="d", name="p")


@pytest.mark.parametrize("bad", [
    {"metadata": {"namespace": "d"}},  # no name
    {"metadata": {"name": "p"}},  # namespaced, but no namespace
    {"metadata": {"name": "p", "namespace": "d"}, "status": {"podIP": "not-an-ip"}},
    {"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": [{"ports": [{"containerPort": 0}]}]}},
    {"metadata": {"name": "p", "namespace": "d"},
     "spec": {"containers": [{"ports": [{"containerPort": 80, "protocol": "ICMP"}]}]}},
    {"metadata": {"name": "p", "namespace": "d", "labels": ["not", "a", "map"]}},
    {"metadata": "nonsense"},
])
def test_pods_the_model_cannot_hold_are_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        project_pod(bad)


def test_service_with_named_and_defaulted_target_ports_node_ports_and_affinity() -> None:
    svc = project_service({
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10", "fd00:96::10"],
                 "selector": {"app": "web"}, "externalIPs": ["203.0.113.7"],
                 "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080},
                           {"name": "dns", "port": 53, "protocol": "UDP"},
                           {"name": "alt", "port": 8443, "targetPort": 443}],
                 "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
                 "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.1"}, {"hostname": "lb.example"}]}},
    })
    assert svc.cluster_ips == ("10.96.0.10", "fd00:96::10")
    assert [(p.name, p.protocol, p.port, p.target_port, p.node_port) for p in svc.ports] == [
        ("http", "TCP", 80, "http", 30080), ("dns", "UDP", 53, 53, None), ("alt", "TCP", 8443, 443, None)]
    assert svc.type == "NodePort" and svc.selector == {"app": "web"}
    assert svc.external_ips == ("203.0.113.7",) and svc.load_balancer_ips == ("198.51.100.1",)
    assert (svc.session_affinity, svc.session_affinity_timeout) == ("ClientIP", 600)
    assert svc.external_traffic_policy == "Local"


def test_headless_and_external_name_services_have_no_cluster_ip() -> None:
    headless = project_service({"metadata": {"name": "db", "namespace": "d"},
                                "spec": {"clusterIP": "None", "clusterIPs": ["None"], "selector": {"app": "db"}}})
    assert headless.cluster_ips == () and headless.type == "ClusterIP"
    external = project_service({"metadata": {"name": "ext", "namespace": "d"},
                                "spec": {"type": "ExternalName", "externalName": "example.com"}})
    assert external.type == "ExternalName" and external.cluster_ips == ()


def test_service_of_an_unknown_type_is_rejected() -> None:
    with pytest.raises(ValueError):
        project_service({"metadata": {"name": "s", "namespace": "d"}, "spec": {"type": "Weird"}})


def test_namespace_and_node() -> None:
    assert project_namespace({"metadata": {"name": "shop", "labels": {"team": "a"}}}) == \
        Namespace(name="shop", labels={"team": "a"})
    node = project_node({
        "metadata": {"name": "node-a", "labels": {"kubernetes.io/hostname": "node-a"}},
        "spec": {"podCIDR": "10.1.1.0/24", "podCIDRs": ["10.1.1.0/24", "fd00:10:1:1::/64"]},
        "status": {"addresses": [{"type": "InternalIP", "address": "192.168.16.1"},
                                 {"type": "Hostname", "address": "node-a"}],
                   "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2024-01-01T00:00:00Z"}]},
    })
    assert node == Node(name="node-a", addresses=(NodeAddress(type="InternalIP", address="192.168.16.1"),
                                                  NodeAddress(type="Hostname", address="node-a")),
                        pod_cidrs=("10.1.1.0/24", "fd00:10:1:1::/64"), labels={"kubernetes.io/hostname": "node-a"})
    assert project_node({"metadata": {"name": "old"}, "spec": {"podCIDR": "10.1.2.0/24"}}).pod_cidrs == \
        ("10.1.2.0/24",)
    with pytest.raises(ValueError):
        project_node({"metadata": {"name": "n"}, "spec": {"podCIDRs": ["banana"]}})


def _slice(name: str, service: str | None, endpoints: list[dict], ports: list[dict] | None = None,
           address_type: str = "IPv4") -> dict:
    labels = {"kubernetes.io/service-name": service} if service else {}
    return {"metadata": {"name": name, "namespace": "shop", "labels": labels}, "addressType": address_type,
            "endpoints": endpoints, "ports": ports if ports is not None else [{"name": "http", "port": 8080}]}


def test_endpoint_slice_conditions_targets_and_ports() -> None:
    projected = project_endpoint_slice(_slice("web-abc", "web", [
        {"addresses": ["10.1.1.5"], "conditions": {"ready": True}, "nodeName": "node-a",
         "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "shop"}},
        {"addresses": ["10.1.2.6"], "conditions": {"ready": False, "serving": True, "terminating": True}},
        {"addresses": ["10.1.3.7"]},  # no conditions: unknown readiness counts as ready
    ], ports=[{"name": "http", "port": 8080}, {"name": "all"}, {"port": 53, "protocol": "UDP"}]))
    ports = (EndpointPort(name="http", port=8080), EndpointPort(port=53, protocol="UDP"))
    assert projected.service == "web"
    assert projected.endpoints == (
        Endpoint(addresses=("10.1.1.5",), node_name="node-a", target=ObjectRef(namespace="shop", name="web-0"),
                 ports=ports),
        Endpoint(addresses=("10.1.2.6",), ready=False, serving=True, terminating=True, ports=ports),
        Endpoint(addresses=("10.1.3.7",), ports=ports),
    )


def test_slices_of_one_service_merge_in_a_stable_order_without_duplicates() -> None:
    a = project_endpoint_slice(_slice("web-a", "web", [{"addresses": ["10.1.1.5"]}, {"addresses": ["10.1.1.6"]}]))
    b = project_endpoint_slice(_slice("web-b", "web", [{"addresses": ["10.1.1.6"]}, {"addresses": ["fd00::7"]}]))
    merged = merge_endpoints("shop", "web", [b, a])
    assert merged == merge_endpoints("shop", "web", [a, b])
    assert [e.addresses for e in merged.endpoints] == [("10.1.1.5",), ("10.1.1.6",), ("fd00::7",)]


def test_fqdn_slices_contribute_nothing_and_bad_addresses_are_rejected() -> None:
    fqdn = project_endpoint_slice(_slice("ext", "ext", [{"addresses": ["db.example.com"]}], address_type="FQDN"))
    assert fqdn.endpoints == () and fqdn.service == "ext"
    with pytest.raises(ValueError):
        project_endpoint_slice(_slice("bad", "web", [{"addresses": ["10.1.1.999"]}]))
    with pytest.raises(ValueError):
        project_endpoint_slice(_slice("bad", "web", [{"addresses": ["10.1.1.9"]}], ports=[{"port": 70000}]))


def test_network_policy_with_ip_block_except_end_port_named_port_and_selectors() -> None:
    policy = project_network_policy({
        "metadata": {"name": "allow", "namespace": "shop"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{
                "from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                         {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In",
                                                                      "values": ["a", "b"]}]},
                          "podSelector": {}}],
                "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}, {"port": "http"}],
            }],
            "egress": [{"to": [], "ports": [{"protocol": "UDP", "port": 53}]}, {}],
        },
    })
    assert policy == NetworkPolicy(
        namespace="shop", name="allow", pod_selector=LabelSelector(match_labels={"app": "web"}),
        policy_types=("Ingress", "Egress"),
        ingress=(PolicyRule(
            peers=(PolicyPeer(ip_block=IPBlock(cidr="172.17.0.0/16", except_=("172.17.1.0/24",))),
                   PolicyPeer(namespace_selector=LabelSelector(match_expressions=(
                       LabelSelectorRequirement(key="team", operator="In", values=("a", "b")),)),
                       pod_selector=LabelSelector())),
            ports=(PolicyPort(port=32000, end_port=32768), PolicyPort(port="http"))),),
        egress=(PolicyRule(ports=(PolicyPort(protocol="UDP", port=53),)), PolicyRule()),
    )
    # The stored JSON keeps "except", the Kubernetes spelling.
    assert b'"except":["172.17.1.0/24"]' in policy.to_json()


def test_policy_types_default_as_the_api_documents() -> None:
    ingress_only = project_network_policy({"metadata": {"name": "deny", "namespace": "d"},
                                           "spec": {"podSelector": {}}})
    assert ingress_only.policy_types == ("Ingress",) and ingress_only.pod_selector == LabelSelector()
    with_egress = project_network_policy({"metadata": {"name": "e", "namespace": "d"},
                                          "spec": {"podSelector": {}, "egress": [{}]}})
    assert with_egress.policy_types == ("Ingress", "Egress")


@pytest.mark.parametrize("spec", [
    {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}},
    {"ingress": [{"from": [{"ipBlock": {"cidr": "not-a-cidr"}}]}]},
    {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/99"]}}]}]},
    {"policyTypes": ["Sideways"]},
])
def test_policies_the_model_cannot_hold_are_rejected(spec: dict) -> None:
    with pytest.raises(ValueError):
        project_network_policy({"metadata": {"name": "p", "namespace": "d"}, "spec": spec})


def test_addresses_are_stored_in_their_canonical_spelling() -> None:
    pod = project_pod({"metadata": {"name": "p", "namespace": "d"},
                       "status": {"podIPs": [{"ip": "10.1.1.5"}, {"ip": "FD00:0:0::5"}]}})
    assert pod.pod_ips == ("10.1.1.5", "fd00::5")
    for bad in ("010.1.1.5", "10.1.1", "10.1.1.5 ", "fd00:::5"):
        with pytest.raises(ValueError):
            project_pod({"metadata": {"name": "p", "namespace": "d"}, "status": {"podIP": bad}})
