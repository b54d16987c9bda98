"""The VPP dataplane's item kinds.

Every VPP interface the agent makes carries a tag (`sw_interface_tag_add_del`)
starting with TAG_PREFIX; items name interfaces by that tag, never by
sw_if_index, because indices are VPP's to hand out and change when VPP
restarts. As for the Linux items, every field is one the handler sets and its
dump reads back, so a dumped item equals the rendered one exactly when
nothing needs doing.
"""

from __future__ import annotations

from typing import ClassVar

from vswitch.engine.item import Item

TAG_PREFIX = "contiv-"
# One tag prefix per interface kind, so each handler's dump finds its own.
POD_TAG = TAG_PREFIX + "pod-"
LOOP_TAG = TAG_PREFIX + "loop-"
UPLINK_TAG = TAG_PREFIX + "uplink-"
VXLAN_TAG = TAG_PREFIX + "vxlan-"
# The host interconnect: a PodInterface whose Linux end is in the node's own netns.
HOST_TAG = TAG_PREFIX + "host-"


def interface_key(tag: str) -> str:
    return f"vpp/interface/{tag}"


def state_key(tag: str) -> str:
    return f"vpp/interface-state/{tag}"


def table_key(table_id: int) -> str:
    return f"vpp/table/{table_id}"


class VrfTable(Item):
    kind: ClassVar[str] = "vpp.table"
    table_id: int
    name: str

    def key(self) -> str:
        return table_key(self.table_id)


class PodInterface(Item):
    """A link between VPP and a Linux namespace: a tap whose Linux end VPP
    puts into the namespace, or where VPP cannot make taps (no /dev/vhost-net)
    a veth pair whose node end VPP takes with af_packet.

    Pods get one each; the host interconnect is one too, with its Linux end
    in the node's own namespace (pod_netns HOST)."""

    kind: ClassVar[str] = "vpp.pod_interface"
    tag: str
    vpp_mac: str
    pod_netns: str
    pod_ifname: str
    pod_mac: str
    mtu: int
    # The veth's node end, used only on the af_packet fallback.
    veth_ifname: str
    veth_mac: str

    def key(self) -> str:
        return interface_key(self.tag)


class Loopback(Item):
    kind: ClassVar[str] = "vpp.loopback"
    tag: str
    mac: str

    def key(self) -> str:
        return interface_key(self.tag)


class Uplink(Item):
    """The node's NIC in VPP: an af_packet on the Linux interface
    `host_ifname`, or (`vpp_name` set instead) the interface VPP made at
    start-up from startup.conf (af_xdp, dpdk), which the agent only tags."""

    kind: ClassVar[str] = "vpp.uplink"
    tag: str
    host_ifname: str = ""
    vpp_name: str = ""

    def key(self) -> str:
        return interface_key(self.tag)


class VxlanTunnel(Item):
    """An L3 VXLAN tunnel to another node."""

    kind: ClassVar[str] = "vpp.vxlan"
    tag: str
    src: str
    dst: str
    vni: int

    def key(self) -> str:
        return interface_key(self.tag)


class InterfaceState(Item):
    """VRF, MTU (0: leave VPP's), unnumbered lender and admin state of one of
    the agent's interfaces."""

    kind: ClassVar[str] = "vpp.interface_state"
    tag: str
    vrf: int = 0
    mtu: int = 0
    unnumbered_to: str = ""
    admin_up: bool = True

    def key(self) -> str:
        return state_key(self.tag)

    def deps(self) -> tuple[str, ...]:
        deps = [interface_key(self.tag)]
        if self.vrf:
            deps.append(table_key(self.vrf))
        if self.unnumbered_to:
            # The lender's address must be in place, and in the same VRF.
            deps.append(state_key(self.unnumbered_to))
        return tuple(deps)


class InterfaceAddress(Item):
    kind: ClassVar[str] = "vpp.address"
    tag: str
    cidr: str

    def key(self) -> str:
        return f"vpp/address/{self.tag}/{self.cidr}"

    def deps(self) -> tuple[str, ...]:
        # After the VRF binding: VPP refuses to move an interface with addresses.
        return (state_key(self.tag),)


class VppRoute(Item):
    """A single-path IPv4 route: out of an interface (`tag`), optionally via a
    next hop; or, with `via_table` set instead of `tag`, a lookup in another
    VRF (how the pod VRF and the node's table 0 reach each other)."""

    kind: ClassVar[str] = "vpp.route"
    table_id: int
    dst: str
    tag: str = ""
    next_hop: str = ""
    via_table: int | None = None
    after: tuple[str, ...] = ()

    def key(self) -> str:
        return f"vpp/route/{self.table_id}/{self.dst}"

    def deps(self) -> tuple[str, ...]:
        deps = [*self.after]
        if self.tag:
            deps.append(interface_key(self.tag))
        for table in (self.table_id, self.via_table):
            if table:
                deps.append(table_key(table))
        return tuple(deps)


class VppNeighbor(Item):
    """A static ARP entry, so VPP never has to ask."""

    kind: ClassVar[str] = "vpp.neighbor"
    tag: str
    ip: str
    mac: str

    def key(self) -> str:
        return f"vpp/neighbor/{self.tag}/{self.ip}"

    def deps(self) -> tuple[str, ...]:
        return (state_key(self.tag),)


class StnRule(Item):
    """VPP's steal-the-NIC rule: packets to `ip` (the node's own address,
    which VPP holds on the uplink) that VPP does not consume itself go out of
    the interface `tag` (the host interconnect), so Linux keeps receiving its
    traffic through VPP."""

    kind: ClassVar[str] = "vpp.stn_rule"
    ip: str
    tag: str

    def key(self) -> str:
        return f"vpp/stn-rule/{self.ip}"

    def deps(self) -> tuple[str, ...]:
        return (state_key(self.tag),)
