"""The part of the Kubernetes JSON wire format that the KSR reads.

These models are the input boundary: an object the API server sends is
validated here before it is projected. Only the fields the projection uses
are declared (extra="ignore"), and every one of them is optional, because the
API server omits empty fields and a hand-made object may carry explicit nulls.
A field of the wrong type fails validation, and the object is then skipped.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

IntOrString = int | str


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True)


class ObjectMeta(Wire):
    name: str = Field(min_length=1)
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class Object(Wire):
    metadata: ObjectMeta


# --- namespaces and nodes --------------------------------------------------------


class WireNamespace(Object):
    pass


class WireNodeAddress(Wire):
    type: str
    address: str


class WireNodeSpec(Wire):
    pod_cidr: str | None = Field(default=None, alias="podCIDR")
    pod_cidrs: list[str] | None = Field(default=None, alias="podCIDRs")


class WireNodeStatus(Wire):
    addresses: list[WireNodeAddress] | None = None


class WireNode(Object):
    spec: WireNodeSpec | None = None
    status: WireNodeStatus | None = None


# --- pods ------------------------------------------------------------------------


class WireContainerPort(Wire):
    name: str | None = None
    container_port: int
    protocol: str | None = None
    host_port: int | None = None


class WireContainer(Wire):
    name: str | None = None
    ports: list[WireContainerPort] | None = None
    restart_policy: str | None = None


class WirePodSpec(Wire):
    node_name: str | None = None
    host_network: bool | None = None
    containers: list[WireContainer] | None = None
    init_containers: list[WireContainer] | None = None


class WirePodIP(Wire):
    ip: str


class WirePodStatus(Wire):
    phase: str | None = None
    host_ip: str | None = Field(default=None, alias="hostIP")
    pod_ip: str | None = Field(default=None, alias="podIP")
    pod_ips: list[WirePodIP] | None = Field(default=None, alias="podIPs")


class WirePod(Object):
    spec: WirePodSpec | None = None
    status: WirePodStatus | None = None


# --- services --------------------------------------------------------------------


class WireServicePort(Wire):
    name: str | None = None
    protocol: str | None = None
    port: int
    target_port: IntOrString | None = None
    node_port: int | None = None


class WireClientIPConfig(Wire):
    timeout_seconds: int | None = None


class WireSessionAffinityConfig(Wire):
    client_ip: WireClientIPConfig | None = Field(default=None, alias="clientIP")


class WireServiceSpec(Wire):
    type: str | None = None
    cluster_ip: str | None = Field(default=None, alias="clusterIP")
    cluster_ips: list[str] | None = Field(default=None, alias="clusterIPs")
    ports: list[WireServicePort] | None = None
    selector: dict[str, str] | None = None
    external_ips: list[str] | None = Field(default=None, alias="externalIPs")
    session_affinity: str | None = None
    session_affinity_config: WireSessionAffinityConfig | None = None
    external_traffic_policy: str | None = None
    internal_traffic_policy: str | None = None


class WireLoadBalancerIngress(Wire):
    ip: str | None = None
    hostname: str | None = None


class WireLoadBalancerStatus(Wire):
    ingress: list[WireLoadBalancerIngress] | None = None


class WireServiceStatus(Wire):
    load_balancer: WireLoadBalancerStatus | None = None


class WireService(Object):
    spec: WireServiceSpec | None = None
    status: WireServiceStatus | None = None


# --- EndpointSlices --------------------------------------------------------------


class WireEndpointConditions(Wire):
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


class WireObjectReference(Wire):
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None


class WireEndpoint(Wire):
    addresses: list[str]
    conditions: WireEndpointConditions | None = None
    node_name: str | None = None
    target_ref: WireObjectReference | None = None


class WireEndpointPort(Wire):
    name: str | None = None
    port: int | None = None
    protocol: str | None = None


class WireEndpointSlice(Object):
    address_type: str | None = None
    endpoints: list[WireEndpoint] | None = None
    ports: list[WireEndpointPort] | None = None


# --- NetworkPolicies -------------------------------------------------------------


class WireLabelSelectorRequirement(Wire):
    key: str
    operator: str
    values: list[str] | None = None


class WireLabelSelector(Wire):
    match_labels: dict[str, str] | None = None
    match_expressions: list[WireLabelSelectorRequirement] | None = None


class WireIPBlock(Wire):
    cidr: str
    except_: list[str] | None = Field(default=None, alias="except")


class WirePolicyPeer(Wire):
    pod_selector: WireLabelSelector | None = None
    namespace_selector: WireLabelSelector | None = None
    ip_block: WireIPBlock | None = None


class WirePolicyPort(Wire):
    protocol: str | None = None
    port: IntOrString | None = None
    end_port: int | None = None


class WireIngressRule(Wire):
    from_: list[WirePolicyPeer] | None = Field(default=None, alias="from")
    ports: list[WirePolicyPort] | None = None


class WireEgressRule(Wire):
    to: list[WirePolicyPeer] | None = None
    ports: list[WirePolicyPort] | None = None


class WireNetworkPolicySpec(Wire):
    pod_selector: WireLabelSelector | None = None
    policy_types: list[str] | None = None
    ingress: list[WireIngressRule] | None = None
    egress: list[WireEgressRule] | None = None


class WireNetworkPolicy(Object):
    spec: WireNetworkPolicySpec | None = None
