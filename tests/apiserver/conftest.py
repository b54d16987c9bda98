"""Fixtures: the Kubernetes API stand-in as a subprocess over a real etcd,
and official-client handles to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from lab.apiserver.testing import ApiServerProcess
from lab.etcd import EtcdServer
from tests.apiserver.helpers import api_client


@pytest.fixture(scope="session")
def apiserver(etcd_server: EtcdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    """One server for the session, under a prefix of its own on the shared
    etcd; tests keep apart by working in their own namespace (`namespace`)
    and by giving cluster-scoped objects unique names."""
    log = tmp_path_factory.mktemp("apiserver") / "apiserver.log"
    with ApiServerProcess(etcd_server.endpoint, log_file=log, prefix=f"/apiserver-{uuid.uuid4().hex[:8]}",
                          bookmark_interval=0.5) as server:
        yield server


@pytest.fixture
def private_apiserver(private_etcd: EtcdServer, tmp_path: Path) -> Iterator[ApiServerProcess]:
    """A server on an etcd of this test's own, for tests that compact it."""
    with ApiServerProcess(private_etcd.endpoint, log_file=tmp_path / "apiserver.log",
                          bookmark_interval=0.5) as server:
        yield server


@pytest.fixture
def k8s(apiserver: ApiServerProcess) -> Iterator[client.ApiClient]:
    with api_client(apiserver) as api:
        yield api


@pytest.fixture
def core(k8s: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(k8s)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)
