"""Reads, writes and compare-and-swap against a real etcd."""

from __future__ import annotations

import asyncio
import time

import pytest

from kvstore import Compare, EtcdConfig, EtcdUnavailable, InvalidValue, KVStore, Op
from lab.etcd import EtcdServer, free_port
from model import Pod


async def test_typed_put_get_and_range(store: KVStore, key_prefix: str) -> None:
    pods = {f"{key_prefix}/pod/{i}": Pod(namespace="ns", name=f"p{i}", pod_ips=(f"10.1.1.{i}",)) for i in range(5)}
    for key, pod in pods.items():
        await store.put(key, pod)
    got = await store.get(Pod, f"{key_prefix}/pod/3")
    assert got is not None and got.value == pods[f"{key_prefix}/pod/3"] and got.mod_revision > 0
    listed = await store.range(Pod, f"{key_prefix}/pod/")
    assert {k: v.value for k, v in listed.items.items()} == pods
    assert listed.revision >= got.mod_revision
    assert await store.get(Pod, f"{key_prefix}/pod/missing") is None


async def test_range_pages_through_large_prefixes_at_one_revision(store: KVStore, key_prefix: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kvstore.client.RANGE_PAGE", 7)
    for i in range(30):
        await store.put(f"{key_prefix}/k/{i:03d}", b"v%d" % i)
    before = await store.range_raw(f"{key_prefix}/k/")
    await store.put(f"{key_prefix}/k/999", b"late")
    # Reading at the first read's revision gives exactly that snapshot, page by page.
    snapshot = await store.range_raw(f"{key_prefix}/k/", revision=before.revision)
    assert [kv.key for kv in snapshot.kvs] == [f"{key_prefix}/k/{i:03d}" for i in range(30)]
    assert len((await store.range_raw(f"{key_prefix}/k/")).kvs) == 31


async def test_corrupt_value_is_reported_with_its_key_and_skipped(etcd_server: EtcdServer, key_prefix: str) -> None:
    reported: list[InvalidValue] = []
    async with KVStore(EtcdConfig(endpoints=[etcd_server.endpoint]), on_invalid=reported.append) as kv:
        await kv.put(f"{key_prefix}/pod/good", Pod(namespace="a", name="good"))
        await kv.put(f"{key_prefix}/pod/garbage", b"\xff{not json")
        await kv.put(f"{key_prefix}/pod/wrong-shape", b'{"namespace": 5}')
        listed = await kv.range(Pod, f"{key_prefix}/pod/")
        assert list(listed.items) == [f"{key_prefix}/pod/good"]
        assert sorted(bad.key for bad in listed.invalid) == [f"{key_prefix}/pod/garbage", f"{key_prefix}/pod/wrong-shape"]
        assert await kv.get(Pod, f"{key_prefix}/pod/garbage") is None
        assert {bad.key for bad in reported} == {f"{key_prefix}/pod/garbage", f"{key_prefix}/pod/wrong-shape"}
        assert all(bad.error for bad in reported)


async def test_cas_with_two_concurrent_writers_loses_no_update(store: KVStore, key_prefix: str) -> None:
    key = f"{key_prefix}/counter"
    await store.put(key, b"0")
    conflicts = 0

    async def increment(times: int) -> None:
        nonlocal conflicts
        for _ in range(times):
            while True:
                current = await store.get_raw(key)
                assert current is not None
                result = await store.compare_and_swap(key, b"%d" % (int(current.value) + 1), current.mod_revision)
                if result.succeeded:
                    break
                conflicts += 1

    await asyncio.gather(increment(60), increment(60))
    final = await store.get_raw(key)
    assert final is not None and int(final.value) == 120
    assert conflicts > 0, "the two writers never raced; the test proves nothing"


async def test_cas_on_absent_key_and_create_if_absent(store: KVStore, key_prefix: str) -> None:
    key = f"{key_prefix}/claim"
    results = await asyncio.gather(*(store.create_if_absent(key, b"writer-%d" % i) for i in range(5)))
    assert sum(r.succeeded for r in results) == 1
    winner = results[[r.succeeded for r in results].index(True)]
    current = await store.get_raw(key)
    assert current is not None and current.mod_revision == winner.revision
    assert not (await store.compare_and_swap(key, b"x", 0)).succeeded
    assert not (await store.delete_if(key, current.mod_revision - 1)).succeeded
    assert (await store.delete_if(key, current.mod_revision)).succeeded
    assert (await store.compare_and_swap(key, b"again", 0)).succeeded


async def test_transaction_applies_all_or_nothing(store: KVStore, key_prefix: str) -> None:
    a, b = f"{key_prefix}/a", f"{key_prefix}/b"
    await store.put(a, b"1")
    result = await store.txn([Compare.value_is(a, b"2")], [Op.put(b, b"x"), Op.delete(a)])
    assert not result.succeeded
    assert await store.get_raw(b) is None and await store.get_raw(a) is not None
    result = await store.txn([Compare.value_is(a, b"1")], [Op.put(b, b"x"), Op.delete(a)])
    assert result.succeeded
    assert await store.get_raw(a) is None and (await store.get_raw(b)).value == b"x"


async def test_unreachable_etcd_fails_fast_with_a_clear_error() -> None:
    port = free_port()
    config = EtcdConfig(endpoints=[f"127.0.0.1:{port}"], dial_timeout=1.0, request_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(EtcdUnavailable, match=f"127.0.0.1:{port}"):
        await KVStore(config).connect()
    assert time.monotonic() - started < 5


async def test_etcd_down_at_call_time(private_etcd: EtcdServer) -> None:
    config = EtcdConfig(endpoints=[private_etcd.endpoint], request_timeout=1.0)
    async with KVStore(config) as kv:
        await kv.put("/x", b"1")
        private_etcd.stop(kill=True)
        started = time.monotonic()
        with pytest.raises(EtcdUnavailable, match="unreachable"):
            await kv.put("/x", b"2")
        with pytest.raises(EtcdUnavailable):
            await kv.range_raw("/")
        assert time.monotonic() - started < 6
        private_etcd.start()
        # The same client works again once etcd is back: nothing to reopen.
        await kv.put("/x", b"3")
        assert (await kv.get_raw("/x")).value == b"3"


async def test_endpoint_list_fails_over_to_a_live_member(etcd_server: EtcdServer) -> None:
    dead = f"127.0.0.1:{free_port()}"
    async with KVStore(EtcdConfig(endpoints=[dead, etcd_server.endpoint], dial_timeout=5)) as kv:
        assert await kv.revision() > 0


def test_config_rejects_bad_endpoints_and_half_tls() -> None:
    with pytest.raises(ValueError, match="host:port"):
        EtcdConfig(endpoints=["localhost"])
    with pytest.raises(ValueError, match="key"):
        EtcdConfig(cert_file="/tmp/cert.pem")
    assert EtcdConfig(endpoints="http://a:1,b:2").endpoints == ("a:1", "b:2")
