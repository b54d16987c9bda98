"""Every call real VPP refuses is refused here with VPP's retval."""

from __future__ import annotations

import pytest
from vpp_papi import VPPApiClient

from lab.vpp_standin import Retval, StandinThread

from .helpers import NO_INDEX, ip4_path, route

BOGUS = 4242


@pytest.mark.parametrize(
    ("message", "kwargs"),
    [
        ("sw_interface_set_flags", {"sw_if_index": BOGUS, "flags": 1}),
        ("sw_interface_set_table", {"sw_if_index": BOGUS, "vrf_id": 0}),
        ("sw_interface_tag_add_del", {"sw_if_index": BOGUS, "is_add": True, "tag": "x"}),
        ("sw_interface_set_mtu", {"sw_if_index": BOGUS, "mtu": [1500, 0, 0, 0]}),
        ("sw_interface_set_mac_address", {"sw_if_index": BOGUS, "mac_address": "02:00:00:00:00:01"}),
        ("sw_interface_add_del_address", {"sw_if_index": BOGUS, "is_add": True, "prefix": "10.0.0.1/24"}),
        ("sw_interface_set_unnumbered", {"sw_if_index": 0, "unnumbered_sw_if_index": BOGUS, "is_add": True}),
        ("tap_delete_v2", {"sw_if_index": BOGUS}),
        ("delete_loopback", {"sw_if_index": BOGUS}),
        (
            "ip_neighbor_add_del",
            {"is_add": True, "neighbor": {"sw_if_index": BOGUS, "mac_address": "02:00:00:00:00:01", "ip_address": "10.0.0.2"}},
        ),
    ],
)
def test_unknown_sw_if_index(client: VPPApiClient, message: str, kwargs: dict) -> None:
    assert getattr(client.api, message)(**kwargs).retval == Retval.INVALID_SW_IF_INDEX


def test_unnumbered_with_unknown_lender(client: VPPApiClient) -> None:
    r = client.api.sw_interface_set_unnumbered(sw_if_index=BOGUS, unnumbered_sw_if_index=0, is_add=True)
    assert r.retval == Retval.INVALID_SW_IF_INDEX_2


def test_af_packet_twice_on_one_host_interface(client: VPPApiClient, server: StandinThread) -> None:
    api = client.api
    assert api.af_packet_create_v3(host_if_name="veth-dup", mode=1, use_random_hw_addr=True).retval == 0
    second = api.af_packet_create_v3(host_if_name="veth-dup", mode=1, use_random_hw_addr=True)
    assert second.retval == Retval.IF_ALREADY_EXISTS
    assert second.sw_if_index == NO_INDEX
    assert [i.name for i in server.snapshot().interfaces].count("host-veth-dup") == 1


def test_af_packet_bad_mode_and_missing_delete(client: VPPApiClient) -> None:
    assert client.api.af_packet_create_v3(host_if_name="veth-m", mode=7).retval == Retval.INVALID_VALUE
    assert client.api.af_packet_delete(host_if_name="never-created").retval == Retval.SYSCALL_ERROR_1


def test_af_packet_host_interface_check(client: VPPApiClient, server: StandinThread) -> None:
    server.configure(check_host_interfaces=True)
    assert client.api.af_packet_create_v3(host_if_name="no-such-if0", mode=1).retval == Retval.INVALID_INTERFACE
    assert client.api.af_packet_create_v3(host_if_name="lo", mode=1).retval == 0


def test_route_in_missing_vrf(client: VPPApiClient, server: StandinThread) -> None:
    r = client.api.ip_route_add_del(is_add=True, route=route("10.1.0.0/24", [ip4_path("192.168.16.2")], table_id=99))
    assert r.retval == Retval.NO_SUCH_FIB
    assert server.snapshot().table(99) is None
    # Nor may a recursive path resolve through a table that is not there.
    r = client.api.ip_route_add_del(is_add=True, route=route("10.1.0.0/24", [ip4_path("192.168.16.2", table_id=98)]))
    assert r.retval == Retval.NO_SUCH_FIB


