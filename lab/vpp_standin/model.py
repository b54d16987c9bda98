"""Plain-Python objects the dataplane state is made of (no wire types)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import Enum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface

NO_INDEX = 0xFFFFFFFF


class InterfaceKind(str, Enum):
    LOCAL = "local"
    LOOPBACK = "loopback"
    AF_PACKET = "af_packet"
    TAP = "tap"
    VXLAN = "vxlan"


# Device-class names VPP reports in sw_interface_details.interface_dev_type.
DEV_TYPE = {
    InterfaceKind.LOCAL: "local",
    InterfaceKind.LOOPBACK: "Loopback",
    InterfaceKind.AF_PACKET: "af-packet",
    InterfaceKind.TAP: "tap",
    InterfaceKind.VXLAN: "VXLAN",
}


@dataclass
class TapInfo:
    id: int
    host_if_name: str
    host_namespace: str
    host_bridge: str
    host_mtu_size: int
    host_mac_addr: bytes
    host_ip4_prefix: ipaddress.IPv4Interface | None
    host_ip6_prefix: ipaddress.IPv6Interface | None
    tap_flags: int
    tx_ring_sz: int
    rx_ring_sz: int


@dataclass
class AfPacketInfo:
    host_if_name: str
    mode: int
    flags: int
    num_rx_queues: int
    num_tx_queues: int


@dataclass
class VxlanInfo:
    instance: int
    src_address: IPAddress
    dst_address: IPAddress
    src_port: int
    dst_port: int
    mcast_sw_if_index: int
    encap_vrf_id: int
    decap_next_index: int
    vni: int
    is_l3: bool

    def key(self) -> tuple[IPAddress, IPAddress, int, int, int]:
        return (self.src_address, self.dst_address, self.src_port, self.encap_vrf_id, self.vni)


@dataclass
class Interface:
    sw_if_index: int
    name: str
    kind: InterfaceKind
    mac: bytes
    admin_up: bool = False
    link_up: bool = False
    link_mtu: int = 9000
    mtu: list[int] = field(default_factory=lambda: [9000, 0, 0, 0])
    tag: str = ""
    ip4_table: int = 0
    ip6_table: int = 0
    addresses: list[IPInterface] = field(default_factory=list)
    unnumbered_of: int | None = None
    instance: int = 0
    tap: TapInfo | None = None
    af_packet: AfPacketInfo | None = None
    vxlan: VxlanInfo | None = None

    @property
    def dev_type(self) -> str:
        return DEV_TYPE[self.kind]

    def table(self, is_ip6: bool) -> int:
        return self.ip6_table if is_ip6 else self.ip4_table


@dataclass(frozen=True)
class MplsLabel:
    is_uniform: int = 0
    label: int = 0
    ttl: int = 0
    exp: int = 0


@dataclass(frozen=True)
class FibPath:
    sw_if_index: int
    table_id: int
    rpf_id: int
    weight: int
    preference: int
    type: int
    flags: int
    proto: int
    nh_address: IPAddress | None
    via_label: int
    obj_id: int
    classify_table_index: int
    n_labels: int
    label_stack: tuple[MplsLabel, ...]

    def identity(self) -> tuple[object, ...]:
        """What makes two paths the same path (weight/preference do not)."""
        return (
            self.type,
            self.proto,
            self.nh_address,
            self.sw_if_index,
            self.table_id if self.sw_if_index == NO_INDEX else 0,
            self.via_label,
            self.obj_id,
            self.label_stack[: self.n_labels],
        )


class RouteOrigin(str, Enum):
    API = "api"
    SPECIAL = "special"
    INTERFACE = "interface"


@dataclass
class Route:
    table_id: int
    prefix: IPNetwork
    paths: list[FibPath]
    src: int = 0
    stats_index: int = 0
    origin: RouteOrigin = RouteOrigin.API


@dataclass
class Table:
    table_id: int
    is_ip6: bool
    name: str
    api_locked: bool
    routes: dict[IPNetwork, Route] = field(default_factory=dict)


@dataclass
class Neighbor:
    sw_if_index: int
    ip_address: IPAddress
    mac: bytes
    flags: int
