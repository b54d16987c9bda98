"""What sits in etcd, and that concurrent writers through the API cannot
lose an update or share an address."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kvstore import EtcdConfig, KVStore
from lab.apiserver.testing import ApiServerProcess
from lab.etcd import EtcdServer
from tests.apiserver.helpers import api_client, pod


async def _read(endpoint: str, key: str) -> tuple[bytes, int] | None:
    async with KVStore(EtcdConfig(endpoints=[endpoint])) as kv:
        found = await kv.get_raw(key)
        return (found.value, found.mod_revision) if found else None


def test_objects_live_under_registry_with_mod_revision_as_resource_version(
        core: client.CoreV1Api, namespace: str, apiserver: ApiServerProcess, etcd_server: EtcdServer) -> None:
    created = core.create_namespaced_pod(namespace, pod("stored"))
    found = asyncio.run(_read(etcd_server.endpoint, f"{apiserver.prefix}/pods/{namespace}/stored"))
    assert found is not None
    value, mod_revision = found
    assert str(mod_revision) == created.metadata.resource_version
    stored = json.loads(value)
    assert stored["metadata"]["uid"] == created.metadata.uid and "resourceVersion" not in stored["metadata"]
    core.delete_namespaced_pod("stored", namespace)
    assert asyncio.run(_read(etcd_server.endpoint, f"{apiserver.prefix}/pods/{namespace}/stored")) is None


def test_concurrent_read_modify_write_loses_nothing(apiserver: ApiServerProcess, namespace: str) -> None:
    with api_client(apiserver) as api:
        client.CoreV1Api(api).create_namespaced_pod(namespace, pod("counter"))
    writers, increments = 6, 5

    def writer(_: int) -> int:
        conflicts = 0
        with api_client(apiserver) as api:
            core = client.CoreV1Api(api)
            done = 0
            while done < increments:
                current = core.read_namespaced_pod("counter", namespace)
                annotations = current.metadata.annotations or {}
                annotations["count"] = str(int(annotations.get("count", "0")) + 1)
                current.metadata.annotations = annotations
                try:
                    core.replace_namespaced_pod("counter", namespace, current)
                    done += 1
                except ApiException as exc:
                    assert exc.status == 409
                    conflicts += 1
        return conflicts

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    with api_client(apiserver) as api:
        final = client.CoreV1Api(api).read_namespaced_pod("counter", namespace)
    assert final.metadata.annotations["count"] == str(writers * increments)


def test_concurrent_service_creates_get_distinct_addresses(apiserver: ApiServerProcess, namespace: str) -> None:
    def create(i: int) -> tuple[str, list[int]]:
        with api_client(apiserver) as api:
            svc = client.CoreV1Api(api).create_namespaced_service(namespace, client.V1Service(
                metadata=client.V1ObjectMeta(name=f"c{i}"),
                spec=client.V1ServiceSpec(type="NodePort", ports=[client.V1ServicePort(port=80)])))
            return svc.spec.cluster_ip, [p.node_port for p in svc.spec.ports]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(16)))
    assert len({ip for ip, _ in results}) == 16
    assert len({port for _, ports in results for port in ports}) == 16


def test_delete_preconditions(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_pod(namespace, pod("pre"))
    core.patch_namespaced_pod("pre", namespace, {"metadata": {"labels": {"v": "2"}}})
    with pytest.raises(ApiException) as stale:
        core.delete_namespaced_pod("pre", namespace, body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(resource_version=created.metadata.resource_version)))
    assert stale.value.status == 409
    with pytest.raises(ApiException) as other_uid:
        core.delete_namespaced_pod("pre", namespace, body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid="not-this-one")))
    assert other_uid.value.status == 409
    core.delete_namespaced_pod("pre", namespace, body=client.V1DeleteOptions(
        preconditions=client.V1Preconditions(uid=created.metadata.uid)))
    assert core.list_namespaced_pod(namespace).items == []


def test_server_dry_run_writes_nothing(core: client.CoreV1Api, namespace: str) -> None:
    preview = core.create_namespaced_pod(namespace, pod("dry"), dry_run="All")
    assert preview.metadata.name == "dry" and preview.status.phase == "Pending"
    assert core.list_namespaced_pod(namespace).items == []
