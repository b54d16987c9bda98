"""Handlers for what is set on an interface: VRF, MTU, unnumbered, admin
state, and IP addresses."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from vswitch.dataplane.vpp.connection import VppApiError, VppConnection
from vswitch.dataplane.vpp.ifindex import InterfaceIndex
from vswitch.dataplane.vpp.items import InterfaceAddress, InterfaceState

ADMIN_UP = 1
# Retvals that mean "already as wanted" for a delete.
RETVAL_INVALID_SW_IF_INDEX = -2
RETVAL_ADDRESS_NOT_FOUND = -60


class InterfaceStateHandler:
    kind = InterfaceState.kind

    def __init__(self, vpp: VppConnection, ifindex: InterfaceIndex) -> None:
        self.vpp = vpp
        self.ifindex = ifindex

    async def create(self, item: InterfaceState) -> None:
        await self._apply(None, item)

    async def update(self, old: InterfaceState, new: InterfaceState) -> None:
        await self._apply(old, new)

    async def _apply(self, old: InterfaceState | None, item: InterfaceState) -> None:
        sw_if_index = await self.ifindex.index(item.tag)
        if old is None or old.vrf != item.vrf:
            await self.vpp.call("sw_interface_set_table", sw_if_index=sw_if_index, is_ipv6=False, vrf_id=item.vrf)
        if item.mtu and (old is None or old.mtu != item.mtu):
            await self.vpp.call("sw_interface_set_mtu", sw_if_index=sw_if_index, mtu=[item.mtu, 0, 0, 0])
        if old is not None and old.unnumbered_to and old.unnumbered_to != item.unnumbered_to:
            await self._unnumbered(sw_if_index, old.unnumbered_to, is_add=False)
        if item.unnumbered_to and (old is None or old.unnumbered_to != item.unnumbered_to):
            await self._unnumbered(sw_if_index, item.unnumbered_to, is_add=True)
        await self.vpp.call("sw_interface_set_flags", sw_if_index=sw_if_index,
                            flags=ADMIN_UP if item.admin_up else 0)

    async def _unnumbered(self, sw_if_index: int, lender_tag: str, is_add: bool) -> None:
        # The wire names are the other way round: sw_if_index is the lender.
        lender = await self.ifindex.index(lender_tag)
        await self.vpp.call("sw_interface_set_unnumbered", sw_if_index=lender,
                            unnumbered_sw_if_index=sw_if_index, is_add=is_add)

    async def delete(self, item: InterfaceState) -> None:
        sw_if_index = await self.ifindex.lookup(item.tag)
        if sw_if_index is None:
            return
        try:
            await self.vpp.call("sw_interface_set_flags", sw_if_index=sw_if_index, flags=0)
            if item.unnumbered_to:
                lender = await self.ifindex.lookup(item.unnumbered_to)
                if lender is not None:
                    await self.vpp.call("sw_interface_set_unnumbered", sw_if_index=lender,
                                        unnumbered_sw_if_index=sw_if_index, is_add=False)
            if item.vrf:
                await self.vpp.call("sw_interface_set_table", sw_if_index=sw_if_index, is_ipv6=False, vrf_id=0)
        except VppApiError as exc:
            if exc.retval != RETVAL_INVALID_SW_IF_INDEX:
                raise

    async def dump(self, desired: Iterable[InterfaceState]) -> list[InterfaceState]:
        wanted = {item.tag: item for item in desired}
        interfaces = await self.ifindex.dump()
        by_index = {info.sw_if_index: tag for tag, info in interfaces.items()}
        lenders = {int(d.sw_if_index): by_index.get(int(d.ip_sw_if_index), "")
                   for d in await self.vpp.dump("ip_unnumbered_dump", sw_if_index=0xFFFFFFFF)}
        found = []
        for tag, info in interfaces.items():
            table = await self.vpp.call("sw_interface_get_table", sw_if_index=info.sw_if_index, is_ipv6=False)
            want = wanted.get(tag)
            found.append(InterfaceState(
                tag=tag, vrf=int(table.vrf_id),
                # An MTU the renderer leaves to VPP is not compared.
                mtu=info.mtu if want is None or want.mtu else 0,
                unnumbered_to=lenders.get(info.sw_if_index, ""), admin_up=info.admin_up))
        return found


class AddressHandler:
    kind = InterfaceAddress.kind

    def __init__(self, vpp: VppConnection, ifindex: InterfaceIndex) -> None:
        self.vpp = vpp
        self.ifindex = ifindex

    async def create(self, item: InterfaceAddress) -> None:
        sw_if_index = await self.ifindex.index(item.tag)
        present = await self._addresses(sw_if_index)
        if item.cidr in present:
            return
        await self.vpp.call("sw_interface_add_del_address", sw_if_index=sw_if_index, is_add=True, del_all=False,
                            prefix=item.cidr)

    async def delete(self, item: InterfaceAddress) -> None:
        sw_if_index = await self.ifindex.lookup(item.tag)
        if sw_if_index is None:
            return
        try:
            await self.vpp.call("sw_interface_add_del_address", sw_if_index=sw_if_index, is_add=False,
                                del_all=False, prefix=item.cidr)
        except VppApiError as exc:
            if exc.retval not in (RETVAL_ADDRESS_NOT_FOUND, RETVAL_INVALID_SW_IF_INDEX):
                raise

    async def _addresses(self, sw_if_index: int) -> list[str]:
        return [str(ipaddress.ip_interface(str(d.prefix)))
                for d in await self.vpp.dump("ip_address_dump", sw_if_index=sw_if_index, is_ipv6=False)]

    async def dump(self, desired: Iterable[InterfaceAddress]) -> list[InterfaceAddress]:
        found = []
        for tag, info in (await self.ifindex.dump()).items():
            found.extend(InterfaceAddress(tag=tag, cidr=cidr) for cidr in await self._addresses(info.sw_if_index))
        return found
