"""The Linux dataplane's item kinds.

`netns` is a namespace path, or "" for the agent's own (the node's) namespace.
Every field is something the handler sets and its dump reads back, so a
dumped item equals the rendered one exactly when nothing needs doing.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from vswitch.engine.item import Item

# Routes the agent creates carry this protocol number, so its dump can tell
# them from routes someone else made (iproute2 shows it as "proto 99").
ROUTE_PROTO = 99


def ns_tag(netns: str) -> str:
    return netns or "host"


class Sysctl(Item):
    kind: ClassVar[str] = "linux.sysctl"
    name: str                      # e.g. net/ipv4/ip_forward
    value: str

    def key(self) -> str:
        return f"linux/sysctl/{self.name}"


class Veth(Item):
    """A veth pair: one end in the node's namespace, the other in a pod's."""

    kind: ClassVar[str] = "linux.veth"
    host_ifname: str
    host_mac: str
    pod_netns: str
    pod_ifname: str
    pod_mac: str
    mtu: int

    def key(self) -> str:
        return f"linux/veth/{self.host_ifname}"


class Address(Item):
    kind: ClassVar[str] = "linux.address"
    netns: str
    ifname: str
    cidr: str                      # e.g. 10.1.1.2/32

    def key(self) -> str:
        return f"linux/address/{ns_tag(self.netns)}/{self.ifname}/{self.cidr}"

    def deps(self) -> tuple[str, ...]:
        return (self.link_key,) if self.link_key else ()

    link_key: str


class Route(Item):
    kind: ClassVar[str] = "linux.route"
    netns: str
    dst: str                       # CIDR; 0.0.0.0/0 for the default route
    ifname: str
    gateway: str = ""
    scope: Literal["universe", "link"] = "universe"
    onlink: bool = False
    # The source address the node picks for traffic on this route ("" : the kernel's choice).
    src: str = ""
    # 0 unless the route must yield to someone else's for the same destination.
    metric: int = 0
    link_key: str
    # Other items this route needs (the address of its gateway's subnet, ...).
    after: tuple[str, ...] = ()

    def key(self) -> str:
        return f"linux/route/{ns_tag(self.netns)}/{self.dst}"

    def deps(self) -> tuple[str, ...]:
        return tuple(k for k in (self.link_key, *self.after) if k)


class Neighbor(Item):
    """A permanent neighbour entry: no ARP needed to reach `ip`."""

    kind: ClassVar[str] = "linux.neighbor"
    netns: str
    ifname: str
    ip: str
    mac: str
    link_key: str

    def key(self) -> str:
        return f"linux/neighbor/{ns_tag(self.netns)}/{self.ifname}/{self.ip}"

    def deps(self) -> tuple[str, ...]:
        return (self.link_key,) if self.link_key else ()


class Vxlan(Item):
    """The node's VXLAN device: one for the whole mesh, learning off; remote
    nodes are reached through static FDB and neighbour entries."""

    kind: ClassVar[str] = "linux.vxlan"
    ifname: str
    vni: int
    local_ip: str
    port: int
    mac: str
    mtu: int

    def key(self) -> str:
        return f"linux/vxlan/{self.ifname}"


class Fdb(Item):
    """A static forwarding entry: frames for `mac` go to the node at `dst`."""

    kind: ClassVar[str] = "linux.fdb"
    ifname: str
    mac: str
    dst: str
    link_key: str

    def key(self) -> str:
        return f"linux/fdb/{self.ifname}/{self.mac}"

    def deps(self) -> tuple[str, ...]:
        return (self.link_key,) if self.link_key else ()
