"""af_packet (host interface) calls of the af_packet plugin."""

from __future__ import annotations

from ..codec import Request
from ..model import AfPacketInfo
from .base import HandlerContext, Reply, handles, ok
from .convert import mac_bytes, to_int


@handles("af_packet_create_v3")
def af_packet_create_v3(ctx: HandlerContext, req: Request) -> list[Reply]:
    info = AfPacketInfo(
        host_if_name=str(req.get("host_if_name", "")),
        mode=to_int(req.get("mode")),
        flags=to_int(req.get("flags")),
        num_rx_queues=max(1, to_int(req.get("num_rx_queues"))),
        num_tx_queues=max(1, to_int(req.get("num_tx_queues"))),
    )
    hw_addr = None if req.get("use_random_hw_addr") else mac_bytes(req.get("hw_addr"))
    return ok(ctx, req, sw_if_index=ctx.state.af_packet_create(info, hw_addr))


@handles("af_packet_delete")
def af_packet_delete(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.state.af_packet_delete(str(req.get("host_if_name", "")))
    return ok(ctx, req)


@handles("af_packet_dump")
def af_packet_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    return [
        Reply("af_packet_details", {"sw_if_index": i.sw_if_index, "host_if_name": i.af_packet.host_if_name})
        for i in sorted(ctx.state.interfaces.values(), key=lambda i: i.sw_if_index)
        if i.af_packet is not None
    ]
