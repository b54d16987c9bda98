"""Fixtures of the KSR's end-to-end tests: two real etcd servers (the API
stand-in's storage, and the KSR's target, so wiping one leaves the other),
the Kubernetes API stand-in, and the official client talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from kvstore import EtcdConfig, KVStore
from lab.etcd import EtcdServer
from tests.ksr.ksrlib import KsrProcess


@pytest.fixture
def api_etcd(tmp_path: Path) -> Iterator[EtcdServer]:
    server = EtcdServer(tmp_path / "api-etcd", name="api")
    server.start()
    yield server
    server.stop(kill=True)


@pytest.fixture
def ksr_etcd(tmp_path: Path) -> Iterator[EtcdServer]:
    server = EtcdServer(tmp_path / "ksr-etcd", name="ksr")
    server.start()
    yield server
    server.stop(kill=True)


@pytest.fixture
def apiserver(api_etcd: EtcdServer, tmp_path: Path) -> Iterator[object]:
    from lab.apiserver.testing import ApiServerProcess

    with ApiServerProcess(api_etcd.endpoint, log_file=tmp_path / "apiserver.log") as server:
        yield server


@pytest.fixture
def kube(apiserver: object) -> Iterator[k8s.ApiClient]:
    configuration = k8s.Configuration(host=apiserver.url)  # type: ignore[attr-defined]
    with k8s.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def core(kube: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(kube)


@pytest.fixture
async def ksr_store(ksr_etcd: EtcdServer) -> AsyncIterator[KVStore]:
    """A client of the KSR's etcd, to read what it reflected."""
    async with KVStore(EtcdConfig(endpoints=[ksr_etcd.endpoint])) as store:
        yield store


@pytest.fixture
async def api_store(api_etcd: EtcdServer) -> AsyncIterator[KVStore]:
    """A client of the stand-in's etcd (/registry), to compact it or plant objects."""
    async with KVStore(EtcdConfig(endpoints=[api_etcd.endpoint])) as store:
        yield store


@pytest.fixture
def start_ksr(apiserver: object, ksr_etcd: EtcdServer, tmp_path: Path) -> Iterator:
    """Start `contiv-ksr` processes; every one still running at the end is stopped."""
    started: list[KsrProcess] = []

    def start(identity: str = "ksr-a", lease_ttl: int = 3, api_url: str | None = None,
              etcd_endpoint: str | None = None) -> KsrProcess:
        process = KsrProcess(api_url or apiserver.url, etcd_endpoint or ksr_etcd.endpoint,  # type: ignore[attr-defined]
                             tmp_path / f"{identity}.log", identity=identity, lease_ttl=lease_ttl)
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.kill()
