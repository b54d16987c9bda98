"""Handlers for the interfaces the agent creates in VPP: pod links,
loopbacks and the af_packet uplink. (VXLAN tunnels are in mesh.py.)"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from vswitch.dataplane.linux.handlers import VethHandler
from vswitch.dataplane.linux.items import Veth
from vswitch.dataplane.vpp.connection import VppApiError, VppConnection
from vswitch.dataplane.vpp.ifindex import InterfaceIndex
from vswitch.dataplane.linux.netns import HOST
from vswitch.dataplane.vpp.items import HOST_TAG, LOOP_TAG, POD_TAG, UPLINK_TAG, Loopback, PodInterface, Uplink

log = logging.getLogger(__name__)

NO_INDEX = 0xFFFFFFFF
# tap_create_v3 answers this when /dev/vhost-net cannot be opened.
RETVAL_NO_VHOST_NET = -11
AF_PACKET_MODE_ETHERNET = 1
AF_PACKET_PREFIX = "host-"


def pod_veth(item: PodInterface) -> Veth:
    return Veth(host_ifname=item.veth_ifname, host_mac=item.veth_mac, pod_netns=item.pod_netns,
                pod_ifname=item.pod_ifname, pod_mac=item.pod_mac, mtu=item.mtu)


async def _delete_by_name(vpp: VppConnection, sw_if_index: int) -> None:
    """Delete a tap or an af_packet interface, whichever it is."""
    details = await vpp.dump("sw_interface_dump", sw_if_index=sw_if_index)
    if not details:
        return
    name = str(details[0].interface_name)
    if name.startswith(AF_PACKET_PREFIX):
        await vpp.call("af_packet_delete", host_if_name=name[len(AF_PACKET_PREFIX):])
    else:
        await vpp.call("tap_delete_v2", sw_if_index=sw_if_index)


class PodInterfaceHandler:
    kind = PodInterface.kind

    def __init__(self, vpp: VppConnection, ifindex: InterfaceIndex, veths: VethHandler,
                 use_tap: bool = True) -> None:
        self.vpp = vpp
        self.ifindex = ifindex
        self.veths = veths
        # Cleared the first time VPP says it has no vhost-net: it will not
        # grow one while running.
        self.use_tap = use_tap

    async def create(self, item: PodInterface) -> None:
        if await self.ifindex.lookup(item.tag) is not None:
            # Left over from an interrupted attempt: start clean.
            await self.delete(item)
        if self.use_tap:
            try:
                await self._create_tap(item)
                return
            except VppApiError as exc:
                if exc.retval != RETVAL_NO_VHOST_NET:
                    raise
                log.warning("VPP cannot create tap interfaces (no /dev/vhost-net); pods get veth + af_packet")
                self.use_tap = False
        await self._create_veth(item)

    async def _create_tap(self, item: PodInterface) -> None:
        reply = await self.vpp.call(
            "tap_create_v3", id=NO_INDEX, use_random_mac=False, mac_address=item.vpp_mac,
            host_if_name_set=True, host_if_name=item.pod_ifname,
            # Unset, the Linux end stays in VPP's own namespace: the node's.
            host_namespace_set=item.pod_netns != HOST, host_namespace=item.pod_netns,
            host_mac_addr_set=True, host_mac_addr=item.pod_mac,
            host_mtu_set=True, host_mtu_size=item.mtu, tag=item.tag)
        self.ifindex.learn(item.tag, reply.sw_if_index)

    async def _create_veth(self, item: PodInterface) -> None:
        veth = pod_veth(item)
        # After a VPP restart the veth is still there, and with it the
        # addresses and routes on its Linux end: recreating it would lose them.
        created = veth not in await self.veths.dump([veth])
        if created:
            await self.veths.create(veth)
        try:
            reply = await self.vpp.call(
                "af_packet_create_v3", mode=AF_PACKET_MODE_ETHERNET, hw_addr=item.vpp_mac,
                use_random_hw_addr=False, host_if_name=item.veth_ifname, num_rx_queues=1, num_tx_queues=1)
            self.ifindex.learn(item.tag, reply.sw_if_index)
            await self.vpp.call("sw_interface_tag_add_del", is_add=True, sw_if_index=reply.sw_if_index, tag=item.tag)
        except Exception:
            # An untagged af_packet would be invisible to dumps: take it all back.
            self.ifindex.forget(item.tag)
            with contextlib.suppress(Exception):
                await self.vpp.call("af_packet_delete", host_if_name=item.veth_ifname)
            if created:
                with contextlib.suppress(Exception):
                    await self.veths.delete(veth)
            raise

    async def delete(self, item: PodInterface) -> None:
        sw_if_index = await self.ifindex.lookup(item.tag)
        if sw_if_index is not None:
            await _delete_by_name(self.vpp, sw_if_index)
            self.ifindex.forget(item.tag)
        if item.veth_ifname:
            await self.veths.delete(pod_veth(item))

    async def dump(self, desired: Iterable[PodInterface]) -> list[PodInterface]:
        wanted = {item.tag: item for item in desired}
        ours = {tag: info for tag, info in (await self.ifindex.dump()).items()
                if tag.startswith((POD_TAG, HOST_TAG))}
        if not ours:
            return []
        taps = {int(t.sw_if_index): t for t in await self.vpp.dump("sw_interface_tap_v2_dump", sw_if_index=NO_INDEX)}
        found: list[PodInterface] = []
        af_packets: dict[str, tuple[str, PodInterface | None]] = {}
        for tag, info in ours.items():
            want = wanted.get(tag)
            tap = taps.get(info.sw_if_index)
            if tap is not None:
                found.append(PodInterface(
                    tag=tag, vpp_mac=info.mac, pod_netns=str(tap.host_namespace), pod_ifname=str(tap.host_if_name),
                    pod_mac=str(tap.host_mac_addr), mtu=int(tap.host_mtu_size),
                    veth_ifname=want.veth_ifname if want else "", veth_mac=want.veth_mac if want else ""))
            elif info.name.startswith(AF_PACKET_PREFIX):
                af_packets[tag] = (info.name[len(AF_PACKET_PREFIX):], want)
        # One host-side dump for all veths, not one per pod.
        veths = {v.host_ifname: v for v in await self.veths.dump(
            [pod_veth(want) for _, want in af_packets.values() if want is not None])} if af_packets else {}
        for tag, (host_ifname, want) in af_packets.items():
            veth = veths.get(host_ifname)
            vpp_mac = ours[tag].mac
            if veth is None:
                # The node end is gone: what is left in VPP must be replaced.
                veth = Veth(host_ifname=host_ifname, host_mac="", pod_netns="", pod_ifname="", pod_mac="", mtu=0)
            found.append(PodInterface(tag=tag, vpp_mac=vpp_mac, pod_netns=veth.pod_netns, pod_ifname=veth.pod_ifname,
                                      pod_mac=veth.pod_mac, mtu=veth.mtu, veth_ifname=host_ifname,
                                      veth_mac=veth.host_mac))
        return found


class LoopbackHandler:
    kind = Loopback.kind

    def __init__(self, vpp: VppConnection, ifindex: InterfaceIndex) -> None:
        self.vpp = vpp
        self.ifindex = ifindex

    async def create(self, item: Loopback) -> None:
        if await self.ifindex.lookup(item.tag) is not None:
            await self.delete(item)
        reply = await self.vpp.call("create_loopback_instance", mac_address=item.mac, is_specified=False,
                                    user_instance=0)
        self.ifindex.learn(item.tag, reply.sw_if_index)
        try:
            await self.vpp.call("sw_interface_tag_add_del", is_add=True, sw_if_index=reply.sw_if_index, tag=item.tag)
        except Exception:
            self.ifindex.forget(item.tag)
            with contextlib.suppress(Exception):
                await self.vpp.call("delete_loopback", sw_if_index=reply.sw_if_index)
            raise

    async def delete(self, item: Loopback) -> None:
        sw_if_index = await self.ifindex.lookup(item.tag)
        if sw_if_index is None:
            return
        await self.vpp.call("delete_loopback", sw_if_index=sw_if_index)
        self.ifindex.forget(item.tag)

    async def dump(self, desired: Iterable[Loopback]) -> list[Loopback]:
        return [Loopback(tag=tag, mac=info.mac) for tag, info in (await self.ifindex.dump()).items()
                if tag.startswith(LOOP_TAG)]


class UplinkHandler:
    kind = Uplink.kind

    def __init__(self, vpp: VppConnection, ifindex: InterfaceIndex) -> None:
        self.vpp = vpp
        self.ifindex = ifindex

    async def create(self, item: Uplink) -> None:
        if await self.ifindex.lookup(item.tag) is not None:
            await self.delete(item)
        if item.vpp_name:
            await self._adopt(item)
            return
        reply = await self.vpp.call("af_packet_create_v3", mode=AF_PACKET_MODE_ETHERNET, use_random_hw_addr=True,
                                    host_if_name=item.host_ifname, num_rx_queues=1, num_tx_queues=1)
        self.ifindex.learn(item.tag, reply.sw_if_index)
        try:
            await self.vpp.call("sw_interface_tag_add_del", is_add=True, sw_if_index=reply.sw_if_index, tag=item.tag)
        except Exception:
            self.ifindex.forget(item.tag)
            with contextlib.suppress(Exception):
                await self.vpp.call("af_packet_delete", host_if_name=item.host_ifname)
            raise

    async def _adopt(self, item: Uplink) -> None:
        found = [d for d in await self.vpp.dump("sw_interface_dump", sw_if_index=NO_INDEX)
                 if str(d.interface_name) == item.vpp_name]
        if not found:
            # Not an error to retry soon: startup.conf did not make it, or VPP failed to.
            raise LookupError(f"VPP has no interface {item.vpp_name}; check the uplink in startup.conf")
        sw_if_index = int(found[0].sw_if_index)
        await self.vpp.call("sw_interface_tag_add_del", is_add=True, sw_if_index=sw_if_index, tag=item.tag)
        self.ifindex.learn(item.tag, sw_if_index)

    async def delete(self, item: Uplink) -> None:
        sw_if_index = await self.ifindex.lookup(item.tag)
        if sw_if_index is None:
            return
        if item.vpp_name:
            # VPP's own interface stays; it is just not the agent's any more.
            await self.vpp.call("sw_interface_tag_add_del", is_add=False, sw_if_index=sw_if_index, tag="")
        else:
            await _delete_by_name(self.vpp, sw_if_index)
        self.ifindex.forget(item.tag)

    async def dump(self, desired: Iterable[Uplink]) -> list[Uplink]:
        found = []
        for tag, info in (await self.ifindex.dump()).items():
            if not tag.startswith(UPLINK_TAG):
                continue
            if info.name.startswith(AF_PACKET_PREFIX):
                found.append(Uplink(tag=tag, host_ifname=info.name[len(AF_PACKET_PREFIX):]))
            else:
                found.append(Uplink(tag=tag, vpp_name=info.name))
        return found
