"""The stolen NIC on the Linux dataplane: its addresses and routes, put back.

STN took them off the NIC so that a dataplane could own it; the Linux
dataplane forwards through the kernel, so the node keeps its addresses and
routes, now as items the agent owns and reconciles.
"""

from __future__ import annotations

from collections.abc import Iterator

from stn.models import Family
from vswitch.dataplane.linux.items import Address, Route
from vswitch.dataplane.linux.netns import HOST
from vswitch.engine.item import Item
from vswitch.view import AgentView

RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 0, 253
MAIN_TABLE = 254
RTN_UNICAST = 1


def render_uplink(view: AgentView) -> Iterator[Item]:
    stolen = view.stolen
    if stolen is None:
        return
    name = stolen.interface_name
    address_keys = []
    for saved in stolen.addresses:
        if saved.family != Family.INET or saved.scope != RT_SCOPE_UNIVERSE:
            continue
        address = Address(netns=HOST, ifname=name, cidr=saved.cidr, link_key="")
        address_keys.append(address.key())
        yield address
    for route in stolen.routes:
        # Kernel routes come back with their addresses; only the rest is ours to add.
        if (route.family != Family.INET or route.table != MAIN_TABLE or route.type != RTN_UNICAST
                or route.protocol == 2 or route.scope not in (RT_SCOPE_UNIVERSE, RT_SCOPE_LINK)):
            continue
        dst = "0.0.0.0/0" if route.destination is None else f"{route.destination}/{route.dst_len}"
        yield Route(netns=HOST, dst=dst, ifname=name, gateway=route.gateway or "",
                    scope="link" if route.scope == RT_SCOPE_LINK else "universe", link_key="",
                    after=tuple(address_keys))
