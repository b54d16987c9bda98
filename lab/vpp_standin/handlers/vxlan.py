"""vxlan plugin calls (v3 add/del, v2 dump: the current versions)."""

from __future__ import annotations

from ..codec import Request
from ..model import NO_INDEX, VxlanInfo
from .base import HandlerContext, Reply, handles, ok
from .convert import to_int


@handles("vxlan_add_del_tunnel_v3")
def vxlan_add_del_tunnel_v3(ctx: HandlerContext, req: Request) -> list[Reply]:
    info = VxlanInfo(
        instance=to_int(req.get("instance")),
        src_address=req.get("src_address"),
        dst_address=req.get("dst_address"),
        src_port=to_int(req.get("src_port")),
        dst_port=to_int(req.get("dst_port")),
        mcast_sw_if_index=to_int(req.get("mcast_sw_if_index")),
        encap_vrf_id=to_int(req.get("encap_vrf_id")),
        decap_next_index=to_int(req.get("decap_next_index")),
        vni=to_int(req.get("vni")),
        is_l3=bool(req.get("is_l3")),
    )
    return ok(ctx, req, sw_if_index=ctx.state.vxlan_add_del(bool(req.get("is_add")), info))


@handles("vxlan_tunnel_v2_dump")
def vxlan_tunnel_v2_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    wanted = to_int(req.get("sw_if_index"))
    replies = []
    for interface in sorted(ctx.state.interfaces.values(), key=lambda i: i.sw_if_index):
        t = interface.vxlan
        if t is None or wanted not in (NO_INDEX, interface.sw_if_index):
            continue
        replies.append(
            Reply(
                "vxlan_tunnel_v2_details",
                {
                    "sw_if_index": interface.sw_if_index,
                    "instance": t.instance,
                    "src_address": t.src_address,
                    "dst_address": t.dst_address,
                    "src_port": t.src_port,
                    "dst_port": t.dst_port,
                    "mcast_sw_if_index": t.mcast_sw_if_index,
                    "encap_vrf_id": t.encap_vrf_id,
                    "decap_next_index": t.decap_next_index,
                    "vni": t.vni,
                },
            )
        )
    return replies
