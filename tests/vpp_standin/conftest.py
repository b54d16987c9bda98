"""Fixtures: a stand-in on a short unix-socket path, and real vpp_papi clients."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from vpp_papi import VPPApiClient
from vpp_papi.vpp_papi_async import VPPApiClient as AsyncVPPApiClient

from lab.vpp_standin import StandinConfig, StandinThread, VppStandin, running_standin

# shared/ sits beside the checkout, as in CI.
APIDIR = Path(__file__).resolve().parents[2].parent / "shared" / "vpp-api"


@pytest.fixture
def apidir() -> Path:
    return APIDIR


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # AF_UNIX paths are limited to 107 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="vs-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sock(sock_dir: Path) -> Path:
    return sock_dir / "api.sock"


@pytest.fixture
def standin_config() -> StandinConfig:
    # Tests state vhost-net explicitly; "auto" would depend on the host.
    return StandinConfig(vhost_net=False)


@pytest.fixture
def server(sock: Path, apidir: Path, standin_config: StandinConfig) -> Iterator[StandinThread]:
    with StandinThread(sock, apidir, standin_config) as thread:
        yield thread


@pytest.fixture
def make_client(sock: Path, apidir: Path) -> Iterator[Callable[..., VPPApiClient]]:
    clients: list[VPPApiClient] = []

    def make(name: str = "test", read_timeout: float = 5, **kwargs: object) -> VPPApiClient:
        client = VPPApiClient(apidir=str(apidir), server_address=str(sock), read_timeout=read_timeout, **kwargs)
        client.connect(name)
        clients.append(client)
        return client

    yield make
    for client in clients:
        if client.transport.connected:
            client.disconnect()


@pytest.fixture
def client(server: StandinThread, make_client: Callable[..., VPPApiClient]) -> VPPApiClient:
    return make_client()


@pytest.fixture
async def aserver(sock: Path, apidir: Path, standin_config: StandinConfig) -> AsyncIterator[VppStandin]:
    async with running_standin(sock, apidir, standin_config) as standin:
        yield standin


@pytest.fixture
async def aclient(aserver: VppStandin, sock: Path) -> AsyncIterator[AsyncVPPApiClient]:
    client = AsyncVPPApiClient(server_address=str(sock))
    assert await client.connect("async-test", asyncio.Queue()) == 0
    yield client
    await client.disconnect()
