"""Renderers for the VPP dataplane: pure functions from the agent's view to items.

Layout (as Contiv-VPP): pods and tunnels to other nodes live in a pod VRF.
A loopback holds the pod gateway address; pod interfaces and tunnels are
unnumbered to it, so every one of them routes without an address of its own.
Per pod: its interface, a /32 route and a static neighbour to it in VPP; in
the pod, the Linux items of the Linux dataplane (address, link route to the
gateway, default route, static neighbour of the gateway). Per other node: an
L3 VXLAN tunnel and a route to its pod subnet through it.

The uplink and the host interconnect live in table 0; the two tables reach
each other through routes that look up in the other table. The host
interconnect is a link from VPP (the subnet's first address) to the node's
Linux (its second), over which Linux routes to pods and services. When STN
stole the NIC, VPP takes over its addresses and routes on the uplink; Linux
keeps each address as a /32 on the interconnect and routes through VPP with
it as source, and a VPP STN rule hands it whatever VPP receives for those
addresses and does not consume itself.

Names, tags and MACs are derived from the pod's attachment and node IDs, so a
restart renders exactly what is already there.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator

from vswitch.dataplane.linux.handlers import VETH_PREFIX
from vswitch.dataplane.linux.items import Address, Neighbor, Route
from vswitch.dataplane.linux.netns import HOST
from vswitch.dataplane.vpp.items import (
    HOST_TAG,
    LOOP_TAG,
    POD_TAG,
    UPLINK_TAG,
    VXLAN_TAG,
    InterfaceAddress,
    InterfaceState,
    Loopback,
    PodInterface,
    StnRule,
    Uplink,
    VppNeighbor,
    VppRoute,
    VrfTable,
    VxlanTunnel,
    state_key,
)
from vswitch.dataplane.vpp.options import VppOptions
from vswitch.dataplane.vpp.startup import UPLINK_VPP_NAME
from vswitch.engine.item import Item
from vswitch.podstore import PodRecord
from vswitch.render.uplink import kept_addresses, kept_routes
from vswitch.view import AgentView

GATEWAY_TAG = LOOP_TAG + "podgw"
UPLINK = UPLINK_TAG + "main"
HOST_LINK = HOST_TAG + "main"
# The Linux end of the host interconnect.
HOST_IFNAME = "vpp-host"
POD_VRF_NAME = "contiv-pods"
# Above any metric a NIC's routes normally have (DHCP clients use 100-1024).
NIC_YIELD_METRIC = 4096


def _mac(first_byte: int, digest: bytes) -> str:
    # Locally administered, unicast; the first byte tells the three apart.
    return ":".join(f"{b:02x}" for b in (first_byte, *digest[6:11]))


def pod_interface(pod: PodRecord, mtu: int) -> PodInterface:
    digest = hashlib.sha256(pod.id.encode()).digest()
    return PodInterface(tag=POD_TAG + digest[:12].hex(), vpp_mac=_mac(0x02, digest), pod_netns=pod.netns,
                        pod_ifname=pod.ifname, pod_mac=_mac(0x06, digest), mtu=mtu,
                        veth_ifname=VETH_PREFIX + digest[:6].hex(), veth_mac=_mac(0x0A, digest))


def pod_items(view: AgentView, pod: PodRecord, options: VppOptions) -> list[Item]:
    gateway = str(view.node.pod_gateway)
    link = pod_interface(pod, view.config.pod_mtu)
    state = InterfaceState(tag=link.tag, vrf=options.pod_vrf, mtu=view.config.pod_mtu, unnumbered_to=GATEWAY_TAG)
    to_pod = VppRoute(table_id=options.pod_vrf, dst=f"{pod.ip}/32", tag=link.tag, after=(state.key(),))
    neighbor = VppNeighbor(tag=link.tag, ip=pod.ip, mac=link.pod_mac)
    # The pod's side, handled by the Linux dataplane's handlers.
    key = link.key()
    address = Address(netns=pod.netns, ifname=pod.ifname, cidr=f"{pod.ip}/32", link_key=key)
    to_gateway = Route(netns=pod.netns, dst=f"{gateway}/32", ifname=pod.ifname, scope="link", link_key=key,
                       after=(address.key(),))
    default = Route(netns=pod.netns, dst="0.0.0.0/0", ifname=pod.ifname, gateway=gateway, link_key=key,
                    after=(to_gateway.key(),))
    gateway_mac = Neighbor(netns=pod.netns, ifname=pod.ifname, ip=gateway, mac=link.vpp_mac, link_key=key)
    return [link, state, to_pod, neighbor, address, to_gateway, default, gateway_mac]


def render_node(view: AgentView, options: VppOptions) -> Iterator[Item]:
    yield VrfTable(table_id=options.pod_vrf, name=POD_VRF_NAME)
    digest = hashlib.sha256(view.node.record.name.encode()).digest()
    yield Loopback(tag=GATEWAY_TAG, mac=_mac(0x02, digest))
    yield InterfaceState(tag=GATEWAY_TAG, vrf=options.pod_vrf)
    yield InterfaceAddress(tag=GATEWAY_TAG, cidr=f"{view.node.pod_gateway}/{view.node.pod_subnet.prefixlen}")


def uplink_addresses(view: AgentView) -> list[str]:
    """What VPP holds on the uplink: what STN took off the NIC, else the node IP."""
    if view.stolen is not None:
        return kept_addresses(view.stolen)
    return [str(ipaddress.ip_interface(view.node.record.node_ip))] if view.node.record.node_ip else []


def uplink_item(view: AgentView, options: VppOptions) -> Uplink | None:
    if options.process.enabled and options.process.startup.uplink.driver != "af_packet":
        # VPP took the NIC at start-up (af_xdp, dpdk) under a name of ours.
        return Uplink(tag=UPLINK, vpp_name=UPLINK_VPP_NAME)
    name = options.uplink_interface or (view.stolen.interface_name if view.stolen is not None else "")
    return Uplink(tag=UPLINK, host_ifname=name) if name else None


def render_uplink(view: AgentView, options: VppOptions) -> Iterator[Item]:
    uplink = uplink_item(view, options)
    if uplink is None:
        return
    yield uplink
    yield InterfaceState(tag=UPLINK)
    address_keys = []
    for cidr in uplink_addresses(view):
        address = InterfaceAddress(tag=UPLINK, cidr=cidr)
        address_keys.append(address.key())
        yield address
    if view.stolen is None:
        return
    for route in kept_routes(view.stolen):
        yield VppRoute(table_id=0, dst=route.dst, tag=UPLINK, next_hop=route.gateway, after=tuple(address_keys))


def render_host_link(view: AgentView, options: VppOptions) -> Iterator[Item]:
    if not options.host_interconnect:
        return
    subnet = view.config.addresses.host_interconnect_of(view.node.record.id)
    vpp_ip, linux_ip = str(subnet.network_address + 1), str(subnet.network_address + 2)
    digest = hashlib.sha256(f"host-interconnect/{view.node.record.name}".encode()).digest()
    link = PodInterface(tag=HOST_LINK, vpp_mac=_mac(0x02, digest), pod_netns=HOST, pod_ifname=HOST_IFNAME,
                        pod_mac=_mac(0x06, digest), mtu=view.config.uplink_mtu, veth_ifname=VETH_PREFIX + "host",
                        veth_mac=_mac(0x0A, digest))
    state = InterfaceState(tag=HOST_LINK, mtu=view.config.uplink_mtu)
    yield link
    yield state
    yield InterfaceAddress(tag=HOST_LINK, cidr=f"{vpp_ip}/{subnet.prefixlen}")
    yield VppNeighbor(tag=HOST_LINK, ip=linux_ip, mac=link.pod_mac)
    # Between the tables: Linux's traffic to pods enters table 0, pods' replies
    # to Linux (and their traffic out of the node) enter the pod VRF.
    plan = view.config.addresses
    yield VppRoute(table_id=0, dst=str(plan.pod_subnet), via_table=options.pod_vrf)
    yield VppRoute(table_id=options.pod_vrf, dst="0.0.0.0/0", via_table=0)
    # The node's Linux side.
    key = link.key()
    address = Address(netns=HOST, ifname=HOST_IFNAME, cidr=f"{linux_ip}/{subnet.prefixlen}", link_key=key)
    yield address
    yield Neighbor(netns=HOST, ifname=HOST_IFNAME, ip=vpp_ip, mac=link.vpp_mac, link_key=key)
    for dst in (plan.pod_subnet, plan.service_cidr):
        yield Route(netns=HOST, dst=str(dst), ifname=HOST_IFNAME, gateway=vpp_ip, link_key=key,
                    after=(address.key(),))
    if view.stolen is not None:
        yield from _stolen_through_vpp(view, vpp_ip, key)


def _stolen_through_vpp(view: AgentView, vpp_ip: str, link_key: str) -> Iterator[Item]:
    """Linux keeps the node's addresses, and routes through VPP from them."""
    assert view.stolen is not None
    addresses = kept_addresses(view.stolen)
    for cidr in addresses:
        ip = ipaddress.ip_interface(cidr)
        yield StnRule(ip=str(ip.ip), tag=HOST_LINK)
    if not addresses:
        return
    host_addresses = [Address(netns=HOST, ifname=HOST_IFNAME, cidr=f"{ipaddress.ip_interface(c).ip}/32",
                              link_key=link_key) for c in addresses]
    yield from host_addresses
    after = tuple(a.key() for a in host_addresses)
    source = str(ipaddress.ip_interface(addresses[0]).ip)
    # The subnets the NIC was on, then the routes someone had added to it.
    destinations = dict.fromkeys([*(str(ipaddress.ip_interface(c).network) for c in addresses),
                                  *(route.dst for route in kept_routes(view.stolen))])
    # Behind the NIC's own routes: should STN give the NIC back while these
    # are still here (the agent killed), the NIC's routes win by metric.
    for dst in destinations:
        yield Route(netns=HOST, dst=dst, ifname=HOST_IFNAME, gateway=vpp_ip, src=source, metric=NIC_YIELD_METRIC,
                    link_key=link_key, after=after)


