"""Connecting: the socket handshake, message table and memclnt calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from vpp_papi import VPPApiClient
from vpp_papi.vpp_papi_async import VPPApiClient as AsyncVPPApiClient

from lab.vpp_standin import StandinThread, VppStandin, wait_until

from .conftest import APIDIR


def _expected_table(apidir: Path) -> set[str]:
    names = set()
    for path in apidir.rglob("*.api.json"):
        for message in json.loads(path.read_text())["messages"]:
            crc = next(d["crc"] for d in message[1:] if isinstance(d, dict) and "crc" in d)
            names.add(f"{message[0]}_{crc[2:]}")
    return names


def test_sync_handshake_serves_every_message_of_the_json(client: VPPApiClient, apidir: Path, server: StandinThread) -> None:
    table = client.transport.message_table
    assert set(table) == _expected_table(apidir)
    # vpp_papi hard-codes these two ids.
    assert table["sockclnt_create_455fb9c4"] == 15
    assert table["sockclnt_create_reply_35166268"] == 16
    assert len(set(table.values())) == len(table)
    # Socket client handles carry VPP's top bit.
    assert client.transport.socket_index & (1 << 31)
    assert server.snapshot().clients == ["test"]


def test_memclnt_and_vpe_calls(client: VPPApiClient) -> None:
    api = client.api
    version = api.show_version()
    assert (version.retval, version.program, version.version) == (0, "vpe", "26.06-release")
    ping = api.control_ping()
    assert ping.retval == 0 and ping.vpe_pid > 0 and ping.client_index == client.transport.socket_index
    assert api.memclnt_keepalive().retval == 0

    modules = {m.name: m for m in api.api_versions().api_versions}
    assert (modules["memclnt"].major, modules["memclnt"].minor, modules["memclnt"].patch) == (2, 1, 0)
    assert "af_packet" in modules and "vxlan" in modules

    crc = json.loads((APIDIR / "plugins" / "af_packet.api.json").read_text())["vl_api_version"]
    first = api.get_first_msg_id(name=f"af_packet_{int(crc, 16):08x}")
    assert first.retval == 0
    ids = [v for k, v in client.transport.message_table.items() if k.startswith("af_packet_")]
    assert first.first_msg_id == min(ids)
    assert api.get_first_msg_id(name="no_such_module_00000000").retval == -7

    assert "26.06" in api.cli_inband(cmd="show version").reply
    api.create_loopback()
    assert "loop0" in api.cli_inband(cmd="show interface").reply
    assert api.cli_inband(cmd="frobnicate").retval == -1


def test_bootstrapapi_client_fetches_definitions_from_the_server(server: StandinThread, sock: Path) -> None:
    client = VPPApiClient(server_address=str(sock), bootstrapapi=True)
    client.connect("bootstrap")
    try:
        reply = client.api.af_packet_create_v3(host_if_name="veth-boot", mode=1, use_random_hw_addr=True)
        assert reply.retval == 0
        assert [d.host_if_name for d in client.api.af_packet_dump()] == ["veth-boot"]
    finally:
        client.disconnect()
    assert server.snapshot().counters.calls["get_api_json"] == 1


def test_disconnect_releases_the_registration(server: StandinThread, make_client: Callable[..., VPPApiClient]) -> None:
    client = make_client("leaving")
    assert client.disconnect().response == 1
    # The server closes the socket after answering sockclnt_delete.

    wait_until(lambda: server.snapshot().counters.connections_open == 0, what="registration released")


async def test_async_client_round_trip(aclient: AsyncVPPApiClient, aserver: VppStandin) -> None:
    api = aclient.api
    replies = await asyncio.gather(
        *[api.af_packet_create_v3(host_if_name=f"veth{i}", mode=1, use_random_hw_addr=True) for i in range(20)]
    )
    assert all(r.retval == 0 for r in replies)
    assert len({r.sw_if_index for r in replies}) == 20
    ping, details = await api.af_packet_dump()
    assert ping.retval == 0
    assert sorted(d.host_if_name for d in details) == sorted(f"veth{i}" for i in range(20))
    ping, tables = await api.ip_table_dump()
    assert [(t.table.table_id, t.table.is_ip6) for t in tables] == [(0, False), (0, True)]
    assert aserver.counters.calls["af_packet_create_v3"] == 20
