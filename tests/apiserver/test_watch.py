"""Watches through kubernetes.watch.Watch: resuming from a resourceVersion,
the initial state, selector transitions, bookmarks, and 410 Gone once etcd
has compacted the revision a client asks for."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from kvstore import EtcdConfig, KVStore
from lab.apiserver.testing import ApiServerProcess
from lab.etcd import EtcdServer
from tests.apiserver.helpers import api_client, pod, unique


def collect(stream: watch.Watch, events: Any, count: int) -> list[dict[str, Any]]:
    """The first `count` events that are not bookmarks (the stream's own
    timeout bounds the wait)."""
    seen = []
    for event in events:
        if event["type"] != "BOOKMARK":
            seen.append(event)
        if len(seen) == count:
            stream.stop()
    return seen


def test_watch_resumes_after_a_resource_version(core: client.CoreV1Api, namespace: str) -> None:
    start = core.create_namespaced_pod(namespace, pod("a", labels={"v": "1"})).metadata.resource_version
    modified = core.patch_namespaced_pod("a", namespace, {"metadata": {"labels": {"v": "2"}}})
    added = core.create_namespaced_pod(namespace, pod("b"))
    deleted = core.delete_namespaced_pod("a", namespace)

    w = watch.Watch()
    events = collect(w, w.stream(core.list_namespaced_pod, namespace, resource_version=start, timeout_seconds=10), 3)
    assert [(e["type"], e["object"].metadata.name) for e in events] == [
        ("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "a")]
    assert events[0]["object"].metadata.resource_version == modified.metadata.resource_version
    assert events[1]["object"].metadata.resource_version == added.metadata.resource_version
    # A deleted object comes as it last was, at the revision of its deletion.
    assert events[2]["object"].metadata.labels == {"v": "2"}
    assert int(events[2]["object"].metadata.resource_version) > int(added.metadata.resource_version)
    assert deleted.metadata.uid == events[2]["object"].metadata.uid


def test_watch_without_resource_version_starts_with_current_state(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, pod("x"))
    core.create_namespaced_pod(namespace, pod("y"))
    w = watch.Watch()
    events = w.stream(core.list_namespaced_pod, namespace, timeout_seconds=10)
    first = collect(w, events, 2)
    assert sorted((e["type"], e["object"].metadata.name) for e in first) == [("ADDED", "x"), ("ADDED", "y")]
    # The same stream then carries changes.
    w2 = watch.Watch()
    listed = core.list_namespaced_pod(namespace)
    core.create_namespaced_pod(namespace, pod("z"))
    later = collect(w2, w2.stream(core.list_namespaced_pod, namespace,
                                  resource_version=listed.metadata.resource_version, timeout_seconds=10), 1)
    assert [(e["type"], e["object"].metadata.name) for e in later] == [("ADDED", "z")]


def test_watch_reports_objects_leaving_and_entering_a_selector(core: client.CoreV1Api, namespace: str) -> None:
    rv = core.create_namespaced_pod(namespace, pod("s", labels={"app": "web"})).metadata.resource_version
    core.patch_namespaced_pod("s", namespace, {"metadata": {"labels": {"app": "db"}}})
    core.create_namespaced_pod(namespace, pod("other", labels={"app": "db"}))
    core.patch_namespaced_pod("s", namespace, {"metadata": {"labels": {"app": "web"}}})
    w = watch.Watch()
    events = collect(w, w.stream(core.list_namespaced_pod, namespace, label_selector="app=web",
                                 resource_version=rv, timeout_seconds=10), 2)
    assert [(e["type"], e["object"].metadata.name, e["object"].metadata.labels["app"]) for e in events] == [
        ("DELETED", "s", "db"), ("ADDED", "s", "web")]


def test_field_selector_watch_of_one_node(core: client.CoreV1Api, namespace: str) -> None:
    rv = core.list_namespaced_pod(namespace).metadata.resource_version
    core.create_namespaced_pod(namespace, pod("on-a", node="node-a"))
    core.create_namespaced_pod(namespace, pod("on-b", node="node-b"))
    w = watch.Watch()
    events = collect(w, w.stream(core.list_pod_for_all_namespaces, field_selector="spec.nodeName=node-b",
                                 resource_version=rv, timeout_seconds=10), 1)
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "on-b")]


def test_bookmarks_advance_past_unrelated_writes_and_end_the_stream(core: client.CoreV1Api, namespace: str) -> None:
    listed = core.list_namespaced_pod(namespace)
    # A write outside the watched namespace moves etcd's revision only.
    other = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=unique("other"))))
    later = int(other.metadata.resource_version)
    w = watch.Watch()
    deadline = time.monotonic() + 10
    events = []
    for event in w.stream(core.list_namespaced_pod, namespace, resource_version=listed.metadata.resource_version,
                          allow_watch_bookmarks=True, timeout_seconds=3):
        events.append(event)
        assert time.monotonic() < deadline
    core.delete_namespace(other.metadata.name)
    assert events and all(e["type"] == "BOOKMARK" for e in events)
    revisions = [int(e["raw_object"]["metadata"]["resourceVersion"]) for e in events]
    assert revisions == sorted(revisions) and revisions[-1] >= later
    assert all(e["raw_object"]["kind"] == "Pod" and e["raw_object"]["apiVersion"] == "v1" for e in events)
    # The client keeps the bookmark's revision as its resume point.
    assert int(w.resource_version) == revisions[-1]


def test_no_bookmarks_unless_asked(core: client.CoreV1Api, namespace: str) -> None:
    listed = core.list_namespaced_pod(namespace)
    w = watch.Watch()
    events = list(w.stream(core.list_namespaced_pod, namespace, resource_version=listed.metadata.resource_version,
                           timeout_seconds=2))
    assert events == []


async def _compact(endpoint: str) -> int:
    async with KVStore(EtcdConfig(endpoints=[endpoint])) as kv:
        revision = await kv.revision()
        await kv.compact(revision)
        return revision


def test_watch_and_list_at_a_compacted_revision_are_gone(private_etcd: EtcdServer,
                                                         private_apiserver: ApiServerProcess) -> None:
    with api_client(private_apiserver) as api:
        core = client.CoreV1Api(api)
        old = core.create_namespaced_pod("default", pod("old")).metadata.resource_version
        # etcd keeps the compaction revision itself: two more writes put the
        # first event after `old` behind it.
        core.patch_namespaced_pod("old", "default", {"metadata": {"labels": {"a": "b"}}})
        core.patch_namespaced_pod("old", "default", {"metadata": {"labels": {"a": "c"}}})
        compacted = asyncio.run(_compact(private_etcd.endpoint))

        w = watch.Watch()
        with pytest.raises(ApiException) as expired:
            list(w.stream(core.list_namespaced_pod, "default", resource_version=old, timeout_seconds=5))
        assert expired.value.status == 410 and "Expired" in expired.value.reason

        # The raw stream: one ERROR event carrying a Status, as the real server sends.
        response = core.list_namespaced_pod("default", watch=True, resource_version=old, timeout_seconds=5,
                                            _preload_content=False)
        lines = [line for line in response.read().decode().splitlines() if line]
        assert len(lines) == 1
        event = json.loads(lines[0])
        assert event["type"] == "ERROR"
        assert {k: event["object"][k] for k in ("kind", "apiVersion", "status", "reason", "code")} == {
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410}

        with pytest.raises(ApiException) as gone:
            core.list_namespaced_pod("default", resource_version=old)
        assert gone.value.status == 410
        with pytest.raises(ApiException) as exact:
            core.list_namespaced_pod("default", resource_version=old, resource_version_match="Exact")
        assert exact.value.status == 410

        # From the current revision on, all is well again.
        fresh = core.list_namespaced_pod("default", resource_version=str(compacted))
        assert [p.metadata.name for p in fresh.items] == ["old"]
