"""The networking projection of Kubernetes objects, as the KSR stores them.

Only what a network plugin needs is kept, so that a change elsewhere in an
object (a pod's conditions, a node's heartbeat) is not a change here and costs
no etcd write.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from model.base import StoredModel

Protocol = Literal["TCP", "UDP", "SCTP"]
Labels = dict[str, str]

CONTIV_ANNOTATION_PREFIX = "contivpp.io/"


class Namespace(StoredModel):
    name: str
    labels: Labels = Field(default_factory=dict)


class ContainerPort(StoredModel):
    name: str = ""
    container_port: int = Field(ge=1, le=65535)
    protocol: Protocol = "TCP"
    host_port: int | None = Field(default=None, ge=1, le=65535)


class Pod(StoredModel):
    namespace: str
    name: str
    uid: str = ""
    labels: Labels = Field(default_factory=dict)
    node_name: str = ""
    pod_ips: tuple[str, ...] = ()
    host_ip: str = ""
    container_ports: tuple[ContainerPort, ...] = ()
    phase: str = ""
    host_network: bool = False
    # Only annotations under CONTIV_ANNOTATION_PREFIX: the rest is noise for us.
    annotations: dict[str, str] = Field(default_factory=dict)


class ServicePort(StoredModel):
    name: str = ""
    protocol: Protocol = "TCP"
    port: int = Field(ge=1, le=65535)
    # A number, or the name of a container port in the endpoints' pods.
    target_port: int | str = 0
    node_port: int | None = Field(default=None, ge=1, le=65535)


class Service(StoredModel):
    namespace: str
    name: str
    type: Literal["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] = "ClusterIP"
    cluster_ips: tuple[str, ...] = ()
    ports: tuple[ServicePort, ...] = ()
    selector: Labels = Field(default_factory=dict)
    external_ips: tuple[str, ...] = ()
    load_balancer_ips: tuple[str, ...] = ()
    session_affinity: Literal["None", "ClientIP"] = "None"
    session_affinity_timeout: int | None = None
    external_traffic_policy: Literal["Cluster", "Local"] = "Cluster"
    internal_traffic_policy: Literal["Cluster", "Local"] = "Cluster"


class EndpointPort(StoredModel):
    name: str = ""
    port: int = Field(ge=1, le=65535)
    protocol: Protocol = "TCP"


class ObjectRef(StoredModel):
    kind: str = "Pod"
    namespace: str = ""
    name: str


class Endpoint(StoredModel):
    """One endpoint of one EndpointSlice; it carries its slice's ports, because
    slices of one service may differ in their ports while they roll over."""

    addresses: tuple[str, ...]
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    node_name: str = ""
    target: ObjectRef | None = None
    ports: tuple[EndpointPort, ...] = ()


class Endpoints(StoredModel):
    """All EndpointSlices of a service, merged."""

    namespace: str
    service: str
    endpoints: tuple[Endpoint, ...] = ()


class NodeAddress(StoredModel):
    type: str
    address: str


class Node(StoredModel):
    name: str
    addresses: tuple[NodeAddress, ...] = ()
    pod_cidrs: tuple[str, ...] = ()
    labels: Labels = Field(default_factory=dict)


class LabelSelectorRequirement(StoredModel):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[str, ...] = ()


class LabelSelector(StoredModel):
    """Empty selects everything, as in Kubernetes."""

    match_labels: Labels = Field(default_factory=dict)
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()

    def matches(self, labels: Labels) -> bool:
        if any(labels.get(key) != value for key, value in self.match_labels.items()):
            return False
        for req in self.match_expressions:
            present = req.key in labels
            if req.operator == "In" and not (present and labels[req.key] in req.values):
                return False
            if req.operator == "NotIn" and present and labels[req.key] in req.values:
                return False
            if req.operator == "Exists" and not present:
                return False
            if req.operator == "DoesNotExist" and present:
                return False
        return True


class IPBlock(StoredModel):
    cidr: str
    except_: tuple[str, ...] = Field(default=(), alias="except")


class PolicyPeer(StoredModel):
    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


class PolicyPort(StoredModel):
    protocol: Protocol = "TCP"
    # None means every port; a string is a named container port.
    port: int | str | None = None
    end_port: int | None = None


class PolicyRule(StoredModel):
    """An ingress rule's `from` or an egress rule's `to`, with its ports.
    An empty peer list matches every peer, an empty port list every port."""

    peers: tuple[PolicyPeer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()


class NetworkPolicy(StoredModel):
    namespace: str
    name: str
    pod_selector: LabelSelector = Field(default_factory=LabelSelector)
    policy_types: tuple[Literal["Ingress", "Egress"], ...] = ()
    ingress: tuple[PolicyRule, ...] = ()
    egress: tuple[PolicyRule, ...] = ()