def test_route_path_via_unknown_interface_and_without_paths(client: VPPApiClient) -> None:
    r = client.api.ip_route_add_del(is_add=True, route=route("10.1.0.0/24", [ip4_path(sw_if_index=BOGUS)]))
    assert r.retval == Retval.NO_MATCHING_INTERFACE
    assert client.api.ip_route_add_del(is_add=True, route=route("10.1.0.0/24", [])).retval == Retval.NO_PATHS_IN_ROUTE


def test_vrf_binding_rules(client: VPPApiClient) -> None:
    api = client.api
    pod = api.af_packet_create_v3(host_if_name="veth-v", mode=1, use_random_hw_addr=True)
    assert api.sw_interface_set_table(sw_if_index=pod.sw_if_index, vrf_id=55).retval == Retval.NO_SUCH_FIB
    api.sw_interface_add_del_address(sw_if_index=pod.sw_if_index, is_add=True, prefix="10.2.0.1/24")
    api.ip_table_add_del_v2(table={"table_id": 55}, is_add=True)
    # VPP wants addresses gone before an interface changes VRF.
    assert api.sw_interface_set_table(sw_if_index=pod.sw_if_index, vrf_id=55).retval == Retval.ADDRESS_FOUND_FOR_INTERFACE


def test_table_bound_to_interface_outlives_api_delete(client: VPPApiClient) -> None:
    api = client.api
    pod = api.af_packet_create_v3(host_if_name="veth-t", mode=1, use_random_hw_addr=True)
    api.ip_table_add_del_v2(table={"table_id": 20}, is_add=True)
    api.sw_interface_set_table(sw_if_index=pod.sw_if_index, vrf_id=20)
    assert api.ip_table_add_del_v2(table={"table_id": 20}, is_add=False).retval == 0
    assert 20 in {d.table.table_id for d in api.ip_table_dump()}
    api.sw_interface_set_table(sw_if_index=pod.sw_if_index, vrf_id=0)
    assert 20 not in {d.table.table_id for d in api.ip_table_dump()}


def test_address_rules(client: VPPApiClient) -> None:
    api = client.api
    a = api.af_packet_create_v3(host_if_name="veth-a", mode=1, use_random_hw_addr=True).sw_if_index
    b = api.af_packet_create_v3(host_if_name="veth-b", mode=1, use_random_hw_addr=True).sw_if_index
    assert api.sw_interface_add_del_address(sw_if_index=a, is_add=True, prefix="10.3.0.1/24").retval == 0
    # Same address again, and an overlapping subnet elsewhere in the FIB.
    assert api.sw_interface_add_del_address(sw_if_index=a, is_add=True, prefix="10.3.0.1/24").retval == Retval.ADDRESS_IN_USE
    assert api.sw_interface_add_del_address(sw_if_index=b, is_add=True, prefix="10.3.0.9/16").retval == Retval.ADDRESS_IN_USE
    # A second address of the same subnet on the same interface is fine.
    assert api.sw_interface_add_del_address(sw_if_index=a, is_add=True, prefix="10.3.0.2/24").retval == 0
    missing = api.sw_interface_add_del_address(sw_if_index=a, is_add=False, prefix="10.4.0.1/24")
    assert missing.retval == Retval.ADDRESS_NOT_FOUND_FOR_INTERFACE
    assert api.sw_interface_add_del_address(sw_if_index=0, is_add=True, prefix="10.5.0.1/24").retval == Retval.UNSUPPORTED
    assert api.sw_interface_add_del_address(sw_if_index=a, del_all=True).retval == 0
    assert api.ip_address_dump(sw_if_index=a, is_ipv6=False) == []


