"""The stolen NIC's addresses and routes: which of them the dataplane keeps,
and, on the Linux dataplane, putting them back.

STN took them off the NIC so that a dataplane could own it. The Linux
dataplane forwards through the kernel, so the node keeps its addresses and
routes on the NIC, now as items the agent owns and reconciles. (The VPP
dataplane puts them on its uplink instead: see dataplane/vpp/render.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from stn.models import Family, StolenInterface
from vswitch.dataplane.linux.items import Address, Route
from vswitch.dataplane.linux.netns import HOST
from vswitch.engine.item import Item
from vswitch.view import AgentView

RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 0, 253
MAIN_TABLE = 254
RTN_UNICAST = 1
RTPROT_KERNEL = 2


class KeptRoute(NamedTuple):
    dst: str         # CIDR; 0.0.0.0/0 for the default route
    gateway: str     # "" for a link route
    scope: str       # "universe" or "link"


def kept_addresses(stolen: StolenInterface) -> list[str]:
    """The NIC's global IPv4 addresses as CIDRs (link-local ones are the kernel's)."""
    return [saved.cidr for saved in stolen.addresses
            if saved.family == Family.INET and saved.scope == RT_SCOPE_UNIVERSE]


def kept_routes(stolen: StolenInterface) -> list[KeptRoute]:
    """The NIC's IPv4 unicast routes in the main table that someone added:
    kernel routes come back by themselves with their addresses."""
    kept = []
    for route in stolen.routes:
        if (route.family != Family.INET or route.table != MAIN_TABLE or route.type != RTN_UNICAST
                or route.protocol == RTPROT_KERNEL or route.scope not in (RT_SCOPE_UNIVERSE, RT_SCOPE_LINK)):
            continue
        dst = "0.0.0.0/0" if route.destination is None else f"{route.destination}/{route.dst_len}"
        kept.append(KeptRoute(dst, route.gateway or "", "link" if route.scope == RT_SCOPE_LINK else "universe"))
    return kept


def render_uplink(view: AgentView) -> Iterator[Item]:
    stolen = view.stolen
    if stolen is None:
        return
    name = stolen.interface_name
    address_keys = []
    for cidr in kept_addresses(stolen):
        address = Address(netns=HOST, ifname=name, cidr=cidr, link_key="")
        address_keys.append(address.key())
        yield address
    for route in kept_routes(stolen):
        yield Route(netns=HOST, dst=route.dst, ifname=name, gateway=route.gateway, scope=route.scope, link_key="",
                    after=tuple(address_keys))
