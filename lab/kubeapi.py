"""A small asyncio client of the Kubernetes API (plain JSON over httpx),
for the lab's kubelet, scheduler, apply and status."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx

Obj = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"


class ApiError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class WatchExpired(RuntimeError):
    """410 Gone: the watch must start again from a fresh list."""


def pods_path(namespace: str | None = None) -> str:
    return f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"


def pod_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{name}"


class KubeApi:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=timeout)

    async def __aenter__(self) -> KubeApi:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Obj:
        reply = await self.http.request(method, path, **kwargs)
        if reply.status_code >= 400:
            try:
                message = reply.json().get("message", reply.text)
            except ValueError:
                message = reply.text
            raise ApiError(reply.status_code, f"{method} {path}: {message}")
        return reply.json()

    async def get(self, path: str) -> Obj | None:
        try:
            return await self._call("GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def list(self, path: str, **params: str) -> Obj:
        return await self._call("GET", path, params=params)

    async def create(self, path: str, obj: Obj) -> Obj:
        return await self._call("POST", path, json=obj)

    async def replace(self, path: str, obj: Obj) -> Obj:
        return await self._call("PUT", path, json=obj)

    async def merge_patch(self, path: str, patch: Obj) -> Obj:
        return await self._call("PATCH", path, content=json.dumps(patch),
                                headers={"Content-Type": MERGE_PATCH})

    async def delete(self, path: str, **params: str) -> Obj | None:
        try:
            return await self._call("DELETE", path, params=params)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def watch(self, path: str, resource_version: str, timeout_seconds: int = 300,
                    **params: str) -> AsyncIterator[Obj]:
        """Events after `resource_version` until the server ends the watch."""
        query = {"watch": "true", "resourceVersion": resource_version, "allowWatchBookmarks": "true",
                 "timeoutSeconds": str(timeout_seconds), **params}
        timeout = httpx.Timeout(10.0, read=timeout_seconds + 30.0)
        async with self.http.stream("GET", path, params=query, timeout=timeout) as reply:
            if reply.status_code == 410:
                raise WatchExpired(path)
            if reply.status_code >= 400:
                raise ApiError(reply.status_code, (await reply.aread()).decode(errors="replace"))
            async for line in reply.aiter_lines():
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    if event.get("object", {}).get("code") == 410:
                        raise WatchExpired(path)
                    raise ApiError(event.get("object", {}).get("code", 500), str(event.get("object")))
                yield event
