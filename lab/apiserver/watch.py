"""A watch as the real server streams it: one JSON event per line (ADDED,
MODIFIED, DELETED, BOOKMARK, ERROR), resumable from any resourceVersion etcd
still has, ending with ERROR 410 "Expired" when it does not.

Each HTTP watch is an etcd watch of its own, asking for the previous value of
every change: a DELETED event carries the object as it was, and an object
that stops (or starts) matching the selectors is reported as DELETED (or
ADDED), as the real server does. kvstore's watch resumes forever across
etcd restarts and carries no previous values; here a broken stream simply
ends the HTTP watch, and the client resumes from the last resourceVersion
it saw, which is what Kubernetes clients do anyway.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from aetcd import rpc

from kvstore import KVStore, prefix_range_end
from lab.apiserver.errors import ApiError, gone, internal
from lab.apiserver.operations import present
from lab.apiserver.resources import ResourceType
from lab.apiserver.selectors import Matcher
from lab.apiserver.storage import decode

log = logging.getLogger(__name__)

Obj = dict[str, Any]

# How long the end of a watch waits for etcd to confirm its final bookmark.
_CLOSING_GRACE = 2.0


@dataclass
class WatchSpec:
    resource: ResourceType
    prefix: str
    # Events at this revision and later are sent.
    start_revision: int
    match: Matcher
    timeout: float
    bookmarks: bool
    bookmark_interval: float
    # Synthetic ADDED events sent first (a watch without a resourceVersion
    # starts with the current state, as in Kubernetes).
    initial: list[Obj]
    # How an object goes on the wire (itself, or a one-row Table for kubectl get -w).
    render: Callable[[Obj], Obj] = lambda obj: obj


def event_line(kind: str, obj: Obj) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


def error_line(error: ApiError) -> bytes:
    return event_line("ERROR", error.status())


class _End:
    def __init__(self, error: str | None = None) -> None:
        self.error = error


async def watch_events(kv: KVStore, spec: WatchSpec) -> AsyncIterator[bytes]:
    for obj in spec.initial:
        yield event_line("ADDED", spec.render(present(spec.resource, obj)))
    async for line in _Stream(kv, spec).run():
        yield line


class _Stream:
    def __init__(self, kv: KVStore, spec: WatchSpec) -> None:
        self.kv = kv
        self.spec = spec
        self.sent_revision = spec.start_revision - 1
        self.requests: asyncio.Queue[rpc.WatchRequest | None] = asyncio.Queue()
        self.replies: asyncio.Queue[rpc.WatchResponse | _End] = asyncio.Queue()
        # Progress of a bookmark: None (idle), then the revision etcd reported
        # in answer to the first progress request, confirmed by the second.
        self.progress_round = 0
        self.progress_revision = 0

    async def run(self) -> AsyncIterator[bytes]:
        key = self.spec.prefix.encode()
        create = rpc.WatchCreateRequest(key=key, range_end=prefix_range_end(key),
                                        start_revision=self.spec.start_revision, prev_kv=True)
        self.requests.put_nowait(rpc.WatchRequest(create_request=create))
        call = self.kv.watch_stub().Watch(self._drain(), wait_for_ready=True)
        reader = asyncio.create_task(self._read(call))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.spec.timeout
        next_bookmark = loop.time() + self.spec.bookmark_interval
        closing = False
        try:
            while True:
                now = loop.time()
                if now >= deadline:
                    if closing or not self.spec.bookmarks:
                        if closing:
                            # etcd did not confirm in time; the last event's
                            # revision is still a correct resume point.
                            yield self._bookmark(self.sent_revision)
                        return
                    # Before closing, tell the client how far it got, so it
                    # resumes from there rather than from its last event.
                    closing = True
                    deadline = now + _CLOSING_GRACE
                    if self.progress_round == 0:
                        self._ask_progress()
                    continue
                wait = deadline - now
                if self.spec.bookmarks and self.progress_round == 0 and not closing:
                    wait = min(wait, max(0.0, next_bookmark - now))
                try:
                    reply = await asyncio.wait_for(self.replies.get(), wait)
                except TimeoutError:
                    if self.spec.bookmarks and self.progress_round == 0 and loop.time() >= next_bookmark:
                        self._ask_progress()
                    continue
                if isinstance(reply, _End):
                    if reply.error:
                        log.info("etcd watch on %s ended: %s", self.spec.prefix, reply.error)
                    return
                if reply.compact_revision:
                    yield error_line(gone(f"too old resource version: {self.spec.start_revision - 1} "
                                          f"({reply.compact_revision})"))
                    return
                if reply.canceled:
                    yield error_line(internal(f"etcd cancelled the watch: {reply.cancel_reason}"))
                    return
                if reply.created:
                    continue
                if not reply.events:
                    bookmark = self._progress(reply.header.revision)
                    if bookmark is not None:
                        yield bookmark
                        if closing:
                            return
                        next_bookmark = loop.time() + self.spec.bookmark_interval
                    continue
                for event in reply.events:
                    for line in self._convert(event):
                        yield line
                    self.sent_revision = max(self.sent_revision, event.kv.mod_revision)
        finally:
            reader.cancel()
            self.requests.put_nowait(None)
            call.cancel()

    def _ask_progress(self) -> None:
        self.progress_round = 1
        self.requests.put_nowait(rpc.WatchRequest(progress_request=rpc.WatchProgressRequest()))

    def _progress(self, revision: int) -> bytes | None:
        """A progress answer. etcd may answer a progress request before it has
        sent events it already committed (it sends its control replies and
        its events from separate queues), so a revision is only trusted once
        a second request, sent after the first answer arrived, is answered:
        by then every event up to the first revision has been delivered."""
        if self.progress_round == 1:
            self.progress_round = 2
            self.progress_revision = revision
            self.requests.put_nowait(rpc.WatchRequest(progress_request=rpc.WatchProgressRequest()))
            return None
        if self.progress_round == 2:
            self.progress_round = 0
            self.sent_revision = max(self.sent_revision, self.progress_revision)
            return self._bookmark(self.sent_revision)
        return None

    def _bookmark(self, revision: int) -> bytes:
        resource = self.spec.resource
        return event_line("BOOKMARK", {"kind": resource.kind, "apiVersion": resource.api_version,
                                       "metadata": {"resourceVersion": str(revision)}})

    def _convert(self, event: rpc.Event) -> list[bytes]:
        kv, prev = event.kv, event.prev_kv
        match = self.spec.match
        old = decode(prev.value, prev.mod_revision) if prev.key and prev.value else None
        resource = self.spec.resource
        if event.type == rpc.Event.DELETE:
            if old is None:
                old = _stub_from_key(kv.key.decode(), resource)
            # A deleted object is reported at the revision of its deletion.
            old["metadata"]["resourceVersion"] = str(kv.mod_revision)
            return [event_line("DELETED", self.spec.render(present(resource, old)))] if match(old) else []
        new = decode(kv.value, kv.mod_revision)
        was, now = old is not None and match(old), match(new)
        if now:
            return [event_line("MODIFIED" if was else "ADDED", self.spec.render(present(resource, new)))]
        if was:
            return [event_line("DELETED", self.spec.render(present(resource, new)))]
        return []

    async def _read(self, call: Any) -> None:
        try:
            async for reply in call:
                self.replies.put_nowait(reply)
            self.replies.put_nowait(_End("etcd closed the watch stream"))
        except grpc.aio.AioRpcError as exc:
            self.replies.put_nowait(_End(f"{exc.code().name}: {exc.details()}"))
        except asyncio.CancelledError:
            raise

    async def _drain(self) -> AsyncIterator[rpc.WatchRequest]:
        while (request := await self.requests.get()) is not None:
            yield request


def _stub_from_key(key: str, resource: ResourceType) -> Obj:
    """The identity of a deleted object whose last value etcd no longer has."""
    parts = key.rsplit("/", 2)
    meta: Obj = {"name": parts[-1]}
    if resource.namespaced:
        meta["namespace"] = parts[-2]
    return {"metadata": meta}
