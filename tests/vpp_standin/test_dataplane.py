"""A CNI backend's working set through the real sync client, dumped back."""

from __future__ import annotations

import ipaddress

from vpp_papi import VPPApiClient

from lab.vpp_standin import StandinThread

from .helpers import NO_INDEX, ip4_path, labels, route, routes_by_prefix

ADMIN_UP = 1
LINK_UP = 2


def test_pod_wiring_round_trips_through_dumps(client: VPPApiClient, server: StandinThread) -> None:
    api = client.api
    mac = "02:fe:00:00:00:11"

    up = api.af_packet_create_v3(host_if_name="vpp-uplink", mode=1, hw_addr=mac, use_random_hw_addr=False)
    assert up.retval == 0
    pod = api.af_packet_create_v3(host_if_name="veth-pod1", mode=1, use_random_hw_addr=True)
    assert pod.retval == 0 and pod.sw_if_index != up.sw_if_index

    assert api.ip_table_add_del_v2(table={"table_id": 10, "is_ip6": False, "name": "pods"}, is_add=True).retval == 0
    assert api.sw_interface_set_table(sw_if_index=pod.sw_if_index, is_ipv6=False, vrf_id=10).retval == 0
    assert api.sw_interface_tag_add_del(is_add=True, sw_if_index=pod.sw_if_index, tag="default/pod1").retval == 0
    assert api.sw_interface_set_mtu(sw_if_index=pod.sw_if_index, mtu=[1450, 0, 0, 0]).retval == 0
    for sw_if_index in (up.sw_if_index, pod.sw_if_index):
        assert api.sw_interface_set_flags(sw_if_index=sw_if_index, flags=ADMIN_UP).retval == 0
    assert api.sw_interface_add_del_address(sw_if_index=up.sw_if_index, is_add=True, prefix="192.168.16.1/24").retval == 0
    assert api.sw_interface_add_del_address(sw_if_index=pod.sw_if_index, is_add=True, prefix="10.1.1.1/32").retval == 0

    pod_route = route("10.1.1.2/32", [ip4_path(sw_if_index=pod.sw_if_index)], table_id=10)
    assert api.ip_route_add_del(is_add=True, route=pod_route).retval == 0
    remote = route("10.1.2.0/24", [ip4_path("192.168.16.2", sw_if_index=up.sw_if_index, n_labels=2, label_stack=labels(100, 200))], table_id=10)
    assert api.ip_route_add_del(is_add=True, route=remote).retval == 0
    assert api.ip_neighbor_add_del(
        is_add=True,
        neighbor={"sw_if_index": pod.sw_if_index, "flags": 1, "mac_address": "02:fe:00:00:00:22", "ip_address": "10.1.1.2"},
    ).retval == 0

    lo = api.create_loopback_instance(is_specified=True, user_instance=5)
    assert lo.retval == 0
    assert api.sw_interface_add_del_address(sw_if_index=lo.sw_if_index, is_add=True, prefix="192.168.30.1/24").retval == 0
    vx = api.vxlan_add_del_tunnel_v3(
        is_add=True, src_address="192.168.30.1", dst_address="192.168.30.2", vni=10, decap_next_index=NO_INDEX, instance=NO_INDEX
    )
    assert vx.retval == 0

    # Interfaces, with tag, flags, MTU, VRF binding and MAC as set.
    interfaces = {d.interface_name: d for d in api.sw_interface_dump()}
    assert set(interfaces) == {"local0", "host-vpp-uplink", "host-veth-pod1", "loop5", "vxlan_tunnel0"}
    pod_if = interfaces["host-veth-pod1"]
    assert pod_if.tag == "default/pod1"
    assert pod_if.mtu[0] == 1450
    assert pod_if.flags == ADMIN_UP | LINK_UP
    assert pod_if.interface_dev_type == "af-packet"
    assert str(interfaces["host-vpp-uplink"].l2_address) == mac
    assert interfaces["vxlan_tunnel0"].sw_if_index == vx.sw_if_index
    assert api.sw_interface_get_table(sw_if_index=pod.sw_if_index, is_ipv6=False).vrf_id == 10

    # Single-interface and filtered dumps.
    only = api.sw_interface_dump(sw_if_index=pod.sw_if_index)
    assert [d.interface_name for d in only] == ["host-veth-pod1"]
    filtered = api.sw_interface_dump(name_filter_valid=True, name_filter="HOST-")
    assert {d.interface_name for d in filtered} == {"host-vpp-uplink", "host-veth-pod1"}

    assert {(d.sw_if_index, d.host_if_name) for d in api.af_packet_dump()} == {
        (up.sw_if_index, "vpp-uplink"),
        (pod.sw_if_index, "veth-pod1"),
    }
    assert [str(d.prefix) for d in api.ip_address_dump(sw_if_index=up.sw_if_index, is_ipv6=False)] == ["192.168.16.1/24"]
    assert api.ip_address_dump(sw_if_index=up.sw_if_index, is_ipv6=True) == []

    tables = {(d.table.table_id, d.table.is_ip6): d.table.name for d in api.ip_table_dump()}
    assert tables == {(0, False): "ipv4-VRF:0", (0, True): "ipv6-VRF:0", (10, False): "pods"}

    routes = routes_by_prefix(api.ip_route_dump(table={"table_id": 10, "is_ip6": False}))
    assert routes["10.1.1.2/32"].paths[0].sw_if_index == pod.sw_if_index
    path = routes["10.1.2.0/24"].paths[0]
    assert path.nh.address.ip4 == ipaddress.IPv4Address("192.168.16.2")
    assert path.n_labels == 2 and [l.label for l in path.label_stack[:2]] == [100, 200]
    assert path.weight == 1  # VPP turns an unset weight into 1
    # The pod's own address shows up as a local /32 in its VRF, as on VPP.
    assert routes["10.1.1.1/32"].paths[0].type == 1
    # Table 0 holds the uplink's connected subnet, not the VRF 10 routes.
    default = routes_by_prefix(api.ip_route_dump(table={"table_id": 0, "is_ip6": False}))
    assert "192.168.16.0/24" in default and "10.1.2.0/24" not in default
    assert "0.0.0.0/0" in default

    v2 = {str(d.route.prefix): d.route for d in api.ip_route_v2_dump(table={"table_id": 10, "is_ip6": False})}
    assert set(v2) == set(routes)

    neighbors = api.ip_neighbor_dump(sw_if_index=NO_INDEX, af=0)
    assert [(n.neighbor.sw_if_index, str(n.neighbor.ip_address), str(n.neighbor.mac_address)) for n in neighbors] == [
        (pod.sw_if_index, "10.1.1.2", "02:fe:00:00:00:22")
    ]
    assert api.ip_neighbor_dump(sw_if_index=NO_INDEX, af=1) == []

    tunnels = api.vxlan_tunnel_v2_dump(sw_if_index=NO_INDEX)
    assert len(tunnels) == 1
    t = tunnels[0]
    assert (str(t.src_address), str(t.dst_address), t.vni, t.dst_port, t.src_port, t.decap_next_index) == (
        "192.168.30.1",
        "192.168.30.2",
        10,
        4789,
        4789,
        1,
    )

    # The server-side view agrees with what the client was told.
    snap = server.snapshot()
    assert snap.interface("host-veth-pod1").ip4_table == 10
    assert [r.prefix for r in snap.table(10).routes] == ["10.1.1.2/32", "10.1.2.0/24"]
    assert snap.counters.calls["ip_route_add_del"] == 2


