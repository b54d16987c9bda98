"""Handlers for VRF tables, routes and static neighbours."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from vswitch.dataplane.vpp.connection import VppApiError, VppConnection
from vswitch.dataplane.vpp.ifindex import InterfaceIndex
from vswitch.dataplane.vpp.items import TAG_PREFIX, StnRule, VppNeighbor, VppRoute, VrfTable

NO_INDEX = 0xFFFFFFFF
FIB_PATH_TYPE_NORMAL = 0
FIB_PATH_NH_PROTO_IP4 = 0
IP_NEIGHBOR_FLAG_STATIC = 1
ADDRESS_IP4 = 0
RETVAL_NO_SUCH_ENTRY = -6
RETVAL_INVALID_SW_IF_INDEX = -2
# vpp_papi packs a fib_path only when its label stack has all 16 entries.
EMPTY_LABEL_STACK = [{"is_uniform": 0, "label": 0, "ttl": 0, "exp": 0}] * 16
ANY_IP4 = ipaddress.IPv4Address(0)


class TableHandler:
    kind = VrfTable.kind

    def __init__(self, vpp: VppConnection) -> None:
        self.vpp = vpp

    async def create(self, item: VrfTable) -> None:
        # Adding an existing table only takes the API's lock on it again.
        await self.vpp.call("ip_table_add_del", is_add=True,
                            table={"table_id": item.table_id, "is_ip6": False, "name": item.name})

    async def delete(self, item: VrfTable) -> None:
        await self.vpp.call("ip_table_add_del", is_add=False,
                            table={"table_id": item.table_id, "is_ip6": False, "name": item.name})

    async def dump(self, desired: Iterable[VrfTable]) -> list[VrfTable]:
        wanted = {item.table_id for item in desired}
        found = []
        for d in await self.vpp.dump("ip_table_dump"):
            table_id, name = int(d.table.table_id), str(d.table.name).rstrip("\x00")
            if d.table.is_ip6 or table_id == 0:
                continue
            if table_id in wanted or name.startswith(TAG_PREFIX):
                found.append(VrfTable(table_id=table_id, name=name))
        return found


def route_message(item: VppRoute, sw_if_index: int) -> dict[str, object]:
    """`sw_if_index` NO_INDEX with `item.via_table` set: look up in that table."""
    next_hop = {"ip4": ipaddress.IPv4Address(item.next_hop)} if item.next_hop else {}
    path_table = item.via_table if item.via_table is not None else item.table_id
    path = {"sw_if_index": sw_if_index, "table_id": path_table, "rpf_id": 0, "weight": 1, "preference": 0,
            "type": FIB_PATH_TYPE_NORMAL, "flags": 0, "proto": FIB_PATH_NH_PROTO_IP4,
            "nh": {"address": next_hop}, "n_labels": 0, "label_stack": EMPTY_LABEL_STACK}
    return {"table_id": item.table_id, "prefix": item.dst, "n_paths": 1, "paths": [path]}


class RouteHandler:
    """Routes in the tables the agent renders into.

    A dump cannot ask VPP who made a route, so a route counts as the agent's
    when it is in a table the agent renders into, has one normal path out of
    one of the agent's tagged interfaces or into another table (VPP makes no
    such route by itself), and is not what VPP derives from an interface
    address itself (the attached subnet and the local host route).
    """

    kind = VppRoute.kind

    def __init__(self, vpp: VppConnection, ifindex: InterfaceIndex, tables: Iterable[int] = (0,)) -> None:
        self.vpp = vpp
        self.ifindex = ifindex
        self.tables = set(tables)

    async def create(self, item: VppRoute) -> None:
        sw_if_index = await self.ifindex.index(item.tag) if item.tag else NO_INDEX
        # A replace (is_multipath false) makes a retry after a crash harmless.
        await self.vpp.call("ip_route_add_del", is_add=True, is_multipath=False,
                            route=route_message(item, sw_if_index))

    async def update(self, old: VppRoute, new: VppRoute) -> None:
        if (old.table_id, old.dst) != (new.table_id, new.dst):
            await self.delete(old)
        await self.create(new)

    async def delete(self, item: VppRoute) -> None:
        # VPP deletes the prefix's route whatever its paths; a missing one is no error.
        await self.vpp.call("ip_route_add_del", is_add=False, is_multipath=False,
                            route={"table_id": item.table_id, "prefix": item.dst, "n_paths": 0, "paths": []})

    async def dump(self, desired: Iterable[VppRoute]) -> list[VppRoute]:
        wanted = {item.key(): item for item in desired}
        interfaces = await self.ifindex.dump()
        tags = {info.sw_if_index: tag for tag, info in interfaces.items()}
        derived: set[str] = set()
        for info in interfaces.values():
            for d in await self.vpp.dump("ip_address_dump", sw_if_index=info.sw_if_index, is_ipv6=False):
                address = ipaddress.ip_interface(str(d.prefix))
                derived.update((str(address.network), f"{address.ip}/32"))
        found = []
        for table_id in sorted(self.tables | {item.table_id for item in wanted.values()}):
            routes = await self.vpp.dump("ip_route_dump", table={"table_id": table_id, "is_ip6": False, "name": ""})
            for d in routes:
                route = d.route
                dst = str(route.prefix)
                if len(route.paths) != 1 or dst in derived:
                    continue
                path = route.paths[0]
                if int(path.type) != FIB_PATH_TYPE_NORMAL:
                    continue
                next_hop = path.nh.address.ip4
                next_hop_text = "" if next_hop == ANY_IP4 else str(next_hop)
                if int(path.sw_if_index) == NO_INDEX and int(path.table_id) != table_id:
                    item = VppRoute(table_id=table_id, dst=dst, via_table=int(path.table_id), next_hop=next_hop_text)
                elif (tag := tags.get(int(path.sw_if_index))) is not None:
                    item = VppRoute(table_id=table_id, dst=dst, tag=tag, next_hop=next_hop_text)
                else:
                    continue
                want = wanted.get(item.key())
                if want is not None:
                    # Dependencies are the renderer's, not VPP's: adopt them.
                    item = item.model_copy(update={"after": want.after})
                found.append(item)
        return found


class NeighborHandler:
    kind = VppNeighbor.kind

    def __init__(self, vpp: VppConnection, ifindex: InterfaceIndex) -> None:
        self.vpp = vpp
        self.ifindex = ifindex

    async def _set(self, item: VppNeighbor, sw_if_index: int, is_add: bool) -> None:
        await self.vpp.call("ip_neighbor_add_del", is_add=is_add, neighbor={
            "sw_if_index": sw_if_index, "flags": IP_NEIGHBOR_FLAG_STATIC, "mac_address": item.mac,
            "ip_address": item.ip})

    async def create(self, item: VppNeighbor) -> None:
        await self._set(item, await self.ifindex.index(item.tag), is_add=True)

    async def update(self, old: VppNeighbor, new: VppNeighbor) -> None:
        await self.create(new)

    async def delete(self, item: VppNeighbor) -> None:
        sw_if_index = await self.ifindex.lookup(item.tag)
        if sw_if_index is None:
            return
        try:
            await self._set(item, sw_if_index, is_add=False)
        except VppApiError as exc:
            if exc.retval not in (RETVAL_NO_SUCH_ENTRY, RETVAL_INVALID_SW_IF_INDEX):
                raise

    async def dump(self, desired: Iterable[VppNeighbor]) -> list[VppNeighbor]:
        tags = {info.sw_if_index: tag for tag, info in (await self.ifindex.dump()).items()}
        found = []
        for d in await self.vpp.dump("ip_neighbor_dump", sw_if_index=NO_INDEX, af=ADDRESS_IP4):
            n = d.neighbor
            tag = tags.get(int(n.sw_if_index))
            if tag is None or not int(n.flags) & IP_NEIGHBOR_FLAG_STATIC:
                continue
            found.append(VppNeighbor(tag=tag, ip=str(n.ip_address), mac=str(n.mac_address)))
        return found


class StnRuleHandler:
    """VPP's STN rules; all of them are the agent's (nothing else makes any)."""

    kind = StnRule.kind

    def __init__(self, vpp: VppConnection, ifindex: InterfaceIndex) -> None:
        self.vpp = vpp
        self.ifindex = ifindex

    async def create(self, item: StnRule) -> None:
        # An add over an existing rule moves it to the new interface.
        await self.vpp.call("stn_add_del_rule", is_add=True, ip_address=item.ip,
                            sw_if_index=await self.ifindex.index(item.tag))

    async def update(self, old: StnRule, new: StnRule) -> None:
        await self.create(new)

    async def delete(self, item: StnRule) -> None:
        try:
            await self.vpp.call("stn_add_del_rule", is_add=False, ip_address=item.ip, sw_if_index=NO_INDEX)
        except VppApiError as exc:
            if exc.retval != RETVAL_NO_SUCH_ENTRY:
                raise

    async def dump(self, desired: Iterable[StnRule]) -> list[StnRule]:
        tags = {info.sw_if_index: tag for tag, info in (await self.ifindex.dump()).items()}
        # A rule out of an interface that is not the agent's still is the
        # agent's: reported with no tag, so that it gets replaced.
        return [StnRule(ip=str(d.ip_address), tag=tags.get(int(d.sw_if_index), ""))
                for d in await self.vpp.dump("stn_rules_dump")]
