"""Copies one kind's desired state into etcd: only what changed, only while leader.

The reflector updates `Reflection.desired` and names the keys it touched;
the writer compares them with what it last wrote and sends the difference in
fenced transactions, batched (a burst of events costs few round trips). A
full sync (at start, after a relist, after etcd lost data) is a mark-and-sweep
of the whole prefix. Reading the API and writing etcd are separate tasks, so
an etcd outage only makes the pending keys pile up (coalesced per key) while
the watch keeps up with the API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aetcd import rpc

from ksr.backoff import Backoff
from ksr.kinds import KindSpec, Reflection
from ksr.metrics import Metrics
from kvstore import KVStore, KVStoreError, Op, SweepFenced, mark_and_sweep
from kvstore.sweep import MAX_TXN_OPS
from model import KeySpace

log = logging.getLogger(__name__)


class LeadershipLost(Exception):
    """A fenced write was refused: someone else leads now. Stop writing."""


Guard = Callable[[], list[rpc.Compare]]


class KindWriter:
    def __init__(self, spec: KindSpec, reflection: Reflection, store: KVStore, keys: KeySpace, guard: Guard,
                 metrics: Metrics, on_revision: Callable[[int], None]) -> None:
        self.spec = spec
        self.reflection = reflection
        self.store = store
        self.prefix = keys.kind_prefix(spec.kind)
        self.guard = guard
        self.metrics = metrics
        self.on_revision = on_revision
        self.written: dict[str, bytes] = {}
        self.dirty: set[str] = set()
        self.listed = False
        self.full_sync_trigger: str | None = None
        self.synced = False
        self._wake = asyncio.Event()

    # --- called by the reflector and the term ------------------------------------

    def changed(self, keys: set[str]) -> None:
        if keys:
            self.dirty |= keys
            self._wake.set()

    def after_list(self) -> None:
        self.listed = True
        self.request_full_sync("list")

    def request_full_sync(self, trigger: str) -> None:
        self.full_sync_trigger = trigger
        self.synced = False
        self._wake.set()

    # --- the task -----------------------------------------------------------------

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while (self.full_sync_trigger and self.listed) or self.dirty:
                try:
                    if self.full_sync_trigger and self.listed:
                        await self._full_sync()
                    else:
                        await self._flush()
                    backoff.reset()
                except SweepFenced:
                    raise LeadershipLost(f"{self.spec.name}: the leader fence no longer holds") from None
                except KVStoreError as exc:
                    delay = backoff.next()
                    self.metrics.etcd_errors.labels("write").inc()
                    log.warning("%s: writing to etcd failed (%s); retrying in %.1fs", self.spec.name, exc, delay)
                    await asyncio.sleep(delay)

    async def _full_sync(self) -> None:
        trigger = self.full_sync_trigger or "list"
        self.full_sync_trigger = None
        # Changes that arrive while the sweep runs land in `dirty` again.
        self.dirty.clear()
        snapshot = dict(self.reflection.desired)
        started = time.monotonic()
        try:
            result = await mark_and_sweep(self.store, self.prefix, snapshot, guard=self.guard())
        except KVStoreError:
            self.full_sync_trigger = self.full_sync_trigger or trigger
            raise
        took = time.monotonic() - started
        self.written = snapshot
        if result.revision:
            self.on_revision(result.revision)
        self.metrics.resyncs.labels(self.spec.name, trigger).inc()
        self.metrics.resync_duration.labels(self.spec.name).observe(took)
        self.metrics.etcd_writes.labels(self.spec.name, "put").inc(result.put)
        self.metrics.etcd_writes.labels(self.spec.name, "delete").inc(result.deleted)
        self.synced = self.full_sync_trigger is None
        log.info("%s: resync (%s) made %s equal to %d objects: %d put, %d deleted, %d unchanged, in %.2fs",
                 self.spec.name, trigger, self.prefix, len(snapshot), result.put, result.deleted, result.unchanged,
                 took)

    async def _flush(self) -> None:
        batch_size = MAX_TXN_OPS - 1  # one op of the transaction's budget is the fence
        batch = [self.dirty.pop() for _ in range(min(batch_size, len(self.dirty)))]
        desired = self.reflection.desired
        ops: list[rpc.RequestOp] = []
        changes: dict[str, bytes | None] = {}
        for key in batch:
            want = desired.get(key)
            if want == self.written.get(key):
                continue
            ops.append(Op.put(key, want) if want is not None else Op.delete(key))
            changes[key] = want
        if not ops:
            return
        try:
            result = await self.store.txn(self.guard(), ops)
        except KVStoreError:
            self.dirty.update(batch)
            raise
        if not result.succeeded:
            raise LeadershipLost(f"{self.spec.name}: the leader fence no longer holds")
        self.on_revision(result.revision)
        puts = 0
        for key, value in changes.items():
            if value is None:
                self.written.pop(key, None)
            else:
                self.written[key] = value
                puts += 1
        self.metrics.etcd_writes.labels(self.spec.name, "put").inc(puts)
        self.metrics.etcd_writes.labels(self.spec.name, "delete").inc(len(changes) - puts)
