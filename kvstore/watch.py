"""A watch that survives etcd restarts and dropped streams.

It remembers the revision after the last event it delivered and, whenever the
stream breaks, opens a new one from there: no event is lost and none is
delivered twice. When etcd can no longer serve that revision (compacted, or
the store was wiped and its revisions started over) it raises ResyncRequired,
the caller's cue to list again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
from aetcd import rpc

from kvstore.errors import KVStoreError, RevisionCompacted, StoreWentBack

if TYPE_CHECKING:
    from kvstore.client import KVStore, WatchEvent

log = logging.getLogger(__name__)

_MAX_BACKOFF = 1.0


async def watch_range(store: KVStore, key: bytes, range_end: bytes, start_revision: int) -> AsyncIterator[WatchEvent]:
    from kvstore.client import WatchEvent

    if start_revision < 1:
        raise ValueError("a watch starts at a revision >= 1 (the revision of a read, plus one)")
    next_revision = start_revision
    backoff = 0.1
    while True:
        requests: asyncio.Queue[rpc.WatchRequest | None] = asyncio.Queue()
        create = rpc.WatchCreateRequest(key=key, range_end=range_end, start_revision=next_revision,
                                        progress_notify=True)
        requests.put_nowait(rpc.WatchRequest(create_request=create))
        call = store.watch_stub().Watch(_drain(requests), wait_for_ready=True)
        try:
            async for reply in call:
                if reply.compact_revision:
                    raise RevisionCompacted(next_revision, reply.compact_revision)
                if reply.canceled:
                    raise KVStoreError(f"etcd cancelled the watch on {key!r}: {reply.cancel_reason}")
                if reply.created:
                    # A store that restarted empty accepts a watch from a future
                    # revision and would stay silent until it got there.
                    if reply.header.revision < next_revision - 1:
                        raise StoreWentBack(next_revision - 1, reply.header.revision)
                    backoff = 0.1
                    continue
                if not reply.events:
                    # A progress notification: nothing below this revision is pending.
                    next_revision = max(next_revision, reply.header.revision + 1)
                    continue
                # All events of one revision arrive in one reply, so the resume
                # point only moves past whole revisions.
                last = next_revision - 1
                for event in reply.events:
                    kv = event.kv
                    if kv.mod_revision < next_revision:
                        continue
                    last = max(last, kv.mod_revision)
                    yield WatchEvent(kv.key.decode(), event.type == rpc.Event.DELETE, kv.value, kv.mod_revision)
                next_revision = last + 1
            reason = "etcd closed the watch stream"
        except grpc.aio.AioRpcError as exc:
            reason = str(store.translate(exc))
        finally:
            requests.put_nowait(None)
            call.cancel()
        log.info("watch on %r broke (%s); resuming from revision %d", key, reason, next_revision)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, _MAX_BACKOFF)


async def _drain(requests: asyncio.Queue[rpc.WatchRequest | None]) -> AsyncIterator[rpc.WatchRequest]:
    while (request := await requests.get()) is not None:
        yield request
