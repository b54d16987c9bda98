"""The node mesh: one L3 VXLAN tunnel to every other node."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from vswitch.dataplane.vpp.connection import VppApiError, VppConnection
from vswitch.dataplane.vpp.ifindex import InterfaceIndex
from vswitch.dataplane.vpp.items import VXLAN_TAG, VxlanTunnel

NO_INDEX = 0xFFFFFFFF
RETVAL_NO_SUCH_ENTRY = -6


def _tunnel(item: VxlanTunnel, is_add: bool) -> dict[str, object]:
    # Port 0 is VPP's default (4789), both ways; the encap VRF is the
    # underlay's, the default table.
    return {"is_add": is_add, "instance": NO_INDEX, "src_address": item.src, "dst_address": item.dst,
            "src_port": 0, "dst_port": 0, "mcast_sw_if_index": NO_INDEX, "encap_vrf_id": 0,
            "decap_next_index": NO_INDEX, "vni": item.vni, "is_l3": True}


class VxlanHandler:
    kind = VxlanTunnel.kind

    def __init__(self, vpp: VppConnection, ifindex: InterfaceIndex) -> None:
        self.vpp = vpp
        self.ifindex = ifindex

    async def create(self, item: VxlanTunnel) -> None:
        # A tunnel left untagged by an interrupted attempt has the same
        # endpoints and VNI: remove it, VPP refuses a second one.
        with contextlib.suppress(VppApiError):
            await self.vpp.call("vxlan_add_del_tunnel_v3", **_tunnel(item, is_add=False))
        reply = await self.vpp.call("vxlan_add_del_tunnel_v3", **_tunnel(item, is_add=True))
        self.ifindex.learn(item.tag, reply.sw_if_index)
        await self.vpp.call("sw_interface_tag_add_del", is_add=True, sw_if_index=reply.sw_if_index, tag=item.tag)

    async def delete(self, item: VxlanTunnel) -> None:
        try:
            await self.vpp.call("vxlan_add_del_tunnel_v3", **_tunnel(item, is_add=False))
        except VppApiError as exc:
            if exc.retval != RETVAL_NO_SUCH_ENTRY:
                raise
        self.ifindex.forget(item.tag)

    async def dump(self, desired: Iterable[VxlanTunnel]) -> list[VxlanTunnel]:
        tags = {info.sw_if_index: tag for tag, info in (await self.ifindex.dump()).items()
                if tag.startswith(VXLAN_TAG)}
        found = []
        for d in await self.vpp.dump("vxlan_tunnel_v2_dump", sw_if_index=NO_INDEX):
            tag = tags.get(int(d.sw_if_index))
            if tag is not None:
                found.append(VxlanTunnel(tag=tag, src=str(d.src_address), dst=str(d.dst_address), vni=int(d.vni)))
        return found
