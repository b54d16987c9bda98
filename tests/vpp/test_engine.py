"""The VPP backend under the transaction engine: a pod and the node mesh
applied, a fresh engine's resync changing nothing, a lost connection and an
API error recovered from."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from lab.vpp_standin import VppStandin, async_wait_until
from vswitch.dataplane.linux.netns import NetnsHandles
from vswitch.dataplane.vpp import AsyncVppConnection, VppOptions, render_vpp, vpp_handlers
from vswitch.dataplane.vpp.render import pod_interface
from vswitch.engine import Engine

from .conftest import make_pod, make_view

# These tests share the machine's own namespace: no routes of theirs in it.
OPTIONS = VppOptions(host_interconnect=False)


def new_engine(vpp: AsyncVppConnection, netns: NetnsHandles) -> Engine:
    return Engine(vpp_handlers(vpp, netns, OPTIONS))


async def wired(engine: Engine, desired: dict) -> None:  # noqa: ANN001
    txn = await engine.apply(desired, cause="test")
    assert not txn.failed, txn.failed
    assert engine.pending == []


@pytest.fixture
async def second(api_socket) -> AsyncIterator[AsyncVppConnection]:  # noqa: ANN001
    """A second agent process's connection to the same VPP."""
    connection = AsyncVppConnection(api_socket, client_name="contiv-test-2", timeout=2.0)
    await connection.connect()
    yield connection
    await connection.close()


@pytest.mark.root
async def test_pod_applies_and_a_fresh_engine_resyncs_to_nothing(
        vpp: AsyncVppConnection, second: AsyncVppConnection, netns: NetnsHandles, make_netns,  # noqa: ANN001
        standin: VppStandin | None) -> None:
    pod = make_pod(make_netns())
    desired = render_vpp(make_view([pod]), OPTIONS)
    await wired(new_engine(vpp, netns), desired)
    if standin is not None:
        tags = {i.tag for i in standin.snapshot().interfaces}
        assert pod_interface(pod, 1450).tag in tags

    # An agent restart: new engine, new connection, same VPP and kernel state.
    fresh_netns = NetnsHandles()
    try:
        txn = await new_engine(second, fresh_netns).resync(desired)
    finally:
        fresh_netns.close()
    assert txn.operations == []

    # The pod goes: everything of it goes, in VPP and in the kernel.
    engine = new_engine(vpp, netns)
    await engine.resync(desired)
    txn = await engine.apply(render_vpp(make_view([]), OPTIONS), cause="pod deleted")
    assert not txn.failed
    assert {op.kind for op in txn.operations} >= {"vpp.pod_interface", "vpp.route", "vpp.neighbor"}
    if standin is not None:
        assert pod_interface(pod, 1450).tag not in {i.tag for i in standin.snapshot().interfaces}


async def test_a_second_node_brings_a_tunnel_and_a_route(vpp: AsyncVppConnection, netns: NetnsHandles,
                                                         only_standin: VppStandin) -> None:
    engine = new_engine(vpp, netns)
    await wired(engine, render_vpp(make_view(), OPTIONS))
    assert not [i for i in only_standin.snapshot().interfaces if i.kind == "vxlan"]

    await wired(engine, render_vpp(make_view(other_nodes=(2,)), OPTIONS))
    snapshot = only_standin.snapshot()
    tunnel = next(i for i in snapshot.interfaces if i.kind == "vxlan")
    assert tunnel.tag == "contiv-vxlan-2" and tunnel.ip4_table == OPTIONS.pod_vrf and tunnel.admin_up
    pod_vrf = next(t for t in snapshot.tables if t.table_id == OPTIONS.pod_vrf and not t.is_ip6)
    route = next(r for r in pod_vrf.routes if r.prefix == "10.1.2.0/24")
    assert route.paths[0].sw_if_index == tunnel.sw_if_index
    assert route.paths[0].next_hop == "192.168.30.2"

    txn = await new_engine(vpp, netns).resync(render_vpp(make_view(other_nodes=(2,)), OPTIONS))
    assert txn.operations == []

    # The node leaves: its tunnel and route go.
    await wired(engine, render_vpp(make_view(), OPTIONS))
    snapshot = only_standin.snapshot()
    assert not [i for i in snapshot.interfaces if i.kind == "vxlan"]
    pod_vrf = next(t for t in snapshot.tables if t.table_id == OPTIONS.pod_vrf and not t.is_ip6)
    assert not [r for r in pod_vrf.routes if r.prefix == "10.1.2.0/24"]


