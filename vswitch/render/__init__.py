"""Renderers: pure functions from the agent's view to desired items."""

from __future__ import annotations

from vswitch.engine.item import Item
from vswitch.render.mesh import render_mesh
from vswitch.render.node import render_node
from vswitch.render.pods import render_pods
from vswitch.render.uplink import render_uplink
from vswitch.view import AgentView


def render_all(view: AgentView) -> dict[str, Item]:
    items: dict[str, Item] = {}
    for renderer in (render_node, render_uplink, render_pods, render_mesh):
        for item in renderer(view):
            items[item.key()] = item
    return items


__all__ = ["render_all"]
