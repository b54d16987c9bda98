"""The VPP renderer's uplink and host interconnect: what STN took off the NIC
lands on VPP's uplink, and Linux keeps its addresses and routes through VPP."""

from __future__ import annotations

from stn.models import Family, LinkInfo, Phase, SavedAddress, SavedRoute, StolenInterface
from vswitch.dataplane.linux.items import Address, Route
from vswitch.dataplane.vpp import VppOptions, render_vpp
from vswitch.dataplane.vpp.items import InterfaceAddress, StnRule, Uplink, VppRoute
from vswitch.dataplane.vpp.render import HOST_IFNAME, HOST_LINK, UPLINK

from .conftest import make_view

OPTIONS = VppOptions()


def stolen_nic() -> StolenInterface:
    return StolenInterface(
        interface_name="ens5", phase=Phase.STOLEN,
        link=LinkInfo(name="ens5", index=2, mtu=1500, admin_up=True),
        addresses=(SavedAddress(family=Family.INET, address="10.77.0.2", prefix_len=24),
                   SavedAddress(family=Family.INET, address="fe80::1", prefix_len=64, scope=253),
                   SavedAddress(family=Family.INET6, address="2001:db8::2", prefix_len=64)),
        routes=(SavedRoute(family=Family.INET, destination=None, gateway="10.77.0.1", protocol=3),
                # The subnet's route comes back with the address: not the agent's to add.
                SavedRoute(family=Family.INET, destination="10.77.0.0", dst_len=24, protocol=2, scope=253),
                SavedRoute(family=Family.INET, destination="10.78.0.0", dst_len=16, gateway="10.77.0.1",
                           protocol=4)))


def of_kind(items: dict, kind: type) -> list:
    return [item for item in items.values() if isinstance(item, kind)]


def test_without_a_stolen_nic_vpp_has_no_uplink_and_linux_routes_pods_and_services_through_vpp() -> None:
    items = render_vpp(make_view(), OPTIONS)
    assert of_kind(items, Uplink) == [] and of_kind(items, StnRule) == []
    # Node 1's interconnect subnet: VPP .1, Linux .2.
    assert InterfaceAddress(tag=HOST_LINK, cidr="172.30.1.1/24").key() in items
    host_routes = {r.dst: r for r in of_kind(items, Route) if r.ifname == HOST_IFNAME}
    assert set(host_routes) == {"10.1.0.0/16", "10.96.0.0/12"}
    assert {r.gateway for r in host_routes.values()} == {"172.30.1.1"}
    # Table 0 and the pod VRF reach each other.
    crossings = {(r.table_id, r.dst, r.via_table) for r in of_kind(items, VppRoute) if r.via_table is not None}
    assert crossings == {(0, "10.1.0.0/16", 1), (1, "0.0.0.0/0", 0)}


def test_configured_uplink_holds_the_node_ip() -> None:
    items = render_vpp(make_view(), VppOptions(uplink_interface="eth1"))
    assert of_kind(items, Uplink) == [Uplink(tag=UPLINK, host_ifname="eth1")]
    assert [a.cidr for a in of_kind(items, InterfaceAddress) if a.tag == UPLINK] == ["192.168.16.1/24"]


def test_stolen_nic_moves_onto_the_vpp_uplink() -> None:
    view = make_view()
    view.stolen = stolen_nic()
    items = render_vpp(view, OPTIONS)
    assert of_kind(items, Uplink) == [Uplink(tag=UPLINK, host_ifname="ens5")]
    # Only the global IPv4 address; link-local and IPv6 stay out.
    assert [a.cidr for a in of_kind(items, InterfaceAddress) if a.tag == UPLINK] == ["10.77.0.2/24"]
    uplink_routes = {(r.dst, r.next_hop) for r in of_kind(items, VppRoute) if r.tag == UPLINK}
    assert uplink_routes == {("0.0.0.0/0", "10.77.0.1"), ("10.78.0.0/16", "10.77.0.1")}
    assert of_kind(items, StnRule) == [StnRule(ip="10.77.0.2", tag=HOST_LINK)]


def test_linux_keeps_the_stolen_address_and_routes_through_vpp_from_it() -> None:
    view = make_view()
    view.stolen = stolen_nic()
    items = render_vpp(view, OPTIONS)
    host_addresses = {a.cidr for a in of_kind(items, Address) if a.ifname == HOST_IFNAME}
    assert host_addresses == {"172.30.1.2/24", "10.77.0.2/32"}
    sourced = {r.dst: r for r in of_kind(items, Route) if r.ifname == HOST_IFNAME and r.src}
    assert set(sourced) == {"10.77.0.0/24", "0.0.0.0/0", "10.78.0.0/16"}
    assert {(r.gateway, r.src) for r in sourced.values()} == {("172.30.1.1", "10.77.0.2")}
    # No item is left pointing at the NIC Linux no longer has.
    assert not [i for i in of_kind(items, Route) + of_kind(items, Address) if i.ifname == "ens5"]


def test_rendering_is_a_pure_function_of_the_view() -> None:
    view = make_view(other_nodes=(2,))
    view.stolen = stolen_nic()
    assert render_vpp(view, OPTIONS) == render_vpp(view, OPTIONS)


def test_a_node_with_a_stolen_nic_is_known_by_the_nics_address() -> None:
    from vswitch.agent import node_record_for
    from vswitch.config import AgentConfig

    config = AgentConfig(node_name="node-1")
    assert node_record_for(config, 1, stolen_nic()).node_ip == "10.77.0.2/24"
    assert node_record_for(config, 1).node_ip == "192.168.16.1/24"
    configured = AgentConfig(node_name="node-1", node_ip="10.5.0.9/16")
    assert node_record_for(configured, 1, stolen_nic()).node_ip == "10.5.0.9/16"


def test_dpdk_uplink_is_the_interface_vpp_made_at_start() -> None:
    view = make_view()
    view.stolen = stolen_nic()
    options = VppOptions.model_validate({"process": {"enabled": True, "startup": {"uplink": {
        "driver": "dpdk", "pci_address": "0000:00:08.0"}}}})
    items = render_vpp(view, options)
    assert of_kind(items, Uplink) == [Uplink(tag=UPLINK, vpp_name="uplink0")]
    assert [a.cidr for a in of_kind(items, InterfaceAddress) if a.tag == UPLINK] == ["10.77.0.2/24"]
