"""Leader election on an etcd lease: one key, held by whoever created it.

The leader's key lives under its lease, so when the leader dies the key goes
away within the TTL and a waiting candidate takes over. Writes a leader makes
carry `fence()`, so a leader that lost its lease without noticing yet cannot
write over its successor.
"""

from __future__ import annotations

import asyncio
import logging

from aetcd import rpc

from kvstore.client import KVStore
from kvstore.errors import EtcdUnavailable, ResyncRequired
from kvstore.lease import Lease
from kvstore.txn import Compare

log = logging.getLogger(__name__)


class LeaderElection:
    def __init__(self, store: KVStore, key: str, identity: str, ttl: int = 5) -> None:
        self.store = store
        self.key = key
        self.identity = identity
        self.ttl = ttl
        self._lease: Lease | None = None
        self._created_revision = 0

    @property
    def is_leader(self) -> bool:
        return self._lease is not None and not self._lease.lost.is_set()

    @property
    def lost(self) -> asyncio.Event:
        """Set once leadership is lost; valid after campaign() returned."""
        if self._lease is None:
            raise RuntimeError("not leader: campaign() first")
        return self._lease.lost

    def fence(self) -> rpc.Compare:
        """A transaction condition that holds only while this leadership lasts."""
        if self._created_revision == 0:
            raise RuntimeError("not leader: campaign() first")
        return Compare.created_at(self.key, self._created_revision)

    async def campaign(self) -> None:
        """Return once this candidate is the leader; wait as long as it takes."""
        while True:
            try:
                if await self._try_once():
                    log.info("%s is now the leader (%s)", self.identity, self.key)
                    return
            except EtcdUnavailable as exc:
                log.info("election %s: %s; retrying", self.key, exc)
                await asyncio.sleep(1.0)

    async def _try_once(self) -> bool:
        lease = await Lease.grant(self.store, self.ttl)
        result = await self.store.create_if_absent(self.key, self.identity.encode(), lease=lease.id)
        if result.succeeded:
            self._lease = lease
            self._created_revision = result.revision
            return True
        await lease.revoke()
        await self._wait_for_vacancy()
        return False

    async def _wait_for_vacancy(self) -> None:
        current = await self.store.get_raw(self.key)
        if current is None:
            return
        if current.value == self.identity.encode():
            # Our own key from before a restart: it ends with its old lease.
            log.info("election %s: waiting for the previous lease of %s to expire", self.key, self.identity)
        try:
            async for event in self.store.watch_key(self.key, current.mod_revision + 1):
                if event.deleted:
                    return
        except ResyncRequired:
            return

    async def resign(self) -> None:
        """Give up leadership now, so that a successor need not wait a TTL."""
        lease, self._lease = self._lease, None
        self._created_revision = 0
        if lease is not None:
            await lease.revoke()
