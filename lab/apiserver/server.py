"""The server: etcd connection, bootstrap (the namespaces every cluster has),
CRDs kept in step with etcd, and uvicorn serving the routes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import uvicorn

from kvstore import EtcdConfig, KVStore, ResyncRequired, retry_unavailable
from lab.apiserver.allocator import SERVICE_CIDR, ServiceAllocator
from lab.apiserver.errors import ApiError
from lab.apiserver.operations import NAMESPACES, Operations
from lab.apiserver.resources import BUILTIN, CRD_GROUP, Registry
from lab.apiserver.routes import build_app
from lab.apiserver.storage import Storage

log = logging.getLogger(__name__)

BOOTSTRAP_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_CRDS = next(r for r in BUILTIN if r.group == CRD_GROUP)


class ApiServer:
    """A Kubernetes API stand-in over etcd. `await server.serve()` runs it
    until cancelled (or until uvicorn is told to exit by a signal)."""

    def __init__(self, etcd: EtcdConfig, host: str = "127.0.0.1", port: int = 6443, prefix: str = "/registry",
                 bookmark_interval: float = 1.0, min_request_timeout: float = 1800.0,
                 service_cidr: str = SERVICE_CIDR) -> None:
        self.etcd = etcd
        self.host = host
        self.port = port
        self.bookmark_interval = bookmark_interval
        self.min_request_timeout = min_request_timeout
        self.kv = KVStore(etcd)
        self.registry = Registry()
        self.storage = Storage(self.kv, prefix)
        self.allocator = ServiceAllocator(self.storage, service_cidr)
        self.operations = Operations(self.storage, self.registry, self.allocator)
        self.app = build_app(self)
        self._crd_sync: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        await retry_unavailable(self.kv.connect, 30.0, "connecting to etcd")
        for name in BOOTSTRAP_NAMESPACES:
            try:
                await self.operations.create(NAMESPACES, None, {"metadata": {"name": name}})
            except ApiError as exc:
                if exc.code != 409:
                    raise
        revision = await self._load_crds()
        self._crd_sync = asyncio.create_task(self._follow_crds(revision))

    async def stop(self) -> None:
        if self._crd_sync is not None:
            self._crd_sync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._crd_sync
            self._crd_sync = None
        await self.kv.close()

    async def serve(self) -> None:
        await self.start()
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning", lifespan="off",
                                # Open watches must not hold a shutdown up.
                                timeout_graceful_shutdown=1)
        try:
            await uvicorn.Server(config).serve()
        finally:
            await self.stop()

    async def _load_crds(self) -> int:
        revision, items = await self.storage.list(self.storage.collection(_CRDS))
        self.registry.replace_crds(item.obj for item in items)
        return revision

    async def _follow_crds(self, revision: int) -> None:
        """Serve CRDs written by another server on the same etcd, or restored
        into it, as this server's own writes are (those update the registry
        at once, so a custom resource can be created right after its CRD)."""
        prefix = self.storage.collection(_CRDS)
        while True:
            try:
                async for event in self.kv.watch_prefix(prefix, revision + 1):
                    name = event.key.rpartition("/")[2]
                    if event.deleted:
                        self.registry.remove_crd(name)
                    else:
                        self.registry.set_crd(json.loads(event.value))
                    revision = event.mod_revision
            except ResyncRequired:
                revision = await retry_unavailable(self._load_crds, 60.0, "reloading CRDs")
            except Exception:
                log.exception("following CRDs failed; reloading")
                await asyncio.sleep(1.0)
                with contextlib.suppress(Exception):
                    revision = await self._load_crds()
