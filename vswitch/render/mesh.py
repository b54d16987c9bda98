"""Node-to-node connectivity: every other node's pod subnet is routed to it.

VXLAN (default): one VXLAN device, learning off; per remote node a static
FDB entry (its device's MAC to its node IP), a permanent neighbour entry (its
VXLAN IP to that MAC) and a route to its pod subnet via its VXLAN IP. The MAC
of a node's device follows from its ID, so no node needs to ask another.
nooverlay: a route to each remote pod subnet via the remote node's IP on the
uplink, for nodes on one L2 segment.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from model import NodeRecord
from vswitch.dataplane.linux.handlers import VXLAN_IFNAME
from vswitch.dataplane.linux.items import Address, Fdb, Neighbor, Route, Vxlan
from vswitch.dataplane.linux.netns import HOST
from vswitch.engine.item import Item
from vswitch.view import AgentView


def vxlan_mac(node_id: int) -> str:
    return "06:c0:00:00:{:02x}:{:02x}".format(node_id >> 8 & 0xFF, node_id & 0xFF)


def _underlay_ip(record: NodeRecord) -> str:
    return str(ipaddress.ip_interface(record.node_ip).ip) if record.node_ip else ""


def render_mesh(view: AgentView) -> Iterator[Item]:
    config = view.config
    me = view.node.record
    remotes = [r for node_id, r in sorted(view.nodes.items()) if node_id != me.id and r.node_ip]
    if config.node_mesh == "nooverlay":
        for remote in remotes:
            yield Route(netns=HOST, dst=str(config.addresses.pod_subnet_of(remote.id)), ifname=config.uplink_interface,
                        gateway=_underlay_ip(remote), link_key="")
        return
    if not me.node_ip or not me.vxlan_ip:
        return
    device = Vxlan(ifname=VXLAN_IFNAME, vni=config.vxlan_vni, local_ip=_underlay_ip(me), port=config.vxlan_port,
                   mac=vxlan_mac(me.id), mtu=config.uplink_mtu - 50)
    link = device.key()
    address = Address(netns=HOST, ifname=VXLAN_IFNAME,
                      cidr=f"{me.vxlan_ip}/{config.addresses.vxlan_cidr.prefixlen}", link_key=link)
    yield device
    yield address
    for remote in remotes:
        if not remote.vxlan_ip:
            continue
        mac = vxlan_mac(remote.id)
        yield Fdb(ifname=VXLAN_IFNAME, mac=mac, dst=_underlay_ip(remote), link_key=link)
        neighbor = Neighbor(netns=HOST, ifname=VXLAN_IFNAME, ip=remote.vxlan_ip, mac=mac, link_key=link)
        yield neighbor
        yield Route(netns=HOST, dst=str(config.addresses.pod_subnet_of(remote.id)), ifname=VXLAN_IFNAME,
                    gateway=remote.vxlan_ip, link_key=link, after=(address.key(), neighbor.key()))
