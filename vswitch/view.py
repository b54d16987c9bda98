"""The agent's view of the cluster: everything renderers read, nothing else.

Owned by the event loop; renderers are pure functions of it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model import NodeConfig, NodeRecord
from stn.models import StolenInterface
from vswitch.podstore import PodRecord

if TYPE_CHECKING:
    # Only for annotations: the config module imports the dataplane options.
    from vswitch.config import AgentConfig


@dataclass
class NodeView:
    record: NodeRecord
    pod_subnet: ipaddress.IPv4Network
    pod_gateway: ipaddress.IPv4Address


@dataclass
class AgentView:
    config: AgentConfig
    node: NodeView
    pods: dict[str, PodRecord] = field(default_factory=dict)
    # Every node's record by ID, this one included.
    nodes: dict[int, NodeRecord] = field(default_factory=dict)
    node_config: NodeConfig | None = None
    # The NIC STN took for the dataplane, with what Linux had on it.
    stolen: StolenInterface | None = None
