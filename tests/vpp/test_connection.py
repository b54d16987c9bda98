"""Both vpp_papi clients behind the backend's connection interface."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest


from lab.vpp_standin import VppStandin
from lab.vpp_standin.harness import async_wait_until
from vswitch.dataplane.vpp.connection import AsyncVppConnection, SyncVppConnection, VppApiError, VppUnavailable
from vswitch.dataplane.vpp.ifindex import InterfaceIndex
from vswitch.dataplane.vpp.interfaces import LoopbackHandler
from vswitch.dataplane.vpp.items import Loopback, VppRoute
from vswitch.dataplane.vpp.routing import RouteHandler

from .conftest import APIDIR

LOOP = Loopback(tag="contiv-loop-conn", mac="02:00:00:00:00:0c")


async def test_sync_client_programs_and_dumps(api_socket: Path, standin: VppStandin | None) -> None:
    vpp = SyncVppConnection(api_socket, APIDIR, timeout=2.0)
    await vpp.connect()
    try:
        ifindex = InterfaceIndex(vpp)
        await LoopbackHandler(vpp, ifindex).create(LOOP)
        routes = RouteHandler(vpp, ifindex, tables=(0,))
        route = VppRoute(table_id=0, dst="10.77.0.0/24", tag=LOOP.tag, next_hop="10.77.1.1")
        await routes.create(route)
        assert route in await routes.dump([route])
        await routes.delete(route)
        await LoopbackHandler(vpp, ifindex).delete(LOOP)
    finally:
        await vpp.close()


async def test_sync_client_reconnects_after_a_drop(api_socket: Path, only_standin: VppStandin) -> None:
    vpp = SyncVppConnection(api_socket, APIDIR, timeout=2.0)
    reconnected = asyncio.Event()
    vpp.listeners.append(reconnected.set)
    await vpp.connect()
    try:
        await only_standin.drop_connections()
        with pytest.raises(VppUnavailable):
            await vpp.call("show_version")
        assert (await vpp.call("show_version")).retval == 0
        assert reconnected.is_set() and vpp.connects == 2
    finally:
        await vpp.close()


async def test_retval_becomes_an_error(vpp: AsyncVppConnection, only_standin: VppStandin) -> None:
    only_standin.faults.fail_next("show_version", retval=-7)
    with pytest.raises(VppApiError) as caught:
        await vpp.call("show_version")
    assert caught.value.retval == -7
    assert (await vpp.call("show_version")).retval == 0


async def test_unanswered_call_times_out(vpp: AsyncVppConnection, only_standin: VppStandin) -> None:
    only_standin.faults.drop_next("show_version")
    with pytest.raises(VppUnavailable, match="no answer"):
        await vpp.call("show_version")
    assert (await vpp.call("show_version")).retval == 0


async def test_calls_while_disconnected_fail_fast(vpp: AsyncVppConnection, only_standin: VppStandin) -> None:
    await only_standin.stop()
    await async_wait_until(lambda: not vpp.connected, 5)
    with pytest.raises(VppUnavailable):
        await vpp.call("show_version")
