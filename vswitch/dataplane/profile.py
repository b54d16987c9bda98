"""What the event loop needs to know of a dataplane beyond its handlers:
how to render the desired items, which items make a pod wired, and which
interfaces to report in a CNI result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from vswitch.engine.item import Item
from vswitch.podstore import PodRecord
from vswitch.view import AgentView


class ReportedInterface(NamedTuple):
    name: str
    mac: str
    sandbox: str  # the pod's netns path; "" for an interface on the node


@dataclass(frozen=True)
class DataplaneProfile:
    render: Callable[[AgentView], dict[str, Item]]
    pod_items: Callable[[AgentView, PodRecord], list[Item]]
    pod_interfaces: Callable[[AgentView, PodRecord], list[ReportedInterface]]


def linux_profile() -> DataplaneProfile:
    from vswitch.render import render_all
    from vswitch.render.pods import host_ifname, host_mac, pod_items, pod_mac

    return DataplaneProfile(
        render=render_all,
        pod_items=lambda view, pod: pod_items(pod, str(view.node.pod_gateway), view.config.pod_mtu),
        pod_interfaces=lambda view, pod: [ReportedInterface(host_ifname(pod), host_mac(pod), ""),
                                          ReportedInterface(pod.ifname, pod_mac(pod), pod.netns)],
    )


def vpp_profile(render: Callable[[AgentView], dict[str, Item]]) -> DataplaneProfile:
    from vswitch.dataplane.vpp.render import pod_interface, pod_items

    def interfaces(view: AgentView, pod: PodRecord) -> list[ReportedInterface]:
        link = pod_interface(pod, view.config.pod_mtu)
        return [ReportedInterface(link.tag, link.vpp_mac, ""), ReportedInterface(pod.ifname, link.pod_mac, pod.netns)]

    return DataplaneProfile(render=render,
                            pod_items=lambda view, pod: pod_items(view, pod, view.config.vpp),
                            pod_interfaces=interfaces)