def test_deletes_undo_creates(client: VPPApiClient) -> None:
    api = client.api
    pod = api.af_packet_create_v3(host_if_name="veth-x", mode=1, use_random_hw_addr=True)
    assert api.ip_neighbor_add_del(
        is_add=True,
        neighbor={"sw_if_index": pod.sw_if_index, "flags": 1, "mac_address": "02:fe:00:00:00:33", "ip_address": "10.1.1.3"},
    ).retval == 0
    assert api.ip_table_add_del_v2(table={"table_id": 7, "is_ip6": False}, is_add=True).retval == 0
    assert api.ip_route_add_del(is_add=True, route=route("10.9.0.0/16", [ip4_path("192.168.16.9")], table_id=7)).retval == 0
    assert api.ip_route_add_del(is_add=False, route=route("10.9.0.0/16", [], table_id=7)).retval == 0
    assert "10.9.0.0/16" not in routes_by_prefix(api.ip_route_dump(table={"table_id": 7, "is_ip6": False}))
    assert api.ip_table_add_del_v2(table={"table_id": 7, "is_ip6": False}, is_add=False).retval == 0
    assert {d.table.table_id for d in api.ip_table_dump()} == {0}

    assert api.af_packet_delete(host_if_name="veth-x").retval == 0
    assert api.af_packet_dump() == []
    # Neighbours go with their interface.
    assert api.ip_neighbor_dump(sw_if_index=NO_INDEX, af=0) == []
    # VPP hands a freed sw_if_index out again.
    again = api.af_packet_create_v3(host_if_name="veth-y", mode=1, use_random_hw_addr=True)
    assert again.sw_if_index == pod.sw_if_index


