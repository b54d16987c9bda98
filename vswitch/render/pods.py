"""Pod wiring on the Linux dataplane.

Per pod: a veth pair; in the pod, the pod IP as a /32, a link route to the
gateway, a default route via it and a permanent neighbour entry for it (the
gateway is the host end's MAC, so the pod never needs to ARP); on the node, a
/32 route to the pod through the host end. Names and MACs are derived from
the attachment, so a restart renders exactly what is already there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from vswitch.dataplane.linux.handlers import VETH_PREFIX
from vswitch.dataplane.linux.items import Address, Neighbor, Route, Veth
from vswitch.dataplane.linux.netns import HOST
from vswitch.engine.item import Item
from vswitch.podstore import PodRecord
from vswitch.view import AgentView


def _digest(pod: PodRecord) -> bytes:
    return hashlib.sha256(pod.id.encode()).digest()


def host_ifname(pod: PodRecord) -> str:
    return VETH_PREFIX + _digest(pod)[:6].hex()


def _mac(first_byte: int, digest: bytes) -> str:
    # Locally administered, unicast.
    return ":".join(f"{b:02x}" for b in (first_byte, *digest[6:11]))


def host_mac(pod: PodRecord) -> str:
    return _mac(0x02, _digest(pod))


def pod_mac(pod: PodRecord) -> str:
    return _mac(0x06, _digest(pod))


def pod_items(pod: PodRecord, gateway: str, mtu: int) -> list[Item]:
    veth = Veth(host_ifname=host_ifname(pod), host_mac=host_mac(pod), pod_netns=pod.netns,
                pod_ifname=pod.ifname, pod_mac=pod_mac(pod), mtu=mtu)
    link = veth.key()
    address = Address(netns=pod.netns, ifname=pod.ifname, cidr=f"{pod.ip}/32", link_key=link)
    to_gateway = Route(netns=pod.netns, dst=f"{gateway}/32", ifname=pod.ifname, scope="link", link_key=link,
                       after=(address.key(),))
    default = Route(netns=pod.netns, dst="0.0.0.0/0", ifname=pod.ifname, gateway=gateway, link_key=link,
                    after=(to_gateway.key(),))
    neighbor = Neighbor(netns=pod.netns, ifname=pod.ifname, ip=gateway, mac=veth.host_mac, link_key=link)
    to_pod = Route(netns=HOST, dst=f"{pod.ip}/32", ifname=veth.host_ifname, scope="link", link_key=link)
    return [veth, address, to_gateway, default, neighbor, to_pod]


def render_pods(view: AgentView) -> Iterator[Item]:
    gateway = str(view.node.pod_gateway)
    for pod in view.pods.values():
        yield from pod_items(pod, gateway, view.config.pod_mtu)
