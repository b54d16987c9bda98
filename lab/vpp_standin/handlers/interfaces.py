"""Generic interface calls: dumps, flags, MTU, MAC, tags, VRF binding,
addresses, unnumbered, and loopbacks."""

from __future__ import annotations

from typing import Any

from ..codec import Request
from ..model import NO_INDEX, Interface, InterfaceKind
from .base import HandlerContext, Reply, handles, ok
from .convert import mac_bytes, to_int

IF_STATUS_ADMIN_UP = 1
IF_STATUS_LINK_UP = 2


def interface_details(interface: Interface) -> dict[str, Any]:
    flags = (IF_STATUS_ADMIN_UP if interface.admin_up else 0) | (IF_STATUS_LINK_UP if interface.link_up else 0)
    has_l2 = interface.kind is not InterfaceKind.LOCAL and not (interface.vxlan is not None and interface.vxlan.is_l3)
    return {
        "sw_if_index": interface.sw_if_index,
        "sup_sw_if_index": interface.sw_if_index,
        "l2_address": interface.mac if has_l2 else bytes(6),
        "flags": flags,
        "type": 0,
        "link_duplex": 0,
        "link_speed": 0,
        "link_mtu": interface.link_mtu,
        "mtu": list(interface.mtu),
        "interface_name": interface.name,
        "interface_dev_type": interface.dev_type,
        "tag": interface.tag,
    }


@handles("sw_interface_dump")
def sw_interface_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    sw_if_index = to_int(req.get("sw_if_index"))
    interfaces = ctx.state.interfaces
    # VPP treats 0 like ~0 here: both mean "all" unless a name filter is set.
    if not req.get("name_filter_valid") and sw_if_index not in (NO_INDEX, 0):
        selected = [interfaces[sw_if_index]] if sw_if_index in interfaces else []
    else:
        selected = sorted(interfaces.values(), key=lambda i: i.sw_if_index)
        if req.get("name_filter_valid"):
            needle = str(req.get("name_filter", "")).lower()
            selected = [i for i in selected if needle in i.name.lower()]
    return [Reply("sw_interface_details", interface_details(i)) for i in selected]


@handles("sw_interface_set_flags")
def sw_interface_set_flags(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.state.set_flags(to_int(req.get("sw_if_index")), bool(to_int(req.get("flags")) & IF_STATUS_ADMIN_UP))
    return ok(ctx, req)


@handles("sw_interface_set_mtu")
def sw_interface_set_mtu(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.state.set_mtu(to_int(req.get("sw_if_index")), [int(v) for v in req.get("mtu")])
    return ok(ctx, req)


@handles("sw_interface_set_mac_address")
def sw_interface_set_mac_address(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.state.set_mac(to_int(req.get("sw_if_index")), mac_bytes(req.get("mac_address")))
    return ok(ctx, req)


@handles("sw_interface_tag_add_del")
def sw_interface_tag_add_del(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.state.set_tag(to_int(req.get("sw_if_index")), str(req.get("tag", "")), bool(req.get("is_add")))
    return ok(ctx, req)


@handles("sw_interface_set_table")
def sw_interface_set_table(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.state.set_table(to_int(req.get("sw_if_index")), bool(req.get("is_ipv6")), to_int(req.get("vrf_id")))
    return ok(ctx, req)


@handles("sw_interface_get_table")
def sw_interface_get_table(ctx: HandlerContext, req: Request) -> list[Reply]:
    interface = ctx.state.interface(to_int(req.get("sw_if_index")))
    return ok(ctx, req, vrf_id=interface.table(bool(req.get("is_ipv6"))))


@handles("sw_interface_add_del_address")
def sw_interface_add_del_address(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.state.add_del_address(
        to_int(req.get("sw_if_index")),
        bool(req.get("is_add")),
        bool(req.get("del_all")),
        req.get("prefix"),
    )
    return ok(ctx, req)


@handles("ip_address_dump")
def ip_address_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    interface = ctx.state.interfaces.get(to_int(req.get("sw_if_index")))
    if interface is None:
        return []
    version = 6 if req.get("is_ipv6") else 4
    return [
        Reply("ip_address_details", {"sw_if_index": interface.sw_if_index, "prefix": a})
        for a in interface.addresses
        if a.version == version
    ]


@handles("sw_interface_set_unnumbered")
def sw_interface_set_unnumbered(ctx: HandlerContext, req: Request) -> list[Reply]:
    # On the wire sw_if_index lends its addresses to unnumbered_sw_if_index.
    ctx.state.set_unnumbered(
        lender=to_int(req.get("sw_if_index")),
        borrower=to_int(req.get("unnumbered_sw_if_index")),
        is_add=bool(req.get("is_add")),
    )
    return ok(ctx, req)


@handles("ip_unnumbered_dump")
def ip_unnumbered_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    wanted = to_int(req.get("sw_if_index"))
    return [
        Reply("ip_unnumbered_details", {"sw_if_index": i.sw_if_index, "ip_sw_if_index": i.unnumbered_of})
        for i in sorted(ctx.state.interfaces.values(), key=lambda i: i.sw_if_index)
        if i.unnumbered_of is not None and wanted in (NO_INDEX, i.sw_if_index)
    ]


@handles("create_loopback")
def create_loopback(ctx: HandlerContext, req: Request) -> list[Reply]:
    sw_if_index = ctx.state.create_loopback(mac_bytes(req.get("mac_address")), False, 0)
    return ok(ctx, req, sw_if_index=sw_if_index)


@handles("create_loopback_instance")
def create_loopback_instance(ctx: HandlerContext, req: Request) -> list[Reply]:
    sw_if_index = ctx.state.create_loopback(
        mac_bytes(req.get("mac_address")), bool(req.get("is_specified")), to_int(req.get("user_instance"))
    )
    return ok(ctx, req, sw_if_index=sw_if_index)


@handles("delete_loopback")
def delete_loopback(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.state.delete_loopback(to_int(req.get("sw_if_index")))
    return ok(ctx, req)
