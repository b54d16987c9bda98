"""One term as leader: reflect every kind until leadership is lost.

The term owns the readers (API side) and writers (etcd side) of every kind
and the epoch marker `<prefix>/ksr/epoch`. Every etcd write of the term
carries the election's fence, so once another KSR has taken over, this one's
writes fail instead of overwriting the successor's; the term then ends with
LeadershipLost, and the process campaigns again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from ksr.apiclient import ApiClient
from ksr.backoff import Backoff
from ksr.kinds import KINDS, KindSpec
from ksr.metrics import Metrics
from ksr.monitor import Marker, StoreMonitor
from ksr.reflector import KindReflector
from ksr.writer import KindWriter, LeadershipLost
from kvstore import KVStore, KVStoreError, LeaderElection, Op
from model import KeySpace

log = logging.getLogger(__name__)


class Epoch(BaseModel):
    """The value of the marker key: which leader term wrote this prefix."""

    identity: str
    epoch: str
    started_at: datetime


def marker_key(keys: KeySpace) -> str:
    return f"{keys.prefix}/ksr/epoch"


def leader_key(keys: KeySpace) -> str:
    return f"{keys.prefix}/ksr/leader"


class LeaderTerm:
    def __init__(self, store: KVStore, api: ApiClient, keys: KeySpace, election: LeaderElection,
                 monitor: StoreMonitor, metrics: Metrics, kinds: tuple[KindSpec, ...] = KINDS) -> None:
        self.store = store
        self.keys = keys
        self.election = election
        self.monitor = monitor
        self.metrics = metrics
        self._store_lost = asyncio.Event()
        self.writers: list[KindWriter] = []
        self.reflectors: list[KindReflector] = []
        for spec in kinds:
            reflection = spec.make(keys, self._skipped)
            writer = KindWriter(spec, reflection, store, keys, self._guard, metrics, monitor.saw_revision)
            self.writers.append(writer)
            self.reflectors.append(KindReflector(spec, reflection, writer, api, metrics))

    @property
    def synced(self) -> bool:
        return all(w.synced for w in self.writers)

    def _guard(self) -> list:
        return [self.election.fence()]

    def _skipped(self, kind: str, name: str, reason: str) -> None:
        self.metrics.skipped.labels(kind).inc()
        log.warning("skipping %s %s: it does not fit the model: %s", kind, name, reason)

    async def run(self) -> None:
        """Runs until leadership is lost (LeadershipLost, in an ExceptionGroup)."""
        try:
            await self._write_marker()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._watch_leadership(), name="leadership")
                tasks.create_task(self._keep_marker(), name="marker")
                for writer, reflector in zip(self.writers, self.reflectors):
                    tasks.create_task(writer.run(), name=f"write-{writer.spec.name}")
                    tasks.create_task(reflector.run(), name=f"reflect-{writer.spec.name}")
        finally:
            self.monitor.watch_marker(None)

    async def _watch_leadership(self) -> None:
        await self.election.lost.wait()
        raise LeadershipLost("the leader lease was lost (etcd unreachable for a whole TTL, or wiped)")

    async def _keep_marker(self) -> None:
        while True:
            await self._store_lost.wait()
            self._store_lost.clear()
            for writer in self.writers:
                writer.request_full_sync("store-lost")
            await self._write_marker()

    def _on_store_lost(self, reason: str) -> None:
        self._store_lost.set()

    async def _write_marker(self) -> None:
        key = marker_key(self.keys)
        value = Epoch(identity=self.election.identity, epoch=uuid.uuid4().hex,
                      started_at=datetime.now(UTC)).model_dump_json().encode()
        backoff = Backoff()
        while True:
            try:
                result = await self.store.txn(self._guard(), [Op.put(key, value)])
                break
            except KVStoreError as exc:
                delay = backoff.next()
                self.metrics.etcd_errors.labels("marker").inc()
                log.warning("writing the epoch marker %s failed (%s); retrying in %.1fs", key, exc, delay)
                await asyncio.sleep(delay)
        if not result.succeeded:
            raise LeadershipLost("the leader fence no longer holds")
        self.monitor.saw_revision(result.revision)
        self.monitor.watch_marker(Marker(key, value, self._on_store_lost))
