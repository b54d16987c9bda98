"""Mark-and-sweep, leases and leader election against a real etcd."""

from __future__ import annotations

import asyncio
import time

import pytest

from kvstore import EtcdConfig, KVStore, LeaderElection, Lease, Op, SweepFenced, mark_and_sweep
from lab.etcd import EtcdServer
from model import Namespace


async def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def stays_true_for(predicate, seconds: float, what: str) -> None:
    """Check `predicate` throughout `seconds`: for claims about time passing
    (a key outliving its TTL, a candidate not winning while a leader lives)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert await predicate(), f"{what} stopped holding"
        await asyncio.sleep(0.05)


async def test_sweep_puts_what_differs_deletes_what_is_stale_and_nothing_else(store: KVStore, key_prefix: str) -> None:
    p = f"{key_prefix}/ns/"
    await store.put(p + "same", Namespace(name="same"))
    await store.put(p + "changed", Namespace(name="changed", labels={"v": "1"}))
    await store.put(p + "stale", Namespace(name="stale"))
    # A sibling prefix that merely starts with the same characters is not ours.
    await store.put(f"{key_prefix}/ns-other/keep", b"x")
    same_before = (await store.get_raw(p + "same")).mod_revision

    desired = {
        p + "same": Namespace(name="same"),
        p + "changed": Namespace(name="changed", labels={"v": "2"}),
        p + "new": Namespace(name="new"),
    }
    result = await mark_and_sweep(store, p, desired)
    assert (result.put, result.deleted, result.unchanged) == (2, 1, 1)

    listed = await store.range(Namespace, p)
    assert {k: v.value for k, v in listed.items.items()} == desired
    assert (await store.get_raw(p + "same")).mod_revision == same_before
    assert await store.get_raw(f"{key_prefix}/ns-other/keep") is not None

    again = await mark_and_sweep(store, p, desired)
    assert not again.changed and again.unchanged == 3


async def test_sweep_of_more_keys_than_one_transaction_holds(store: KVStore, key_prefix: str) -> None:
    p = f"{key_prefix}/many/"
    for i in range(300):
        await store.put(p + f"old{i}", b"x")
    desired = {p + f"new{i}": Namespace(name=f"n{i}") for i in range(400)}
    result = await mark_and_sweep(store, p, desired)
    assert (result.put, result.deleted) == (400, 300)
    assert len((await store.range_raw(p)).kvs) == 400


async def test_sweep_stops_when_its_guard_fails(store: KVStore, key_prefix: str) -> None:
    from kvstore import Compare
    fence_key = f"{key_prefix}/leader"
    await store.put(fence_key, b"me")
    guard = [Compare.value_is(fence_key, b"someone-else")]
    with pytest.raises(SweepFenced):
        await mark_and_sweep(store, f"{key_prefix}/g/", {f"{key_prefix}/g/a": b"1"}, guard=guard)
    assert await store.get_raw(f"{key_prefix}/g/a") is None


async def test_lease_keeps_keys_alive_and_they_expire_when_it_stops(store: KVStore, key_prefix: str) -> None:
    lease = await Lease.grant(store, ttl=2)
    await store.put(f"{key_prefix}/alive", b"1", lease=lease.id)
    async def alive() -> bool:
        return await store.get_raw(f"{key_prefix}/alive") is not None

    # Well past the TTL, kept alive by the background refresh.
    await stays_true_for(alive, 3, "the leased key")
    await lease.stop()

    async def gone() -> bool:
        return await store.get_raw(f"{key_prefix}/alive") is None

    await wait_until(gone, timeout=6, what="the key of a dead lease to expire")


async def test_revoked_lease_deletes_its_keys_at_once(store: KVStore, key_prefix: str) -> None:
    lease = await Lease.grant(store, ttl=30)
    await store.put(f"{key_prefix}/k", b"1", lease=lease.id)
    await lease.revoke()
    assert await store.get_raw(f"{key_prefix}/k") is None


async def test_leadership_hands_over_when_the_leader_dies(etcd_server: EtcdServer, key_prefix: str) -> None:
    config = EtcdConfig(endpoints=[etcd_server.endpoint])
    async with KVStore(config) as store_a, KVStore(config) as store_b:
        key = f"{key_prefix}/election"
        a = LeaderElection(store_a, key, "ksr-a", ttl=2)
        b = LeaderElection(store_b, key, "ksr-b", ttl=2)
        await a.campaign()
        b_campaign = asyncio.create_task(b.campaign())

        async def a_leads() -> bool:
            return a.is_leader and not b_campaign.done()

        await stays_true_for(a_leads, 1, "a's leadership while alive")

        # The leader's fence lets its writes through.
        assert (await store_a.txn([a.fence()], [Op.put(f"{key_prefix}/data", b"a")])).succeeded

        # The leader crashes: it stops refreshing its lease without a word.
        crashed_at = time.monotonic()
        await a._lease.stop()  # noqa: SLF001 (simulating a crash)
        await asyncio.wait_for(b_campaign, timeout=10)
        assert time.monotonic() - crashed_at < 2 + 3
        assert b.is_leader
        assert (await store_b.get_raw(key)).value == b"ksr-b"

        # The old leader, not yet aware, can no longer write.
        assert not (await store_a.txn([a.fence()], [Op.put(f"{key_prefix}/data", b"stale")])).succeeded
        assert (await store_b.get_raw(f"{key_prefix}/data")).value == b"a"
        await b.resign()


async def test_resign_hands_over_at_once(etcd_server: EtcdServer, key_prefix: str) -> None:
    config = EtcdConfig(endpoints=[etcd_server.endpoint])
    async with KVStore(config) as store_a, KVStore(config) as store_b:
        key = f"{key_prefix}/election"
        a = LeaderElection(store_a, key, "a", ttl=30)
        b = LeaderElection(store_b, key, "b", ttl=30)
        await a.campaign()
        b_campaign = asyncio.create_task(b.campaign())

        async def b_waits() -> bool:
            return not b_campaign.done()

        await stays_true_for(b_waits, 0.3, "b waiting behind a")
        await a.resign()
        await asyncio.wait_for(b_campaign, timeout=5)
        assert b.is_leader
        await b.resign()
