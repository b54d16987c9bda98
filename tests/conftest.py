"""Fixtures shared by the whole suite: a real etcd server and clients of it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kvstore import EtcdConfig, KVStore
from lab.etcd import EtcdServer


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (network namespaces, veth, nftables)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def etcd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    """One real etcd for the session; tests that stop, wipe or compact it use
    `private_etcd` instead."""
    server = EtcdServer(tmp_path_factory.mktemp("etcd-shared") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_etcd(tmp_path: Path) -> Iterator[EtcdServer]:
    server = EtcdServer(tmp_path / "etcd-data")
    server.start()
    yield server
    server.stop(kill=True)


@pytest.fixture
def key_prefix(request: pytest.FixtureRequest) -> str:
    """A prefix of this test's own, so tests sharing one etcd never meet."""
    return "/test/" + request.node.name.replace("/", "_").replace("[", "_").replace("]", "_")


@pytest.fixture
async def store(etcd_server: EtcdServer, key_prefix: str) -> AsyncIterator[KVStore]:
    async with KVStore(EtcdConfig(endpoints=[etcd_server.endpoint])) as kv:
        await kv.delete_prefix(key_prefix + "/")
        yield kv
