"""Renderers for the VPP dataplane: pure functions from the agent's view to items.

Layout (as Contiv-VPP): pods and tunnels to other nodes live in a pod VRF.
A loopback holds the pod gateway address; pod interfaces and tunnels are
unnumbered to it, so every one of them routes without an address of its own.
Per pod: its interface, a /32 route and a static neighbour to it in VPP; in
the pod, the Linux items of the Linux dataplane (address, link route to the
gateway, default route, static neighbour of the gateway). Per other node: an
L3 VXLAN tunnel and a route to its pod subnet through it.

Names, tags and MACs are derived from the pod's attachment and node IDs, so a
restart renders exactly what is already there.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator

from vswitch.dataplane.linux.handlers import VETH_PREFIX
from vswitch.dataplane.linux.items import Address, Neighbor, Route
from vswitch.dataplane.vpp.items import (
    LOOP_TAG,
    POD_TAG,
    UPLINK_TAG,
    VXLAN_TAG,
    InterfaceAddress,
    InterfaceState,
    Loopback,
    PodInterface,
    Uplink,
    VppNeighbor,
    VppRoute,
    VrfTable,
    VxlanTunnel,
    state_key,
)
from vswitch.dataplane.vpp.options import VppOptions
from vswitch.engine.item import Item
from vswitch.podstore import PodRecord
from vswitch.view import AgentView

GATEWAY_TAG = LOOP_TAG + "podgw"
UPLINK = UPLINK_TAG + "main"
POD_VRF_NAME = "contiv-pods"


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
    if options.uplink_interface:
        yield Uplink(tag=UPLINK, host_ifname=options.uplink_interface)
        yield InterfaceState(tag=UPLINK)
        if view.node.record.node_ip:
            yield InterfaceAddress(tag=UPLINK, cidr=str(ipaddress.ip_interface(view.node.record.node_ip)))


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
    for renderer in (render_node, render_pods, render_mesh):
        for item in renderer(view, options):
            items[item.key()] = item
    return items


__all__ = ["GATEWAY_TAG", "pod_interface", "pod_items", "render_vpp"]
