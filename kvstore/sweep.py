"""Mark-and-sweep: make everything under a prefix equal a desired map.

Puts what is missing or different, deletes what is stale, leaves the rest
alone (no write, no watch event), in transactions small enough for etcd's
per-transaction operation limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aetcd import rpc

from kvstore.client import KVStore
from kvstore.txn import Op, encode_value
from model.base import StoredModel

# etcd's default --max-txn-ops is 128.
MAX_TXN_OPS = 128


class SweepFenced(Exception):
    """The guard of a sweep no longer held (e.g. leadership was lost)."""


@dataclass(frozen=True, slots=True)
class SweepResult:
    put: int
    deleted: int
    unchanged: int
    revision: int

    @property
    def changed(self) -> bool:
        return bool(self.put or self.deleted)


async def mark_and_sweep(store: KVStore, prefix: str, desired: Mapping[str, bytes | StoredModel],
                         guard: Iterable[rpc.Compare] = (), max_ops: int = MAX_TXN_OPS) -> SweepResult:
    """`guard` conditions go into every transaction; if one fails, SweepFenced
    is raised and nothing more is written."""
    for key in desired:
        if not key.startswith(prefix):
            raise ValueError(f"desired key {key} is outside the swept prefix {prefix}")
    guard = list(guard)
    existing = {kv.key: kv.value for kv in (await store.range_raw(prefix)).kvs}
    ops: list[rpc.RequestOp] = []
    puts = unchanged = 0
    for key, value in desired.items():
        encoded = encode_value(value)
        if existing.get(key) == encoded:
            unchanged += 1
            continue
        ops.append(Op.put(key, encoded))
        puts += 1
    stale = [key for key in existing if key not in desired]
    ops.extend(Op.delete(key) for key in stale)

    revision = 0
    batch = max(1, max_ops - len(guard))
    for start in range(0, len(ops), batch):
        result = await store.txn(guard, ops[start:start + batch])
        if not result.succeeded:
            raise SweepFenced(f"sweep of {prefix} stopped: its guard no longer holds")
        revision = result.revision
    return SweepResult(puts, len(stale), unchanged, revision)
