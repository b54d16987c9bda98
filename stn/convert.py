"""Conversion between the pydantic models and the protobuf messages of stn.proto.

Proto3 has no "unset" for scalars, so optional model fields travel as empty
strings (addresses) or with a has_* companion (metric) and come back as None.
"""

from __future__ import annotations

from datetime import datetime

from stn.api import stn_pb2 as pb
from stn.models import Family, LinkInfo, Phase, SavedAddress, SavedRoute, StolenInterface

_PHASE_TO_PB = {
    Phase.STEALING: pb.PHASE_STEALING,
    Phase.STOLEN: pb.PHASE_STOLEN,
    Phase.RESTORING: pb.PHASE_RESTORING,
}
_PHASE_FROM_PB = {v: k for k, v in _PHASE_TO_PB.items()}


def _opt(value: str) -> str | None:
    return value or None


def link_to_pb(link: LinkInfo) -> pb.Link:
    return pb.Link(
        name=link.name,
        index=link.index,
        mac_address=link.mac_address,
        mtu=link.mtu,
        admin_up=link.admin_up,
        oper_state=link.oper_state,
        pci_address=link.pci_address or "",
        driver=link.driver or "",
    )


def link_from_pb(msg: pb.Link) -> LinkInfo:
    return LinkInfo(
        name=msg.name,
        index=msg.index,
        mac_address=msg.mac_address,
        mtu=msg.mtu,
        admin_up=msg.admin_up,
        oper_state=msg.oper_state,
        pci_address=_opt(msg.pci_address),
        driver=_opt(msg.driver),
    )


def address_to_pb(addr: SavedAddress) -> pb.Address:
    return pb.Address(
        family=addr.family.value,
        address=addr.address,
        prefix_len=addr.prefix_len,
        peer=addr.peer or "",
        broadcast=addr.broadcast or "",
        label=addr.label or "",
        scope=addr.scope,
        flags=addr.flags,
        valid_lifetime=addr.valid_lifetime,
        preferred_lifetime=addr.preferred_lifetime,
        protocol=addr.protocol,
    )


def address_from_pb(msg: pb.Address) -> SavedAddress:
    return SavedAddress(
        family=Family(msg.family),
        address=msg.address,
        prefix_len=msg.prefix_len,
        peer=_opt(msg.peer),
        broadcast=_opt(msg.broadcast),
        label=_opt(msg.label),
        scope=msg.scope,
        flags=msg.flags,
        valid_lifetime=msg.valid_lifetime,
        preferred_lifetime=msg.preferred_lifetime,
        protocol=msg.protocol,
    )


def route_to_pb(route: SavedRoute) -> pb.Route:
    return pb.Route(
        family=route.family.value,
        destination=route.prefix if route.destination is None else route.destination,
        dst_len=route.dst_len,
        gateway=route.gateway or "",
        has_metric=route.metric is not None,
        metric=route.metric or 0,
        scope=route.scope,
        table=route.table,
        protocol=route.protocol,
        type=route.type,
        preferred_source=route.preferred_source or "",
        source=route.source or "",
        src_len=route.src_len,
        tos=route.tos,
        flags=route.flags,
        metrics=route.metrics,
        ipv6_preference=route.ipv6_preference,
        is_default=route.is_default,
    )


def route_from_pb(msg: pb.Route) -> SavedRoute:
    return SavedRoute(
        family=Family(msg.family),
        destination=None if msg.destination in ("", "default") else msg.destination,
        dst_len=msg.dst_len,
        gateway=_opt(msg.gateway),
        metric=msg.metric if msg.has_metric else None,
        scope=msg.scope,
        table=msg.table,
        protocol=msg.protocol,
        type=msg.type,
        preferred_source=_opt(msg.preferred_source),
        source=_opt(msg.source),
        src_len=msg.src_len,
        tos=msg.tos,
        flags=msg.flags,
        metrics=dict(msg.metrics),
        ipv6_preference=msg.ipv6_preference,
    )


def stolen_to_pb(record: StolenInterface) -> pb.StolenInterface:
    return pb.StolenInterface(
        interface_name=record.interface_name,
        dhcp_enabled=record.dhcp_enabled,
        phase=_PHASE_TO_PB[record.phase],
        link=link_to_pb(record.link),
        addresses=[address_to_pb(a) for a in record.addresses],
        routes=[route_to_pb(r) for r in record.routes],
        netns=record.netns or "",
        stolen_at=record.stolen_at.isoformat(),
    )


def stolen_from_pb(msg: pb.StolenInterface) -> StolenInterface:
    return StolenInterface(
        interface_name=msg.interface_name,
        dhcp_enabled=msg.dhcp_enabled,
        phase=_PHASE_FROM_PB[msg.phase],
        link=link_from_pb(msg.link),
        addresses=tuple(address_from_pb(a) for a in msg.addresses),
        routes=tuple(route_from_pb(r) for r in msg.routes),
        netns=_opt(msg.netns),
        stolen_at=datetime.fromisoformat(msg.stolen_at),
    )