def test_neighbor_rules(client: VPPApiClient) -> None:
    api = client.api
    pod = api.af_packet_create_v3(host_if_name="veth-n", mode=1, use_random_hw_addr=True).sw_if_index
    neighbor = {"sw_if_index": pod, "flags": 1, "mac_address": "02:00:00:00:00:01", "ip_address": "10.6.0.2"}
    assert api.ip_neighbor_add_del(is_add=False, neighbor=neighbor).retval == Retval.NO_SUCH_ENTRY
    assert api.ip_neighbor_add_del(is_add=True, neighbor=neighbor).retval == 0
    dynamic = dict(neighbor, flags=0, mac_address="02:00:00:00:00:02")
    # A static entry is not overwritten by a dynamic one.
    assert api.ip_neighbor_add_del(is_add=True, neighbor=dynamic).retval == -2


def test_tag_must_not_be_empty(client: VPPApiClient) -> None:
    assert client.api.sw_interface_tag_add_del(is_add=True, sw_if_index=0, tag="").retval == Retval.INVALID_VALUE


def test_loopback_instance_in_use(client: VPPApiClient) -> None:
    assert client.api.create_loopback_instance(is_specified=True, user_instance=3).retval == 0
    again = client.api.create_loopback_instance(is_specified=True, user_instance=3)
    assert again.retval == Retval.INVALID_REGISTRATION


def test_vxlan_rules(client: VPPApiClient) -> None:
    api = client.api
    tunnel = {"src_address": "192.168.30.1", "dst_address": "192.168.30.2", "vni": 5, "decap_next_index": NO_INDEX}
    assert api.vxlan_add_del_tunnel_v3(is_add=False, **tunnel).retval == Retval.NO_SUCH_ENTRY
    assert api.vxlan_add_del_tunnel_v3(is_add=True, instance=3, **tunnel).retval == 0
    assert api.vxlan_add_del_tunnel_v3(is_add=True, **tunnel).retval == Retval.TUNNEL_EXIST
    other = dict(tunnel, vni=6)
    assert api.vxlan_add_del_tunnel_v3(is_add=True, instance=3, **other).retval == Retval.INSTANCE_IN_USE
    assert api.vxlan_add_del_tunnel_v3(is_add=True, encap_vrf_id=77, **other).retval == Retval.NO_SUCH_FIB
    same = dict(tunnel, dst_address="192.168.30.1")
    assert api.vxlan_add_del_tunnel_v3(is_add=True, **same).retval == Retval.SAME_SRC_DST
    assert api.vxlan_add_del_tunnel_v3(is_add=True, **dict(other, decap_next_index=9)).retval == Retval.INVALID_DECAP_NEXT
    assert api.vxlan_add_del_tunnel_v3(is_add=False, **tunnel).retval == 0
    assert api.vxlan_tunnel_v2_dump(sw_if_index=NO_INDEX) == []


def test_stn_rules_follow_vpp(client: VPPApiClient, server: StandinThread) -> None:
    api = client.api
    lo = api.create_loopback_instance(is_specified=False, user_instance=0).sw_if_index
    other = api.create_loopback_instance(is_specified=False, user_instance=0).sw_if_index
    # A rule needs an interface to send out of.
    assert api.stn_add_del_rule(is_add=True, ip_address="10.77.0.2", sw_if_index=BOGUS).retval == (
        Retval.INVALID_SW_IF_INDEX)
    assert api.stn_add_del_rule(is_add=True, ip_address="10.77.0.2", sw_if_index=lo).retval == 0
    # Adding again moves the rule; there is still one.
    assert api.stn_add_del_rule(is_add=True, ip_address="10.77.0.2", sw_if_index=other).retval == 0
    assert [(str(d.ip_address), d.sw_if_index) for d in api.stn_rules_dump()] == [("10.77.0.2", other)]
    assert server.snapshot().stn_rules == {"10.77.0.2": other}
    # Deleting goes by address; deleting what is not there is an error.
    assert api.stn_add_del_rule(is_add=False, ip_address="10.77.0.2", sw_if_index=NO_INDEX).retval == 0
    assert api.stn_add_del_rule(is_add=False, ip_address="10.77.0.2", sw_if_index=NO_INDEX).retval == (
        Retval.NO_SUCH_ENTRY)
    assert api.stn_rules_dump() == []
