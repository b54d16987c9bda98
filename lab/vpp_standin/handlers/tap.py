"""tapv2 plugin calls."""

from __future__ import annotations

from ..codec import Request
from ..model import NO_INDEX, TapInfo
from .base import HandlerContext, Reply, handles, ok
from .convert import mac_bytes, to_int


@handles("tap_create_v3")
def tap_create_v3(ctx: HandlerContext, req: Request) -> list[Reply]:
    info = TapInfo(
        id=to_int(req.get("id")),
        host_if_name=str(req.get("host_if_name", "")) if req.get("host_if_name_set") else "",
        host_namespace=str(req.get("host_namespace", "")) if req.get("host_namespace_set") else "",
        host_bridge=str(req.get("host_bridge", "")) if req.get("host_bridge_set") else "",
        host_mtu_size=to_int(req.get("host_mtu_size")) if req.get("host_mtu_set") else 1500,
        host_mac_addr=mac_bytes(req.get("host_mac_addr")) if req.get("host_mac_addr_set") else bytes(6),
        host_ip4_prefix=req.get("host_ip4_prefix") if req.get("host_ip4_prefix_set") else None,
        host_ip6_prefix=req.get("host_ip6_prefix") if req.get("host_ip6_prefix_set") else None,
        tap_flags=to_int(req.get("tap_flags")),
        tx_ring_sz=to_int(req.get("tx_ring_sz")) or 256,
        rx_ring_sz=to_int(req.get("rx_ring_sz")) or 256,
    )
    mac = None if req.get("use_random_mac") else mac_bytes(req.get("mac_address"))
    sw_if_index = ctx.state.tap_create(info.id, mac, info)
    tag = str(req.get("tag", ""))
    if tag:
        ctx.state.set_tag(sw_if_index, tag, True)
    return ok(ctx, req, sw_if_index=sw_if_index)


@handles("tap_delete_v2")
def tap_delete_v2(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.state.tap_delete(to_int(req.get("sw_if_index")))
    return ok(ctx, req)


@handles("sw_interface_tap_v2_dump")
def sw_interface_tap_v2_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    wanted = to_int(req.get("sw_if_index"))
    replies = []
    for interface in sorted(ctx.state.interfaces.values(), key=lambda i: i.sw_if_index):
        tap = interface.tap
        if tap is None or wanted not in (NO_INDEX, interface.sw_if_index):
            continue
        replies.append(
            Reply(
                "sw_interface_tap_v2_details",
                {
                    "sw_if_index": interface.sw_if_index,
                    "id": tap.id,
                    "tx_ring_sz": tap.tx_ring_sz,
                    "rx_ring_sz": tap.rx_ring_sz,
                    "host_mtu_size": tap.host_mtu_size,
                    "host_mac_addr": tap.host_mac_addr,
                    "host_ip4_prefix": tap.host_ip4_prefix,
                    "host_ip6_prefix": tap.host_ip6_prefix,
                    "tap_flags": tap.tap_flags,
                    "dev_name": interface.name,
                    "host_if_name": tap.host_if_name,
                    "host_namespace": tap.host_namespace,
                    "host_bridge": tap.host_bridge,
                },
            )
        )
    return replies
