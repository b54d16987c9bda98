"""The data contract: pydantic models of every value stored in etcd, and the key layout.

These models are the only place the JSON shape of a stored value is defined.
"""

from model.base import StoredModel
from model.keys import (
    ALL_KINDS,
    DEFAULT_PREFIX,
    ENDPOINTS,
    HEALTH,
    IPAM,
    KUBERNETES_KINDS,
    NAMESPACE,
    NODE,
    NODE_RECORD,
    NODECONFIG,
    POD,
    POLICY,
    SERVICE,
    VALIDATION,
    InvalidKey,
    KeyKind,
    KeySpace,
    ParsedKey,
)
from model.kubernetes import (
    CONTIV_ANNOTATION_PREFIX,
    ContainerPort,
    Endpoint,
    EndpointPort,
    Endpoints,
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
    Service,
    ServicePort,
)
from model.node import IpamAllocation, NodeRecord
from model.nodeconfig import InterfaceConfig, NodeConfig
from model.status import ComponentHealth, ValidationProblem, ValidationReport

__all__ = [
    "ALL_KINDS", "CONTIV_ANNOTATION_PREFIX", "DEFAULT_PREFIX", "ENDPOINTS", "HEALTH", "IPAM", "KUBERNETES_KINDS",
    "NAMESPACE", "NODE", "NODECONFIG", "NODE_RECORD", "POD", "POLICY", "SERVICE", "VALIDATION",
    "ComponentHealth", "ContainerPort", "Endpoint", "EndpointPort", "Endpoints", "IPBlock", "InterfaceConfig",
    "IpamAllocation", "InvalidKey", "KeyKind", "KeySpace", "LabelSelector", "LabelSelectorRequirement", "Namespace",
    "NetworkPolicy", "Node", "NodeAddress", "NodeConfig", "NodeRecord", "ObjectRef", "ParsedKey", "Pod",
    "PolicyPeer", "PolicyPort", "PolicyRule", "Service", "ServicePort", "StoredModel", "ValidationProblem",
    "ValidationReport",
]