def render_pods(view: AgentView, options: VppOptions) -> Iterator[Item]:
    for pod in view.pods.values():
        yield from pod_items(view, pod, options)


def render_mesh(view: AgentView, options: VppOptions) -> Iterator[Item]:
    own = view.node.record
    if not own.node_ip:
        return
    src = str(ipaddress.ip_interface(own.node_ip).ip)
    plan = view.config.addresses
    for node_id, other in sorted(view.nodes.items()):
        if node_id == own.id or not other.node_ip or not other.vxlan_ip:
            continue
        tunnel = VxlanTunnel(tag=f"{VXLAN_TAG}{node_id}", src=src, dst=str(ipaddress.ip_interface(other.node_ip).ip),
                             vni=options.vni)
        state = InterfaceState(tag=tunnel.tag, vrf=options.pod_vrf, unnumbered_to=GATEWAY_TAG)
        yield tunnel
        yield state
        yield VppRoute(table_id=options.pod_vrf, dst=str(plan.pod_subnet_of(node_id)), tag=tunnel.tag,
                       next_hop=other.vxlan_ip, after=(state.key(),))


def render_vpp(view: AgentView, options: VppOptions) -> dict[str, Item]:
    items: dict[str, Item] = {}
    for renderer in (render_node, render_uplink, render_host_link, render_pods, render_mesh):
        for item in renderer(view, options):
            items[item.key()] = item
    return items


__all__ = ["GATEWAY_TAG", "HOST_IFNAME", "HOST_LINK", "UPLINK", "pod_interface", "pod_items", "render_vpp"]