async def test_connection_dropped_then_reconnect_and_resync(vpp: AsyncVppConnection, netns: NetnsHandles,
                                                            only_standin: VppStandin) -> None:
    reconnected = asyncio.Event()
    vpp.listeners.append(reconnected.set)
    engine = new_engine(vpp, netns)
    await wired(engine, render_vpp(make_view(), OPTIONS))

    # Cut the line in the middle of a transaction (the tunnel's creation).
    only_standin.faults.disconnect_on("vxlan_add_del_tunnel_v3", count=1)
    with_node = render_vpp(make_view(other_nodes=(2,)), OPTIONS)
    txn = await engine.apply(with_node, cause="node 2 joined")
    assert txn.failed
    await asyncio.wait_for(reconnected.wait(), 5)
    assert vpp.connects == 2

    txn = await engine.resync(with_node, cause="vpp reconnected")
    assert not txn.failed and engine.pending == []
    assert "vpp/interface/contiv-vxlan-2" in {op.key for op in txn.operations}
    assert (await new_engine(vpp, netns).resync(with_node)).operations == []


async def test_vpp_restart_forgets_everything_and_resync_rebuilds(vpp: AsyncVppConnection, netns: NetnsHandles,
                                                                  only_standin: VppStandin) -> None:
    reconnected = asyncio.Event()
    vpp.listeners.append(reconnected.set)
    engine = new_engine(vpp, netns)
    desired = render_vpp(make_view(other_nodes=(2, 3)), OPTIONS)
    await wired(engine, desired)
    await only_standin.restart()
    await asyncio.wait_for(reconnected.wait(), 5)
    txn = await engine.resync(desired, cause="vpp reconnected")
    assert not txn.failed and len(txn.operations) == len(desired)
    assert len([i for i in only_standin.snapshot().interfaces if i.kind == "vxlan"]) == 2


async def test_api_error_fails_cleanly_and_is_retried(vpp: AsyncVppConnection, netns: NetnsHandles,
                                                      only_standin: VppStandin) -> None:
    clock = [0.0]
    engine = Engine(vpp_handlers(vpp, netns, OPTIONS), clock=lambda: clock[0])
    await wired(engine, render_vpp(make_view(), OPTIONS))
    only_standin.faults.fail_next("ip_route_add_del", retval=-54)
    desired = render_vpp(make_view(other_nodes=(2,)), OPTIONS)

    txn = await engine.apply(desired, cause="node 2 joined")
    [failed] = txn.failed
    assert failed.key == "vpp/route/1/10.1.2.0/24" and "retval -54" in failed.error
    assert engine.pending == ["vpp/route/1/10.1.2.0/24"]
    # The rest of the transaction went in.
    assert engine.applied["vpp/interface/contiv-vxlan-2"] == desired["vpp/interface/contiv-vxlan-2"]

    # Not before its backoff; then the retry succeeds.
    assert (await engine.apply(desired, cause="healing")).operations == []
    clock[0] += 1.0
    retry = await engine.apply(desired, cause="healing")
    assert [(op.op, op.key, op.ok) for op in retry.operations] == [("create", "vpp/route/1/10.1.2.0/24", True)]
    history = engine.history.recent()
    assert [t.cause for t in history][-2:] == ["node 2 joined", "healing"]
    assert history[-2].failed and not history[-1].failed
    await async_wait_until(lambda: not only_standin.faults.pending(), what="fault used up")
