"""Which sw_if_index each of the agent's tagged interfaces has.

Handlers look interfaces up by tag on every call; a full sw_interface_dump
each time would dominate (10,000 routes, 10,000 dumps), so the map is cached,
kept current by the handlers that create and delete interfaces, refreshed on
a miss, and thrown away when the connection is re-established (a restarted
VPP hands out different indices).
"""

from __future__ import annotations

from dataclasses import dataclass

from vswitch.dataplane.vpp.connection import VppConnection
from vswitch.dataplane.vpp.items import TAG_PREFIX


@dataclass(frozen=True)
class InterfaceInfo:
    sw_if_index: int
    name: str
    tag: str
    mac: str
    admin_up: bool
    mtu: int


class InterfaceIndex:
    def __init__(self, vpp: VppConnection) -> None:
        self.vpp = vpp
        self._by_tag: dict[str, int] = {}
        self._fresh = False
        vpp.listeners.append(self.invalidate)

    def invalidate(self) -> None:
        self._by_tag.clear()
        self._fresh = False

    async def dump(self) -> dict[str, InterfaceInfo]:
        """Every interface the agent tagged, from VPP (and the cache refreshed)."""
        found: dict[str, InterfaceInfo] = {}
        for d in await self.vpp.dump("sw_interface_dump", sw_if_index=0xFFFFFFFF):
            tag = str(d.tag).rstrip("\x00")
            if not tag.startswith(TAG_PREFIX):
                continue
            found[tag] = InterfaceInfo(sw_if_index=int(d.sw_if_index), name=str(d.interface_name), tag=tag,
                                       mac=str(d.l2_address), admin_up=bool(int(d.flags) & 1), mtu=int(d.mtu[0]))
        self._by_tag = {tag: info.sw_if_index for tag, info in found.items()}
        self._fresh = True
        return found

    async def lookup(self, tag: str) -> int | None:
        index = self._by_tag.get(tag)
        if index is None and not self._fresh:
            await self.dump()
            index = self._by_tag.get(tag)
        return index

    async def index(self, tag: str) -> int:
        index = await self.lookup(tag)
        if index is None:
            # Maybe made by someone else since the last dump: one more look.
            await self.dump()
            index = self._by_tag.get(tag)
        if index is None:
            raise LookupError(f"VPP has no interface tagged {tag}")
        return index

    def learn(self, tag: str, sw_if_index: int) -> None:
        self._by_tag[tag] = sw_if_index

    def forget(self, tag: str) -> None:
        self._by_tag.pop(tag, None)
