"""The dataplane the stand-in pretends to be, with VPP's rules and retvals.

Operations raise ApiError with the retval real VPP answers; handlers turn that
into the reply.  Nothing here knows about the wire format.
"""

from __future__ import annotations

import ipaddress
import os
import random
from dataclasses import replace

from .config import StandinConfig
from .fib import interface_routes, special_routes
from .model import (
    NO_INDEX,
    AfPacketInfo,
    FibPath,
    Interface,
    InterfaceKind,
    IPInterface,
    IPNetwork,
    Neighbor,
    Route,
    Table,
    TapInfo,
    VxlanInfo,
)
from .retval import ApiError, Retval

# VPP keeps tap ids in a bitmap of this size.
TAP_MAX_INSTANCE = 1024 * 8
VXLAN_DEFAULT_PORT = 4789
# vxlan4-input's next nodes: 0 error-drop, 1 l2-input; ~0 means l2-input.
VXLAN_DECAP_NEXT_L2 = 1
_VXLAN_VALID_DECAP = {0, 1}

NEIGHBOR_FLAG_STATIC = 1


def random_mac() -> bytes:
    # VPP's choice for generated addresses: locally administered 02:fe prefix.
    return bytes([0x02, 0xFE]) + random.getrandbits(32).to_bytes(4, "big")


def _lowest_free(used: set[int], start: int = 0) -> int:
    candidate = start
    while candidate in used:
        candidate += 1
    return candidate


