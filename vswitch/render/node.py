"""Node-wide settings the pod wiring needs."""

from __future__ import annotations

from collections.abc import Iterator

from vswitch.dataplane.linux.items import Sysctl
from vswitch.engine.item import Item
from vswitch.view import AgentView


def render_node(view: AgentView) -> Iterator[Item]:
    # Pods reach each other and the world through the node's routing.
    yield Sysctl(name="net/ipv4/ip_forward", value="1")
