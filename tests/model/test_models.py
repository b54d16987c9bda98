"""The data contract: every stored value survives a round trip, reads what
older and newer versions wrote, and rejects what no version would write."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

import model
from model import (
    ComponentHealth, ContainerPort, Endpoint, EndpointPort, Endpoints, InterfaceConfig, IPBlock, IpamAllocation,
    LabelSelector, LabelSelectorRequirement, Namespace, NetworkPolicy, Node, NodeAddress, NodeConfig, NodeRecord,
    ObjectRef, Pod, PolicyPeer, PolicyPort, PolicyRule, Service, ServicePort, StoredModel, ValidationProblem,
    ValidationReport,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)

FULL_VALUES: list[StoredModel] = [
    Namespace(name="prod", labels={"team": "net"}),
    Pod(namespace="prod", name="web-0", uid="u-1", labels={"app": "web"}, node_name="n1",
        pod_ips=("10.1.1.2",), host_ip="192.168.16.1", phase="Running",
        container_ports=(ContainerPort(name="http", container_port=8080, protocol="TCP"),),
        annotations={"contivpp.io/custom-if": "memif"}),
    Service(namespace="prod", name="web", type="NodePort", cluster_ips=("10.96.0.10",),
            ports=(ServicePort(name="http", port=80, target_port="http", node_port=30080),
                   ServicePort(name="dns", protocol="UDP", port=53, target_port=5353)),
            selector={"app": "web"}, external_ips=("1.2.3.4",), load_balancer_ips=("5.6.7.8",),
            session_affinity="ClientIP", session_affinity_timeout=600, external_traffic_policy="Local",
            internal_traffic_policy="Local"),
    Endpoints(namespace="prod", service="web", endpoints=(
        Endpoint(addresses=("10.1.1.2",), ready=True, serving=True, terminating=False, node_name="n1",
                 target=ObjectRef(namespace="prod", name="web-0"),
                 ports=(EndpointPort(name="http", port=8080),)),
        Endpoint(addresses=("10.1.2.2",), ready=False, serving=True, terminating=True),
    )),
    Node(name="n1", addresses=(NodeAddress(type="InternalIP", address="192.168.16.1"),), pod_cidrs=("10.1.1.0/24",)),
    NetworkPolicy(
        namespace="prod", name="allow-web",
        pod_selector=LabelSelector(match_labels={"app": "web"}, match_expressions=(
            LabelSelectorRequirement(key="tier", operator="In", values=("front", "edge")),)),
        policy_types=("Ingress", "Egress"),
        ingress=(PolicyRule(
            peers=(PolicyPeer(namespace_selector=LabelSelector(match_labels={"team": "net"})),
                   PolicyPeer(ip_block=IPBlock(cidr="10.0.0.0/8", except_=("10.9.0.0/16",)))),
            ports=(PolicyPort(protocol="TCP", port=8000, end_port=8080), PolicyPort(port="http"))),),
        egress=(PolicyRule(),)),
    NodeConfig(node_name="n1", main_interface=InterfaceConfig(name="eth0", ip="192.168.16.1/24"),
               gateway="192.168.16.254", other_interfaces=(InterfaceConfig(name="eth1", dhcp=True),),
               steal_interface="eth0", nat_external_traffic=False),
    NodeRecord(id=3, name="n3", node_ip="192.168.16.3/24", vxlan_ip="192.168.30.3", management_ips=("10.0.0.3",)),
    IpamAllocation(pod_ip="10.1.3.2", container_id="abc", pod_namespace="prod", pod_name="web-0"),
    ComponentHealth(component="ksr", instance="ksr-0", healthy=True, detail="synced", updated_at=NOW),
    ValidationReport(name="topology", generated_at=NOW, ok=False,
                     problems=(ValidationProblem(node="n2", message="no VXLAN to n3"),), gauges={"nodes": 3}),
]


@pytest.mark.parametrize("value", FULL_VALUES, ids=lambda v: type(v).__name__)
def test_round_trip(value: StoredModel) -> None:
    data = value.to_json()
    assert type(value).from_json(data) == value
    # The JSON is stable: encoding the decoded value gives the same bytes, so
    # writers can compare bytes to skip unchanged writes.
    assert type(value).from_json(data).to_json() == data


@pytest.mark.parametrize("value", FULL_VALUES, ids=lambda v: type(v).__name__)
def test_newer_writer_fields_are_ignored(value: StoredModel) -> None:
    doc = json.loads(value.to_json())
    doc["field_from_the_future"] = {"x": 1}
    assert type(value).model_validate(doc) == value


def test_older_writer_missing_optional_fields() -> None:
    pod = Pod.from_json(b'{"namespace": "a", "name": "p"}')
    assert pod.pod_ips == () and pod.labels == {} and pod.phase == ""
    svc = Service.from_json(b'{"namespace": "a", "name": "s", "ports": [{"port": 80}]}')
    assert svc.type == "ClusterIP" and svc.ports[0].protocol == "TCP" and svc.session_affinity == "None"
    record = NodeRecord.from_json(b'{"id": 1, "name": "n1"}')
    assert record.vxlan_ip == "" and record.management_ips == ()


def test_ip_block_except_is_stored_under_the_kubernetes_name() -> None:
    block = IPBlock(cidr="10.0.0.0/8", except_=("10.1.0.0/16",))
    assert json.loads(block.to_json()) == {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}


@pytest.mark.parametrize("doc, model_type", [
    ({"id": 0, "name": "n"}, NodeRecord),
    ({"id": 1, "name": "n", "node_ip": "not-an-ip"}, NodeRecord),
    ({"pod_ip": "10.1.1.300", "container_id": "c"}, IpamAllocation),
    ({"pod_ip": "10.1.1.3", "container_id": ""}, IpamAllocation),
    ({"node_name": "n", "main_interface": {"name": "eth0", "ip": "10.0.0.1/24", "dhcp": True}}, NodeConfig),
    ({"node_name": "n", "steal_interface": "eth0", "steal_first_nic": True}, NodeConfig),
    ({"node_name": "n", "main_interface": {"name": "eth0"}, "other_interfaces": [{"name": "eth0"}]}, NodeConfig),
    ({"namespace": "a", "name": "s", "ports": [{"port": 70000}]}, Service),
    ({"namespace": "a", "name": "s", "ports": [{"port": 80, "protocol": "ICMP"}]}, Service),
])
def test_invalid_values_are_rejected(doc: dict, model_type: type[StoredModel]) -> None:
    with pytest.raises(ValidationError):
        model_type.model_validate(doc)


def test_values_are_immutable() -> None:
    pod = Pod(namespace="a", name="p")
    with pytest.raises(ValidationError):
        pod.name = "q"  # type: ignore[misc]


@pytest.mark.parametrize("labels, expected", [
    ({"app": "web", "tier": "front"}, True),
    ({"app": "web", "tier": "back"}, False),
    ({"app": "db", "tier": "front"}, False),
    ({"app": "web"}, False),
])
def test_label_selector(labels: dict[str, str], expected: bool) -> None:
    selector = LabelSelector(match_labels={"app": "web"}, match_expressions=(
        LabelSelectorRequirement(key="tier", operator="In", values=("front",)),
        LabelSelectorRequirement(key="legacy", operator="DoesNotExist")))
    assert selector.matches(labels) is expected
    assert LabelSelector().matches(labels)
