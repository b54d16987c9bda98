"""Leases kept alive in the background: keys that vanish when their owner dies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import grpc
from aetcd import rpc

from kvstore.client import KVStore
from kvstore.errors import KVStoreError

log = logging.getLogger(__name__)


class Lease:
    """A granted lease, refreshed every ttl/3 until revoked.

    `lost` is set when the lease can no longer be trusted to exist: etcd said
    it expired, or no refresh got through for a whole TTL. Whoever holds
    something under the lease must stop acting on it then.
    """

    def __init__(self, store: KVStore, lease_id: int, ttl: int) -> None:
        self.store = store
        self.id = lease_id
        self.ttl = ttl
        self.lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def grant(cls, store: KVStore, ttl: int) -> Lease:
        if ttl < 1:
            raise ValueError("a lease lives at least 1 second")
        reply = await store.call(store.lease_stub().LeaseGrant, rpc.LeaseGrantRequest(TTL=ttl))
        if reply.error:
            raise KVStoreError(f"etcd refused a lease: {reply.error}")
        lease = cls(store, reply.ID, reply.TTL)
        lease._task = asyncio.create_task(lease._keep_alive(), name=f"lease-{reply.ID:x}")
        return lease

    async def _keep_alive(self) -> None:
        loop = asyncio.get_running_loop()
        last_refresh = loop.time()
        while not self.lost.is_set():
            await asyncio.sleep(self.ttl / 3)
            try:
                ttl = await self._refresh_once()
            except (grpc.aio.AioRpcError, KVStoreError, asyncio.TimeoutError) as exc:
                if loop.time() - last_refresh >= self.ttl:
                    log.warning("lease %x: no refresh for %ss (%s); it is lost", self.id, self.ttl, exc)
                    self.lost.set()
                continue
            if ttl <= 0:
                log.warning("lease %x expired in etcd", self.id)
                self.lost.set()
                return
            last_refresh = loop.time()

    async def _refresh_once(self) -> int:
        async def one_request() -> AsyncIterator[rpc.LeaseKeepAliveRequest]:
            yield rpc.LeaseKeepAliveRequest(ID=self.id)

        call = self.store.lease_stub().LeaseKeepAlive(one_request(), timeout=self.ttl / 3)
        try:
            async for reply in call:
                return reply.TTL
        finally:
            call.cancel()
        return 0

    async def revoke(self) -> None:
        """Stop refreshing and delete the lease and every key under it."""
        await self.stop()
        try:
            await self.store.call(self.store.lease_stub().LeaseRevoke, rpc.LeaseRevokeRequest(ID=self.id))
        except KVStoreError as exc:
            # Unreachable etcd: the lease expires on its own within its TTL.
            log.info("lease %x not revoked (%s); it will expire", self.id, exc)

    async def stop(self) -> None:
        """Stop refreshing without revoking (a crash, as etcd sees it)."""
        self.lost.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
