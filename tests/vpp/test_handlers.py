"""Each VPP handler creates, dumps back exactly what it created, and deletes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from lab import netns as labns
from lab.vpp_standin import StandinConfig, VppStandin, async_wait_until
from vswitch.dataplane.linux.handlers import VethHandler
from vswitch.dataplane.linux.netns import NetnsHandles
from vswitch.dataplane.vpp.connection import AsyncVppConnection
from vswitch.dataplane.vpp.ifconfig import AddressHandler, InterfaceStateHandler
from vswitch.dataplane.vpp.ifindex import InterfaceIndex
from vswitch.dataplane.vpp.interfaces import LoopbackHandler, PodInterfaceHandler, UplinkHandler
from vswitch.dataplane.vpp.items import (
    InterfaceAddress,
    InterfaceState,
    Loopback,
    StnRule,
    Uplink,
    VppNeighbor,
    VppRoute,
    VrfTable,
    VxlanTunnel,
)
from vswitch.dataplane.vpp.mesh import VxlanHandler
from vswitch.dataplane.vpp.render import pod_interface
from vswitch.dataplane.vpp.routing import NeighborHandler, RouteHandler, StnRuleHandler, TableHandler
from vswitch.engine import Item

from .conftest import make_pod

LOOP = "contiv-loop-test"
VRF = 7


async def round_trip(handler, item: Item, others: Iterable[Item] = ()) -> None:  # noqa: ANN001
    await handler.create(item)
    dumped = await handler.dump([item, *others])
    assert item in dumped
    await handler.delete(item)
    assert item not in await handler.dump([item, *others])


@pytest.fixture
def ifindex(vpp: AsyncVppConnection) -> InterfaceIndex:
    return InterfaceIndex(vpp)


@pytest.fixture
async def loopback(vpp: AsyncVppConnection, ifindex: InterfaceIndex) -> Loopback:
    await TableHandler(vpp).create(VrfTable(table_id=VRF, name="contiv-test"))
    item = Loopback(tag=LOOP, mac="02:00:00:00:00:01")
    await LoopbackHandler(vpp, ifindex).create(item)
    return item


async def test_table(vpp: AsyncVppConnection) -> None:
    await round_trip(TableHandler(vpp), VrfTable(table_id=42, name="contiv-t42"))


async def test_loopback(vpp: AsyncVppConnection, ifindex: InterfaceIndex) -> None:
    await round_trip(LoopbackHandler(vpp, ifindex), Loopback(tag="contiv-loop-x", mac="02:00:00:00:00:09"))


async def test_uplink(vpp: AsyncVppConnection, ifindex: InterfaceIndex, standin: VppStandin | None) -> None:
    if standin is None:
        pytest.skip("a real VPP needs a real host interface for af_packet")
    await round_trip(UplinkHandler(vpp, ifindex), Uplink(tag="contiv-uplink-main", host_ifname="eth-up"))


async def test_uplink_made_by_vpp_at_start_is_adopted_not_created(vpp: AsyncVppConnection,
                                                                   ifindex: InterfaceIndex) -> None:
    # Stands for the af_xdp or dpdk interface startup.conf made.
    made = await vpp.call("create_loopback_instance", mac_address="02:00:00:00:00:0b", is_specified=False,
                          user_instance=0)
    name = next(str(d.interface_name) for d in await vpp.dump("sw_interface_dump", sw_if_index=made.sw_if_index))
    handler = UplinkHandler(vpp, ifindex)
    await round_trip(handler, Uplink(tag="contiv-uplink-main", vpp_name=name))
    # Let go of, not deleted.
    assert [d.sw_if_index for d in await vpp.dump("sw_interface_dump", sw_if_index=made.sw_if_index)] == [
        made.sw_if_index]
    with pytest.raises(LookupError, match="startup.conf"):
        await handler.create(Uplink(tag="contiv-uplink-main", vpp_name="uplink0"))


async def test_interface_state_and_update(vpp: AsyncVppConnection, ifindex: InterfaceIndex,
                                          loopback: Loopback) -> None:
    handler = InterfaceStateHandler(vpp, ifindex)
    state = InterfaceState(tag=LOOP, vrf=VRF, mtu=1400)
    await handler.create(state)
    assert state in await handler.dump([state])
    down = state.model_copy(update={"admin_up": False})
    await handler.update(state, down)
    assert down in await handler.dump([down])
    await handler.delete(down)
    assert InterfaceState(tag=LOOP, vrf=0, mtu=1400, admin_up=False) in await handler.dump([])


async def test_address(vpp: AsyncVppConnection, ifindex: InterfaceIndex, loopback: Loopback) -> None:
    await round_trip(AddressHandler(vpp, ifindex), InterfaceAddress(tag=LOOP, cidr="10.9.0.1/24"))


async def test_route_with_and_without_next_hop(vpp: AsyncVppConnection, ifindex: InterfaceIndex,
                                               loopback: Loopback) -> None:
    handler = RouteHandler(vpp, ifindex, tables=(VRF,))
    await round_trip(handler, VppRoute(table_id=VRF, dst="10.9.1.0/24", tag=LOOP, next_hop="192.168.30.2"))
    await round_trip(handler, VppRoute(table_id=VRF, dst="10.9.2.3/32", tag=LOOP))
    # Routes VPP derives from an address are not the agent's.
    await InterfaceStateHandler(vpp, ifindex).create(InterfaceState(tag=LOOP, vrf=VRF))
    await AddressHandler(vpp, ifindex).create(InterfaceAddress(tag=LOOP, cidr="10.9.3.1/24"))
    assert await handler.dump([]) == []


async def test_route_into_another_table(vpp: AsyncVppConnection, ifindex: InterfaceIndex,
                                        loopback: Loopback) -> None:
    handler = RouteHandler(vpp, ifindex, tables=(0, VRF))
    await round_trip(handler, VppRoute(table_id=0, dst="10.9.0.0/16", via_table=VRF))
    # The VRF's default route replaces VPP's own drop entry, and gives it back.
    await round_trip(handler, VppRoute(table_id=VRF, dst="0.0.0.0/0", via_table=0))


async def test_stn_rule(vpp: AsyncVppConnection, ifindex: InterfaceIndex, loopback: Loopback) -> None:
    handler = StnRuleHandler(vpp, ifindex)
    rule = StnRule(ip="10.77.0.2", tag=LOOP)
    await round_trip(handler, rule)
    # Deleting a rule that is gone already is no error.
    await handler.delete(rule)


async def test_neighbor(vpp: AsyncVppConnection, ifindex: InterfaceIndex, loopback: Loopback) -> None:
    await round_trip(NeighborHandler(vpp, ifindex), VppNeighbor(tag=LOOP, ip="10.9.0.5", mac="02:00:00:00:00:05"))


async def test_vxlan(vpp: AsyncVppConnection, ifindex: InterfaceIndex) -> None:
    await round_trip(VxlanHandler(vpp, ifindex),
                     VxlanTunnel(tag="contiv-vxlan-2", src="192.168.16.1", dst="192.168.16.2", vni=10))


@pytest.mark.root
async def test_pod_interface_falls_back_to_veth_and_af_packet(
        vpp: AsyncVppConnection, ifindex: InterfaceIndex, netns: NetnsHandles, make_netns,  # noqa: ANN001
        only_standin: VppStandin) -> None:
    handler = PodInterfaceHandler(vpp, ifindex, VethHandler(netns))
    item = pod_interface(make_pod(make_netns()), mtu=1450)
    await handler.create(item)
    assert not handler.use_tap
    assert await handler.dump([item]) == [item]
    names = {i.name for i in only_standin.snapshot().interfaces}
    assert f"host-{item.veth_ifname}" in names
    await handler.delete(item)
    assert await handler.dump([item]) == []
    assert f"host-{item.veth_ifname}" not in {i.name for i in only_standin.snapshot().interfaces}


@pytest.mark.root
async def test_pod_veth_and_its_addresses_survive_a_vpp_restart(
        vpp: AsyncVppConnection, ifindex: InterfaceIndex, netns: NetnsHandles, make_netns,  # noqa: ANN001
        only_standin: VppStandin) -> None:
    handler = PodInterfaceHandler(vpp, ifindex, VethHandler(netns))
    pod_netns = make_netns()
    item = pod_interface(make_pod(pod_netns), mtu=1450)
    await handler.create(item)
    pod_netns = Path(pod_netns).name
    labns.ip("addr", "add", "10.1.1.2/32", "dev", item.pod_ifname, netns=pod_netns)
    await only_standin.restart()
    await async_wait_until(lambda: vpp.connects == 2, what="the reconnect")
    assert await handler.dump([item]) == []
    # Recreated in VPP; the Linux end, with what is configured on it, stays.
    await handler.create(item)
    assert await handler.dump([item]) == [item]
    addresses = labns.ip("-o", "addr", "show", "dev", item.pod_ifname, netns=pod_netns).stdout
    assert "10.1.1.2/32" in addresses


@pytest.mark.root
@pytest.mark.parametrize("standin_config", [StandinConfig(vhost_net=True)])
async def test_pod_interface_as_tap(vpp: AsyncVppConnection, ifindex: InterfaceIndex, netns: NetnsHandles,
                                    make_netns, only_standin: VppStandin) -> None:  # noqa: ANN001
    handler = PodInterfaceHandler(vpp, ifindex, VethHandler(netns))
    item = pod_interface(make_pod(make_netns()), mtu=1450)
    await handler.create(item)
    assert handler.use_tap
    assert await handler.dump([item]) == [item]
    tap = next(i for i in only_standin.snapshot().interfaces if i.tag == item.tag)
    assert (tap.kind, tap.host_namespace, tap.host_if_name) == ("tap", item.pod_netns, "eth0")
    await handler.delete(item)
    assert await handler.dump([item]) == []
