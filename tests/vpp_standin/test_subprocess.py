"""The CLI entry point as a child process, steered over its control socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from vpp_papi import VPPApiClient
from vpp_papi.vpp_papi_async import VPPApiClient as AsyncVPPApiClient

from lab.vpp_standin import FaultRule, StandinConfig, StandinProcess, standin_subprocess, wait_until


def test_cli_process_serves_sync_clients(sock: Path, apidir: Path) -> None:
    with StandinProcess(sock, apidir, StandinConfig(vhost_net=True)) as proc:
        client = VPPApiClient(apidir=str(apidir), server_address=str(sock), read_timeout=2)
        client.connect("sub")
        try:
            assert client.api.tap_create_v3(id=0xFFFFFFFF).retval == 0
            proc.control.add_fault(FaultRule(message="tap_create_v3", retval=-11))
            assert client.api.tap_create_v3(id=0xFFFFFFFF).retval == -11
            snap = proc.control.snapshot()
            assert [i.name for i in snap.interfaces] == ["local0", "tap0"]
            assert snap.counters.calls["tap_create_v3"] == 2
            assert proc.control.configure(vhost_net=False)["vhost_net"] is False
            assert client.api.tap_create_v3(id=0xFFFFFFFF).retval == -11

            assert proc.control.drop_connections() == 1
            with pytest.raises(IOError):
                client.api.show_version()
            client.disconnect()
            client.connect("sub-again")
            assert client.api.show_version().retval == 0
        finally:
            client.disconnect()
        assert proc.stop() == 0
    assert not sock.exists()


async def test_cli_process_serves_async_clients(sock: Path, apidir: Path) -> None:
    async with standin_subprocess(sock, apidir) as control:
        client = AsyncVPPApiClient(server_address=str(sock))
        assert await client.connect("async-sub", asyncio.Queue()) == 0
        reply = await client.api.create_loopback_instance(is_specified=True, user_instance=9)
        assert reply.retval == 0
        snap = await control.asnapshot()
        assert snap.interface("loop9") is not None
        await client.disconnect()
        await asyncio.to_thread(wait_until, lambda: control.snapshot().counters.connections_open == 0)
