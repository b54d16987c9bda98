"""ip_neighbor calls (static ARP / ND entries)."""

from __future__ import annotations

from ..codec import Request
from ..model import NO_INDEX, Neighbor
from .base import HandlerContext, Reply, handles, ok
from .convert import mac_bytes, to_int


@handles("ip_neighbor_add_del")
def ip_neighbor_add_del(ctx: HandlerContext, req: Request) -> list[Reply]:
    n = req.get("neighbor")
    neighbor = Neighbor(
        sw_if_index=to_int(n.sw_if_index),
        ip_address=n.ip_address,
        mac=mac_bytes(n.mac_address),
        flags=to_int(n.flags),
    )
    stats_index = ctx.state.neighbor_add_del(bool(req.get("is_add")), neighbor)
    return ok(ctx, req, stats_index=stats_index)


@handles("ip_neighbor_dump")
def ip_neighbor_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    wanted = to_int(req.get("sw_if_index"))
    version = 6 if to_int(req.get("af")) == 1 else 4
    neighbors = sorted(ctx.state.neighbors.values(), key=lambda n: (n.sw_if_index, int(n.ip_address)))
    return [
        Reply(
            "ip_neighbor_details",
            {
                "age": 0.0,
                "neighbor": {
                    "sw_if_index": n.sw_if_index,
                    "flags": n.flags,
                    "mac_address": n.mac,
                    "ip_address": n.ip_address,
                },
            },
        )
        for n in neighbors
        if n.ip_address.version == version and wanted in (NO_INDEX, n.sw_if_index)
    ]
