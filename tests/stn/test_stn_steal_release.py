"""Steal strips the NIC and reports what it saved; release puts back exactly that."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat

import pytest

from stn.client import StnClient, StnClientError
from stn.models import Phase, SavedRoute, StolenInterface
from tests.stn.stn_testlib import ip, routes

pytestmark = pytest.mark.root


def _route_key(route: dict) -> tuple:
    """A route as `ip -j route` prints it."""
    return (route["family"], route["dst"], route.get("gateway"), route.get("table", "main"), route.get("metric"))


def _reply_key(route: SavedRoute) -> tuple:
    """The same key from a route of the reply."""
    inet = route.family.value == "inet"
    if route.is_default:
        dst = "default"
    elif route.dst_len == (32 if inet else 128):
        dst = route.destination
    else:
        dst = route.prefix
    table = {254: "main", 255: "local"}.get(route.table, str(route.table))
    return ("-4" if inet else "-6", dst, route.gateway, table, route.metric)


async def test_steal_strips_linux_and_returns_what_it_saved(node, start_daemon):
    before = node.snapshot("nic0")
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        saved = await stn.steal("nic0", dhcp=False)

    # Linux no longer has any address or route on the NIC; the link is left for the dataplane.
    assert node.stripped("nic0")
    assert "UP" in node.snapshot("nic0").link["flags"]
    assert not node.reaches("10.50.0.1")

    assert saved.phase is Phase.STOLEN
    assert saved.netns == node.ns
    assert saved.link.mac_address == before.link["address"]
    assert saved.link.mtu == before.link["mtu"]
    assert saved.link.admin_up
    assert saved.link.driver == "veth"
    assert saved.link.pci_address is None

    assert {(a.family.value, a.address, a.prefix_len) for a in saved.addresses} == {
        (a["family"], a["local"], a["prefixlen"]) for a in before.addresses
    }
    # Every route `ip` showed on the NIC, in every table and both families, is in the reply.
    assert {_reply_key(r) for r in saved.routes} == {_route_key(r) for r in before.routes}

    defaults = {r.gateway: r for r in saved.default_routes}
    assert set(defaults) == {"10.50.0.1", "fd00:50::1"}
    with_metric = [r for r in saved.routes if r.prefix == "10.70.0.0/16"]
    assert with_metric[0].metric == 50 and with_metric[0].gateway == "10.50.0.1"
    link_scope = [r for r in saved.routes if r.prefix == "10.80.0.0/24"]
    assert link_scope[0].scope == 253 and link_scope[0].gateway is None
    other_table = [r for r in saved.routes if r.prefix == "10.90.0.0/24"]
    assert other_table[0].table == 100 and other_table[0].protocol == 4
    by_prefix = {r.prefix: r for r in saved.routes}
    assert by_prefix["10.81.0.0/24"].metrics == {"mtu": 1400}
    assert by_prefix["10.82.0.0/24"].preferred_source == "10.60.0.2"
    assert by_prefix["10.83.0.0/24"].flags & 4  # onlink

    # The record on disk is what was replied, and info/list agree.
    on_disk = StolenInterface.model_validate_json(daemon.record_path("nic0").read_text())
    assert on_disk == saved
    async with StnClient(str(daemon.socket)) as stn:
        assert await stn.info("nic0") == saved
        assert await stn.list() == [saved]
    # The other NIC was not touched.
    assert not node.stripped("nic1")


async def test_release_restores_exactly_what_was_there(node, start_daemon):
    before = node.snapshot("nic0")
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        await stn.steal("nic0", dhcp=False)
        # What a dataplane does to a NIC it owns.
        ip(node.ns, "link", "set", "nic0", "down")
        ip(node.ns, "link", "set", "nic0", "mtu", "1400", "address", "02:00:00:aa:bb:cc")
        restored = await stn.release("nic0")
        assert restored.interface_name == "nic0"
        with pytest.raises(StnClientError) as err:
            await stn.info("nic0")
        assert err.value.code.name == "NOT_FOUND"
        assert await stn.list() == []

    node.wait_restored("nic0", before)
    assert node.reaches("10.50.0.1")
    assert node.reaches("fd00:50::1")
    assert node.reaches("10.70.0.1")
    assert not daemon.record_path("nic0").exists()


async def test_concurrent_steals_and_releases_of_two_nics(node, start_daemon):
    before = {dev: node.snapshot(dev) for dev in node.nics}
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        nic0, nic1 = await asyncio.gather(stn.steal("nic0"), stn.steal("nic1"))
        assert (nic0.interface_name, nic1.interface_name) == ("nic0", "nic1")
        assert {r.prefix for r in nic1.routes} >= {"10.71.0.0/16", "10.51.0.0/24"}
        assert "10.71.0.0/16" not in {r.prefix for r in nic0.routes}
        assert node.stripped("nic0") and node.stripped("nic1")
        assert [r.interface_name for r in await stn.list()] == ["nic0", "nic1"]
        await asyncio.gather(stn.release("nic0"), stn.release("nic1"))
    for dev in node.nics:
        node.wait_restored(dev, before[dev])


async def test_socket_is_private_to_root(node, start_daemon):
    daemon = start_daemon()
    mode = os.stat(daemon.socket).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600


async def test_sigterm_stops_cleanly_and_keeps_the_record(node, start_daemon):
    before = node.snapshot("nic0")
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        saved = await stn.steal("nic0")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.wait_exit(15) == 0
    assert not daemon.socket.exists()
    # Stopping STN must not hand the NIC back under a running dataplane.
    assert node.stripped("nic0")
    assert json.loads(daemon.record_path("nic0").read_text())["phase"] == "stolen"

    restarted = start_daemon()
    async with StnClient(str(restarted.socket)) as stn:
        assert await stn.info("nic0") == saved
        await stn.release("nic0")
    node.wait_restored("nic0", before)


def test_ip_route_snapshot_sees_the_gateway_routes(node):
    # Guards the fake node itself: the route comparisons above are only
    # meaningful if the snapshot holds the routes the tests build.
    keys = {_route_key(r) for r in routes(node.ns, "nic0")}
    assert ("-4", "default", "10.50.0.1", "main", None) in keys
    assert ("-4", "10.70.0.0/16", "10.50.0.1", "main", 50) in keys
    assert ("-4", "10.90.0.0/24", "10.50.0.1", "100", None) in keys