def test_multipath_routes_add_and_remove_single_paths(client: VPPApiClient) -> None:
    api = client.api
    r1 = route("10.5.0.0/16", [ip4_path("192.168.16.2")])
    r2 = route("10.5.0.0/16", [ip4_path("192.168.16.3")])
    assert api.ip_route_add_del(is_add=True, is_multipath=True, route=r1).retval == 0
    assert api.ip_route_add_del(is_add=True, is_multipath=True, route=r2).retval == 0

    def hops() -> list[str]:
        dump = api.ip_route_dump(table={"table_id": 0, "is_ip6": False})
        return sorted(str(p.nh.address.ip4) for d in dump if str(d.route.prefix) == "10.5.0.0/16" for p in d.route.paths)

    assert hops() == ["192.168.16.2", "192.168.16.3"]
    assert api.ip_route_add_del(is_add=False, is_multipath=True, route=r1).retval == 0
    assert hops() == ["192.168.16.3"]
    # A plain add replaces the whole path set.
    assert api.ip_route_add_del(is_add=True, route=r1).retval == 0
    assert hops() == ["192.168.16.2"]


def test_unnumbered_and_mac_and_loopback_lifecycle(client: VPPApiClient) -> None:
    api = client.api
    lo = api.create_loopback(mac_address="de:ad:be:ef:00:01")
    assert lo.retval == 0
    tun = api.af_packet_create_v3(host_if_name="veth-u", mode=1, use_random_hw_addr=True)
    assert api.sw_interface_set_unnumbered(sw_if_index=lo.sw_if_index, unnumbered_sw_if_index=tun.sw_if_index, is_add=True).retval == 0
    assert [(d.sw_if_index, d.ip_sw_if_index) for d in api.ip_unnumbered_dump(sw_if_index=NO_INDEX)] == [
        (tun.sw_if_index, lo.sw_if_index)
    ]
    assert api.sw_interface_set_mac_address(sw_if_index=tun.sw_if_index, mac_address="02:00:00:00:00:99").retval == 0
    details = api.sw_interface_dump(sw_if_index=tun.sw_if_index)[0]
    assert str(details.l2_address) == "02:00:00:00:00:99"
    loop = api.sw_interface_dump(sw_if_index=lo.sw_if_index)[0]
    assert loop.interface_name == "loop0" and str(loop.l2_address) == "de:ad:be:ef:00:01"
    # A loopback's link follows its admin state.
    assert not loop.flags & LINK_UP
    api.sw_interface_set_flags(sw_if_index=lo.sw_if_index, flags=ADMIN_UP)
    assert api.sw_interface_dump(sw_if_index=lo.sw_if_index)[0].flags == ADMIN_UP | LINK_UP
    assert api.delete_loopback(sw_if_index=lo.sw_if_index).retval == 0
    assert api.ip_unnumbered_dump(sw_if_index=NO_INDEX) == []
