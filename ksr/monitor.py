"""Noticing that etcd lost the KSR's data, and that etcd is reachable at all.

A wiped etcd, or one restored from a backup, keeps serving, but without the
keys the KSR wrote; nothing fails, so it has to be checked. Every probe reads
etcd's revision and the leader's marker key:
- the revision is lower than one already seen (what kvstore's watch calls
  StoreWentBack): etcd went back in time;
- the marker is gone or holds another epoch: the keys of this term may be
  gone even though the revision has since grown past the old one.
Either way the term resyncs every kind from its in-memory view of the API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ksr.metrics import Metrics
from kvstore import KVStore, KVStoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Marker:
    key: str
    value: bytes
    on_lost: Callable[[str], None]


class StoreMonitor:
    def __init__(self, store: KVStore, metrics: Metrics, interval: float = 1.0) -> None:
        self.store = store
        self.metrics = metrics
        self.interval = interval
        self.highest_revision = 0
        self.etcd_ok = False
        self._marker: Marker | None = None

    def saw_revision(self, revision: int) -> None:
        self.highest_revision = max(self.highest_revision, revision)

    def watch_marker(self, marker: Marker | None) -> None:
        self._marker = marker

    async def run(self) -> None:
        while True:
            await self.probe()
            await asyncio.sleep(self.interval)

    async def probe(self) -> None:
        # Revisions seen before the request was sent bound the answer from
        # below; a write that completes meanwhile must not look like a loss.
        baseline = self.highest_revision
        marker = self._marker
        try:
            current = await self.store.revision()
            stored = await self.store.get_raw(marker.key) if marker is not None else None
        except KVStoreError as exc:
            if self.etcd_ok:
                log.warning("etcd at %s is unreachable: %s", self.store.endpoints_text, exc)
            self.etcd_ok = False
            self.metrics.etcd_errors.labels("probe").inc()
            return
        if not self.etcd_ok:
            log.info("etcd at %s is reachable (revision %d)", self.store.endpoints_text, current)
        self.etcd_ok = True
        reason = None
        if current < baseline:
            reason = f"its revision went back from {baseline} to {current} (wiped or restored)"
        elif marker is not None and self._marker is marker and (stored is None or stored.value != marker.value):
            reason = f"the marker {marker.key} is {'gone' if stored is None else 'from another epoch'}"
        if reason is None:
            self.saw_revision(current)
            return
        self.highest_revision = current
        self.metrics.store_lost.inc()
        if marker is not None and self._marker is marker:
            log.warning("etcd lost the KSR's data: %s; resyncing every kind", reason)
            self._marker = None
            marker.on_lost(reason)
        else:
            log.warning("etcd lost data: %s; the next leader term starts with a full resync", reason)