class DataplaneState:
    def __init__(self, config: StandinConfig | None = None) -> None:
        self.config = config or StandinConfig()
        self.interfaces: dict[int, Interface] = {}
        self._free_indices: list[int] = []
        self._next_index = 0
        self.tables: dict[tuple[bool, int], Table] = {}
        self.neighbors: dict[tuple[int, ipaddress.IPv4Address | ipaddress.IPv6Address], Neighbor] = {}
        # STN rules: the node's address -> the interface its punted traffic leaves by.
        self.stn_rules: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, int] = {}
        self._stats_index = 0
        # host_if_name -> sw_if_index, so duplicate checks stay O(1) with
        # thousands of pods.
        self._af_packet_hosts: dict[str, int] = {}
        for is_ip6 in (False, True):
            self.tables[(is_ip6, 0)] = Table(0, is_ip6, self._default_table_name(is_ip6, 0), api_locked=False)
        self._add_interface(Interface(sw_if_index=0, name="local0", kind=InterfaceKind.LOCAL, mac=bytes(6), link_mtu=0, mtu=[0, 0, 0, 0]))

    # ---- interfaces -------------------------------------------------------

    def _alloc_index(self) -> int:
        # VPP's pools hand the most recently freed index out first.
        if self._free_indices:
            return self._free_indices.pop()
        index = self._next_index
        self._next_index += 1
        return index

    def _add_interface(self, interface: Interface) -> Interface:
        self.interfaces[interface.sw_if_index] = interface
        if interface.sw_if_index >= self._next_index:
            self._next_index = interface.sw_if_index + 1
        return interface

    def _new_interface(self, **kwargs: object) -> Interface:
        return self._add_interface(Interface(sw_if_index=self._alloc_index(), **kwargs))  # type: ignore[arg-type]

    def _delete_interface(self, sw_if_index: int) -> None:
        interface = self.interfaces.pop(sw_if_index)
        if interface.af_packet is not None:
            self._af_packet_hosts.pop(interface.af_packet.host_if_name, None)
        for key in [k for k in self.neighbors if k[0] == sw_if_index]:
            del self.neighbors[key]
        for other in self.interfaces.values():
            if other.unnumbered_of == sw_if_index:
                other.unnumbered_of = None
        for is_ip6 in (False, True):
            self._release_table_if_unused(is_ip6, interface.table(is_ip6))
        self._free_indices.append(sw_if_index)

    def interface(self, sw_if_index: int, retval: Retval = Retval.INVALID_SW_IF_INDEX) -> Interface:
        interface = self.interfaces.get(sw_if_index)
        if interface is None:
            raise ApiError(retval, f"no interface {sw_if_index}")
        return interface

    def set_flags(self, sw_if_index: int, admin_up: bool) -> None:
        interface = self.interface(sw_if_index)
        interface.admin_up = admin_up
        # Loopbacks and VXLAN tunnels have no carrier of their own: VPP
        # raises their link with the admin state.
        if interface.kind in (InterfaceKind.LOOPBACK, InterfaceKind.VXLAN):
            interface.link_up = admin_up

    def set_mtu(self, sw_if_index: int, mtu: list[int]) -> None:
        self.interface(sw_if_index).mtu = list(mtu)

    def set_mac(self, sw_if_index: int, mac: bytes) -> None:
        interface = self.interface(sw_if_index)
        if interface.kind is InterfaceKind.LOCAL:
            raise ApiError(Retval.UNIMPLEMENTED, "local0 has no MAC address")
        interface.mac = mac

    def set_tag(self, sw_if_index: int, tag: str, is_add: bool) -> None:
        interface = self.interface(sw_if_index)
        if is_add:
            if not tag:
                raise ApiError(Retval.INVALID_VALUE, "empty tag")
            interface.tag = tag[:63]
        else:
            interface.tag = ""

    def set_table(self, sw_if_index: int, is_ip6: bool, table_id: int) -> None:
        interface = self.interface(sw_if_index)
        if (is_ip6, table_id) not in self.tables:
            raise ApiError(Retval.NO_SUCH_FIB, f"table {table_id}")
        if any(a.version == (6 if is_ip6 else 4) for a in interface.addresses):
            raise ApiError(Retval.ADDRESS_FOUND_FOR_INTERFACE, "remove addresses before changing VRF")
        old = interface.table(is_ip6)
        if is_ip6:
            interface.ip6_table = table_id
        else:
            interface.ip4_table = table_id
        self._release_table_if_unused(is_ip6, old)

    def add_del_address(self, sw_if_index: int, is_add: bool, del_all: bool, prefix: IPInterface | None) -> None:
        interface = self.interface(sw_if_index)
        if del_all:
            interface.addresses.clear()
            return
        if prefix is None:
            raise ApiError(Retval.INVALID_VALUE, "no prefix")
        if interface.kind is InterfaceKind.LOCAL:
            raise ApiError(Retval.UNSUPPORTED, "local0 interface doesn't support IP addressing")
        if not is_add:
            if prefix not in interface.addresses:
                raise ApiError(Retval.ADDRESS_NOT_FOUND_FOR_INTERFACE, str(prefix))
            interface.addresses.remove(prefix)
            return
        self._check_address_conflict(interface, prefix)
        interface.addresses.append(prefix)

    def _check_address_conflict(self, interface: Interface, prefix: IPInterface) -> None:
        # VPP refuses overlapping subnets within one FIB; only several
        # addresses of the same subnet and length on one interface may coexist.
        is_ip6 = prefix.version == 6
        table = interface.table(is_ip6)
        for other in self.interfaces.values():
            if other.table(is_ip6) != table:
                continue
            for existing in other.addresses:
                if existing.version != prefix.version:
                    continue
                if prefix.ip in existing.network or existing.ip in prefix.network:
                    same_subnet_sibling = (
                        other is interface
                        and existing.network.prefixlen == prefix.network.prefixlen
                        and existing.ip != prefix.ip
                    )
                    if not same_subnet_sibling:
                        raise ApiError(Retval.ADDRESS_IN_USE, f"{prefix} conflicts with {existing} on {other.name}")

    def set_unnumbered(self, lender: int, borrower: int, is_add: bool) -> None:
        # Field names on the wire are the other way round; the handler maps them.
        if borrower not in self.interfaces:
            raise ApiError(Retval.INVALID_SW_IF_INDEX, f"no interface {borrower}")
        if is_add and lender not in self.interfaces:
            raise ApiError(Retval.INVALID_SW_IF_INDEX_2, f"no interface {lender}")
        self.interfaces[borrower].unnumbered_of = lender if is_add else None

    # ---- loopback ---------------------------------------------------------

    def create_loopback(self, mac: bytes, is_specified: bool, user_instance: int) -> int:
        used = {i.instance for i in self.interfaces.values() if i.kind is InterfaceKind.LOOPBACK}
        if is_specified:
            if user_instance in used:
                raise ApiError(Retval.INVALID_REGISTRATION, f"loop{user_instance} exists")
            instance = user_instance
        else:
            instance = _lowest_free(used)
        if not any(mac):
            # VPP's default loopback MAC: de:ad:00:00:00:<instance>.
            mac = bytes([0xDE, 0xAD, 0, 0, 0, instance & 0xFF])
        interface = self._new_interface(name=f"loop{instance}", kind=InterfaceKind.LOOPBACK, mac=mac, instance=instance)
        return interface.sw_if_index

    def delete_loopback(self, sw_if_index: int) -> None:
        interface = self.interfaces.get(sw_if_index)
        if interface is None or interface.kind is not InterfaceKind.LOOPBACK:
            raise ApiError(Retval.INVALID_SW_IF_INDEX, f"{sw_if_index} is not a loopback")
        self._delete_interface(sw_if_index)

    # ---- af_packet --------------------------------------------------------

    def af_packet_create(self, info: AfPacketInfo, hw_addr: bytes | None) -> int:
        if info.mode not in (1, 2):
            raise ApiError(Retval.INVALID_VALUE, f"af_packet mode {info.mode}")
        if self._af_packet_by_host(info.host_if_name) is not None:
            raise ApiError(Retval.IF_ALREADY_EXISTS, f"host-{info.host_if_name} exists")
        if self.config.check_host_interfaces and not os.path.exists(f"/sys/class/net/{info.host_if_name}"):
            raise ApiError(Retval.INVALID_INTERFACE, f"no host interface {info.host_if_name}")
        interface = self._new_interface(
            name=f"host-{info.host_if_name}",
            kind=InterfaceKind.AF_PACKET,
            mac=hw_addr if hw_addr and any(hw_addr) else random_mac(),
            link_up=True,
            link_mtu=1500,
            mtu=[1500, 0, 0, 0],
            af_packet=info,
        )
        self._af_packet_hosts[info.host_if_name] = interface.sw_if_index
        return interface.sw_if_index

    def _af_packet_by_host(self, host_if_name: str) -> Interface | None:
        sw_if_index = self._af_packet_hosts.get(host_if_name)
        return self.interfaces.get(sw_if_index) if sw_if_index is not None else None

    def af_packet_delete(self, host_if_name: str) -> None:
        interface = self._af_packet_by_host(host_if_name)
        if interface is None:
            # VPP answers a missing host interface with its first syscall error.
            raise ApiError(Retval.SYSCALL_ERROR_1, f"no af_packet on {host_if_name}")
        self._delete_interface(interface.sw_if_index)

    # ---- tap --------------------------------------------------------------

    def tap_create(self, requested_id: int, mac: bytes | None, info: TapInfo) -> int:
        used = {i.tap.id for i in self.interfaces.values() if i.tap is not None}
        if requested_id != NO_INDEX:
            if requested_id in used:
                raise ApiError(Retval.INVALID_INTERFACE, f"tap{requested_id} exists")
            tap_id = requested_id
        else:
            tap_id = _lowest_free(used)
        if tap_id > TAP_MAX_INSTANCE:
            raise ApiError(Retval.UNSPECIFIED, "cannot find free interface id")
        if self.config.check_host_namespaces and info.host_namespace:
            ns = info.host_namespace
            path = ns if ns.startswith("/") else f"/var/run/netns/{ns}"
            if not os.path.exists(path):
                raise ApiError(Retval.SYSCALL_ERROR_2, f"netns {ns}")
        host_if_name = info.host_if_name or f"tap{tap_id}"
        # TUNSETIFF on a name another tap holds fails with EBUSY, before
        # VPP ever gets to vhost-net.
        if any(i.tap is not None and i.tap.host_if_name == host_if_name for i in self.interfaces.values()):
            raise ApiError(Retval.SYSCALL_ERROR_3, f"host interface {host_if_name} busy")
        if not self.config.vhost_net_available():
            raise ApiError(Retval.SYSCALL_ERROR_1, "open '/dev/vhost-net'")
        stored = replace(
            info,
            id=tap_id,
            host_if_name=host_if_name,
            host_mac_addr=info.host_mac_addr if any(info.host_mac_addr) else random_mac(),
        )
        interface = self._new_interface(
            name=f"tap{tap_id}",
            kind=InterfaceKind.TAP,
            mac=mac if mac and any(mac) else random_mac(),
            link_up=True,
            tap=stored,
        )
        return interface.sw_if_index

    def tap_delete(self, sw_if_index: int) -> None:
        interface = self.interfaces.get(sw_if_index)
        if interface is None or interface.kind is not InterfaceKind.TAP:
            raise ApiError(Retval.INVALID_SW_IF_INDEX, f"{sw_if_index} is not a tap")
        self._delete_interface(sw_if_index)

    # ---- vxlan ------------------------------------------------------------

    def vxlan_add_del(self, is_add: bool, info: VxlanInfo) -> int:
        if (info.dst_address.version == 6, info.encap_vrf_id) not in self.tables:
            raise ApiError(Retval.NO_SUCH_FIB, f"encap vrf {info.encap_vrf_id}")
        if info.src_address.version != info.dst_address.version:
            raise ApiError(Retval.INVALID_VALUE, "mixed address families")
        if info.src_address == info.dst_address:
            raise ApiError(Retval.SAME_SRC_DST, str(info.src_address))
        if info.dst_address.is_multicast and info.mcast_sw_if_index not in self.interfaces:
            raise ApiError(Retval.INVALID_SW_IF_INDEX, "multicast tunnel needs an interface")
        if info.src_port == 0:
            info.src_port = VXLAN_DEFAULT_PORT
        if info.dst_port == 0:
            info.dst_port = VXLAN_DEFAULT_PORT
        existing = next(
            (i for i in self.interfaces.values() if i.vxlan is not None and i.vxlan.key() == info.key()),
            None,
        )
        if not is_add:
            if existing is None:
                raise ApiError(Retval.NO_SUCH_ENTRY, "no such tunnel")
            self._delete_interface(existing.sw_if_index)
            return existing.sw_if_index
        if existing is not None:
            raise ApiError(Retval.TUNNEL_EXIST, f"{existing.name}")
        if info.decap_next_index == NO_INDEX:
            info.decap_next_index = VXLAN_DECAP_NEXT_L2
        if info.decap_next_index not in _VXLAN_VALID_DECAP:
            raise ApiError(Retval.INVALID_DECAP_NEXT, str(info.decap_next_index))
        used = {i.vxlan.instance for i in self.interfaces.values() if i.vxlan is not None}
        if info.instance == NO_INDEX:
            info.instance = _lowest_free(used)
        elif info.instance in used:
            raise ApiError(Retval.INSTANCE_IN_USE, f"vxlan_tunnel{info.instance}")
        interface = self._new_interface(
            name=f"vxlan_tunnel{info.instance}",
            kind=InterfaceKind.VXLAN,
            mac=random_mac(),
            instance=info.instance,
            vxlan=info,
        )
        return interface.sw_if_index

    # ---- tables and routes ------------------------------------------------

    @staticmethod
    def _default_table_name(is_ip6: bool, table_id: int) -> str:
        return f"ipv{6 if is_ip6 else 4}-VRF:{table_id}"

    def table_add_del(self, table_id: int, is_ip6: bool, name: str, is_add: bool) -> None:
        # Table 0 always exists and the API can neither add nor remove it.
        if table_id == 0:
            return
        key = (is_ip6, table_id)
        if is_add:
            table = self.tables.get(key)
            if table is None:
                self.tables[key] = Table(table_id, is_ip6, name or self._default_table_name(is_ip6, table_id), api_locked=True)
            else:
                table.api_locked = True
            return
        table = self.tables.get(key)
        # Deleting an absent table is a silent no-op in VPP.
        if table is not None:
            table.api_locked = False
            self._release_table_if_unused(is_ip6, table_id)

    def _release_table_if_unused(self, is_ip6: bool, table_id: int) -> None:
        table = self.tables.get((is_ip6, table_id))
        if table is None or table_id == 0 or table.api_locked:
            return
        # An interface bound to the table holds its own lock on it.
        if any(i.table(is_ip6) == table_id for i in self.interfaces.values()):
            return
        del self.tables[(is_ip6, table_id)]

    def table(self, table_id: int, is_ip6: bool) -> Table:
        table = self.tables.get((is_ip6, table_id))
        if table is None:
            raise ApiError(Retval.NO_SUCH_FIB, f"table {table_id}")
        return table

    def _validate_path(self, path: FibPath) -> None:
        # Only IP next hops are resolved against interfaces or tables.
        if path.type != 0 or path.proto not in (0, 1):
            return
        if path.sw_if_index == NO_INDEX:
            if (path.proto == 1, path.table_id) not in self.tables:
                raise ApiError(Retval.NO_SUCH_FIB, f"next-hop table {path.table_id}")
        elif path.sw_if_index not in self.interfaces:
            raise ApiError(Retval.NO_MATCHING_INTERFACE, f"no interface {path.sw_if_index}")

    def route_add_del(self, is_add: bool, is_multipath: bool, route: Route) -> int:
        is_ip6 = route.prefix.version == 6
        table = self.table(route.table_id, is_ip6)
        for path in route.paths:
            self._validate_path(path)
        existing = table.routes.get(route.prefix)
        if is_multipath:
            if not route.paths:
                raise ApiError(Retval.NO_PATHS_IN_ROUTE, str(route.prefix))
            if is_add:
                if existing is None:
                    existing = self._store_route(table, route, [])
                known = {p.identity() for p in existing.paths}
                existing.paths.extend(p for p in route.paths if p.identity() not in known)
            elif existing is not None:
                removed = {p.identity() for p in route.paths}
                existing.paths = [p for p in existing.paths if p.identity() not in removed]
                if not existing.paths:
                    del table.routes[route.prefix]
            return existing.stats_index if existing is not None else NO_INDEX
        if is_add:
            if not route.paths:
                raise ApiError(Retval.NO_PATHS_IN_ROUTE, str(route.prefix))
            if existing is None:
                existing = self._store_route(table, route, list(route.paths))
            else:
                existing.paths = list(route.paths)
                existing.src = route.src
            return existing.stats_index
        # Deleting a route that is not there is a silent no-op in VPP.
        table.routes.pop(route.prefix, None)
        return NO_INDEX

    def _store_route(self, table: Table, route: Route, paths: list[FibPath]) -> Route:
        self._stats_index += 1
        stored = Route(table.table_id, route.prefix, paths, src=route.src, stats_index=self._stats_index)
        table.routes[route.prefix] = stored
        return stored

    def routes(self, table_id: int, is_ip6: bool) -> list[Route]:
        table = self.table(table_id, is_ip6)
        entries: dict[IPNetwork, Route] = {}
        if self.config.special_routes:
            for r in special_routes(table_id, is_ip6):
                entries[r.prefix] = r
            for interface in self.interfaces.values():
                if interface.table(is_ip6) == table_id:
                    for r in interface_routes(interface, is_ip6):
                        entries[r.prefix] = r
        entries.update(table.routes)
        return sorted(entries.values(), key=lambda r: (int(r.prefix.network_address), r.prefix.prefixlen))

    # ---- neighbours -------------------------------------------------------

    def neighbor_add_del(self, is_add: bool, neighbor: Neighbor) -> int:
        self.interface(neighbor.sw_if_index)
        key = (neighbor.sw_if_index, neighbor.ip_address)
        existing = self.neighbors.get(key)
        if not is_add:
            if existing is None:
                raise ApiError(Retval.NO_SUCH_ENTRY, f"{neighbor.ip_address}")
            del self.neighbors[key]
            return NO_INDEX
        if existing is not None:
            new_static = bool(neighbor.flags & NEIGHBOR_FLAG_STATIC)
            old_static = bool(existing.flags & NEIGHBOR_FLAG_STATIC)
            # A static entry is not overwritten by a dynamic one with another MAC.
            if not new_static and old_static:
                if existing.mac != neighbor.mac:
                    raise ApiError(Retval.INVALID_SW_IF_INDEX, "static neighbour in place")
                return NO_INDEX
            existing.mac = neighbor.mac
            existing.flags = neighbor.flags | (existing.flags & NEIGHBOR_FLAG_STATIC)
            return NO_INDEX
        self.neighbors[key] = neighbor
        return NO_INDEX

    # ---- stn plugin -------------------------------------------------------

    def stn_rule_add_del(self, is_add: bool, address: ipaddress.IPv4Address | ipaddress.IPv6Address,
                         sw_if_index: int) -> None:
        if not is_add:
            # VPP looks the rule up by address alone; the interface is ignored.
            if self.stn_rules.pop(address, None) is None:
                raise ApiError(Retval.NO_SUCH_ENTRY, f"no STN rule for {address}")
            return
        # VPP would look up the interface's output node; it must exist.
        self.interface(sw_if_index)
        # An add over an existing rule moves it to the new interface.
        self.stn_rules[address] = sw_if_index

