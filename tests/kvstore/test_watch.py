"""The resuming watch: exactly once, in order, across etcd restarts; a clear
resync signal when history is gone."""

from __future__ import annotations

import asyncio

import pytest

from kvstore import EtcdConfig, EtcdUnavailable, KVStore, RevisionCompacted, StoreWentBack, WatchEvent
from lab.etcd import EtcdServer

pytestmark = pytest.mark.slow


async def collect(store: KVStore, prefix: str, start: int, count: int, timeout: float) -> list[WatchEvent]:
    events: list[WatchEvent] = []

    async def run() -> None:
        async for event in store.watch_prefix(prefix, start):
            events.append(event)
            if len(events) == count:
                return

    await asyncio.wait_for(run(), timeout)
    return events


async def test_3000_events_across_an_etcd_restart_each_exactly_once_in_order(private_etcd: EtcdServer) -> None:
    config = EtcdConfig(endpoints=[private_etcd.endpoint], request_timeout=15)
    async with KVStore(config) as writer, KVStore(config) as watcher:
        start = await writer.revision() + 1
        watching = asyncio.create_task(collect(watcher, "/w/", start, 3000, timeout=120))

        async def write(first: int, last: int) -> None:
            for i in range(first, last):
                key, value = f"/w/k{i % 97}", b"%d" % i
                while True:
                    try:
                        await writer.put(key, value)
                        break
                    except EtcdUnavailable:
                        # The put may have landed before the connection broke;
                        # writing it again would be a second event.
                        current = await writer.get_raw(key)
                        if current is not None and current.value == value:
                            break

        await write(0, 1000)
        restart = asyncio.create_task(asyncio.to_thread(private_etcd.restart))
        await write(1000, 2000)  # each put waits for etcd to come back
        await restart
        await write(2000, 3000)
        events = await watching

    assert [int(e.value) for e in events] == list(range(3000))
    revisions = [e.mod_revision for e in events]
    assert revisions == sorted(set(revisions))


async def test_deletes_and_multi_key_transactions_are_delivered(store: KVStore, key_prefix: str) -> None:
    from kvstore import Op
    start = await store.revision() + 1
    await store.put(f"{key_prefix}/a", b"1")
    await store.txn([], [Op.put(f"{key_prefix}/b", b"2"), Op.put(f"{key_prefix}/c", b"3")])
    await store.delete(f"{key_prefix}/a")
    events = await collect(store, f"{key_prefix}/", start, 4, timeout=10)
    assert [(e.key.rsplit("/", 1)[1], e.deleted, e.value) for e in events] == [
        ("a", False, b"1"), ("b", False, b"2"), ("c", False, b"3"), ("a", True, b"")]
    assert events[1].mod_revision == events[2].mod_revision


async def test_compacted_revision_asks_for_resync(private_etcd: EtcdServer) -> None:
    async with KVStore(EtcdConfig(endpoints=[private_etcd.endpoint])) as kv:
        first = await kv.put("/c/x", b"0")
        for i in range(10):
            await kv.put("/c/x", b"%d" % i)
        await kv.compact(await kv.revision())
        with pytest.raises(RevisionCompacted) as caught:
            await collect(kv, "/c/", first, 1, timeout=10)
        assert caught.value.requested == first


async def test_wiped_etcd_asks_for_resync_instead_of_waiting_forever(private_etcd: EtcdServer) -> None:
    async with KVStore(EtcdConfig(endpoints=[private_etcd.endpoint], request_timeout=15)) as kv:
        for i in range(20):
            await kv.put("/wipe/x", b"%d" % i)
        resume_from = await kv.revision() + 1
        events: list[WatchEvent] = []

        async def watch() -> None:
            async for event in kv.watch_prefix("/wipe/", resume_from):
                events.append(event)

        watching = asyncio.create_task(watch())
        await asyncio.sleep(0)  # let the watch open before etcd goes away
        await asyncio.to_thread(private_etcd.wipe)
        with pytest.raises(StoreWentBack):
            await asyncio.wait_for(watching, 30)
        assert events == []
