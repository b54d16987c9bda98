"""Several clients, dropped connections, reconnects and malformed input."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from vpp_papi import VPPApiClient
from vpp_papi.vpp_papi_async import VPPApiClient as AsyncVPPApiClient

from lab.vpp_standin import StandinThread, VppStandin, async_wait_until, wait_until

HEADER = struct.Struct(">QII")


def test_two_clients_interleave(server: StandinThread, make_client: Callable[..., VPPApiClient]) -> None:
    clients = [make_client("agent-a"), make_client("agent-b")]
    assert server.snapshot().clients == ["agent-a", "agent-b"]
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def work(client: VPPApiClient, prefix: str) -> None:
        try:
            results[prefix] = [
                client.api.af_packet_create_v3(host_if_name=f"{prefix}{i}", mode=1, use_random_hw_addr=True).sw_if_index
                for i in range(40)
            ]
        except BaseException as exc:  # surfaced to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c, p)) for c, p in zip(clients, ("a", "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    # Every reply went to the client that asked: no index handed out twice.
    assert len(set(results["a"]) | set(results["b"])) == 80
    names = {d.host_if_name for d in clients[1].api.af_packet_dump()}
    assert names == {f"a{i}" for i in range(40)} | {f"b{i}" for i in range(40)}
    assert server.snapshot().counters.connections_open == 2


def test_dropped_connection_then_reconnect_keeps_state(
    server: StandinThread, make_client: Callable[..., VPPApiClient]
) -> None:
    client = make_client("agent", read_timeout=2)
    sw_if_index = client.api.af_packet_create_v3(host_if_name="veth-keep", mode=1, use_random_hw_addr=True).sw_if_index
    assert server.drop_connections() == 1
    wait_until(lambda: server.snapshot().counters.connections_open == 0, what="server-side close")
    with pytest.raises(IOError):
        client.api.show_version()

    client.disconnect()
    client.connect("agent-again")
    assert [(d.sw_if_index, d.host_if_name) for d in client.api.af_packet_dump()] == [(sw_if_index, "veth-keep")]
    assert server.snapshot().counters.connections_total == 2


def test_restart_forgets_the_dataplane(server: StandinThread, make_client: Callable[..., VPPApiClient]) -> None:
    client = make_client("agent", read_timeout=2)
    client.api.af_packet_create_v3(host_if_name="veth-gone", mode=1, use_random_hw_addr=True)
    assert server.restart() == 1
    with pytest.raises(IOError):
        client.api.show_version()
    client.disconnect()
    client.connect("agent")
    assert client.api.af_packet_dump() == []


async def test_async_clients_see_the_drop_and_new_ones_connect(aserver: VppStandin, sock: Path) -> None:
    first = AsyncVPPApiClient(server_address=str(sock))
    assert await first.connect("first", asyncio.Queue()) == 0
    await first.api.create_loopback()
    assert await aserver.drop_connections() == 1
    # The client's reader task ends when the socket closes under it.
    await async_wait_until(lambda: first.socket_task.done(), what="client reader ended")

    second = AsyncVPPApiClient(server_address=str(sock))
    assert await second.connect("second", asyncio.Queue()) == 0
    _, details = await second.api.sw_interface_dump()
    assert [d.interface_name for d in details] == ["local0", "loop0"]
    await second.disconnect()
    first.queue_task.cancel()


def _raw_connect(sock: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(sock))
    return s


def _send(s: socket.socket, payload: bytes) -> None:
    s.sendall(HEADER.pack(0, len(payload), 0) + payload)


def _recv(s: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    _, length, _ = HEADER.unpack(exactly(HEADER.size))
    return exactly(length)


def test_malformed_messages_are_dropped_and_the_server_survives(server: StandinThread, sock: Path) -> None:
    ids = server.call(lambda s: dict(s.defs.ids))
    handle = 1 << 31 | 1  # the first client's registration
    with _raw_connect(sock) as s:
        _send(s, struct.pack(">H", 60000) + b"\0" * 10)  # no such message id
        _send(s, struct.pack(">HI", ids["control_ping"], handle))  # context missing
        _send(s, struct.pack(">HII", ids["sw_interface_add_del_address"], handle, 7))  # body missing
        _send(s, b"\x00")  # not even an id
        _send(s, struct.pack(">HII", ids["control_ping"], handle, 99))
        reply = _recv(s)
        msg_id, context = struct.unpack_from(">HI", reply)
        assert (msg_id, context) == (ids["control_ping_reply"], 99)
        # A request naming a registration that does not exist gets no answer.
        _send(s, struct.pack(">HII", ids["control_ping"], 1 << 31 | 77, 100))
        _send(s, struct.pack(">HII", ids["control_ping"], handle, 101))
        assert struct.unpack_from(">HI", _recv(s))[1] == 101
    malformed = server.snapshot().counters.malformed
    assert malformed == {"unknown_id": 1, "truncated": 3, "bad_client_index": 1}


def test_oversized_frame_closes_only_that_connection(server: StandinThread, sock: Path, make_client: Callable[..., VPPApiClient]) -> None:
    with _raw_connect(sock) as s:
        s.sendall(HEADER.pack(0, 0xFFFFFFF0, 0))
        assert s.recv(1) == b""
    assert make_client().api.show_version().retval == 0
    assert server.snapshot().counters.malformed["oversized"] == 1
