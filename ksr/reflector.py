"""One kind's API side: list, then watch from the list's resourceVersion.

A watch that ends is reopened from the last resourceVersion seen (bookmarks
move it forward without events); 410 Gone means that version is gone from the
server's history, so the kind is listed again and resynced. An unreachable
or failing API server is retried with backoff, and the writer keeps what etcd
already has meanwhile.
"""

from __future__ import annotations

import asyncio
import logging

from ksr.apiclient import ApiClient, ApiError, Gone
from ksr.backoff import Backoff
from ksr.kinds import KindSpec, Reflection
from ksr.metrics import Metrics
from ksr.writer import KindWriter

log = logging.getLogger(__name__)


class KindReflector:
    def __init__(self, spec: KindSpec, reflection: Reflection, writer: KindWriter, api: ApiClient,
                 metrics: Metrics) -> None:
        self.spec = spec
        self.reflection = reflection
        self.writer = writer
        self.api = api
        self.metrics = metrics
        self.resource_version: str | None = None

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                await self._watch()
                self.metrics.watch_restarts.labels(self.spec.name, "closed").inc()
                backoff.reset()
            except Gone as exc:
                log.info("%s: %s; listing again", self.spec.name, exc)
                self.metrics.watch_restarts.labels(self.spec.name, "expired").inc()
                self.resource_version = None
            except ApiError as exc:
                delay = backoff.next()
                self.metrics.api_errors.labels(self.spec.name).inc()
                if self.resource_version is not None:
                    self.metrics.watch_restarts.labels(self.spec.name, "error").inc()
                log.warning("%s: Kubernetes API at %s failed: %s; retrying in %.1fs",
                            self.spec.name, self.api.connection.host, exc, delay)
                await asyncio.sleep(delay)

    async def _list(self) -> None:
        result = await self.api.list(self.spec.api_path)
        self.reflection.reset(result.items)
        self.resource_version = result.resource_version
        self.metrics.objects.labels(self.spec.name).set(len(self.reflection.desired))
        log.info("%s: listed %d objects at resourceVersion %s", self.spec.name, len(result.items),
                 result.resource_version)
        self.writer.after_list()

    async def _watch(self) -> None:
        assert self.resource_version is not None
        async for event in self.api.watch(self.spec.api_path, self.resource_version):
            if event.type == "DELETED":
                self.writer.changed(self.reflection.remove(event.object))
            elif event.type in ("ADDED", "MODIFIED"):
                self.writer.changed(self.reflection.upsert(event.object))
            elif event.type != "BOOKMARK":
                log.warning("%s: ignoring a watch event of unknown type %r", self.spec.name, event.type)
            self.resource_version = event.resource_version or self.resource_version
            self.metrics.objects.labels(self.spec.name).set(len(self.reflection.desired))
