"""The kubelet stand-in of one node: watches the pods bound to the node and
gives each a network sandbox through the runtime, then reports the pod's
addresses and phase through the status subresource.

One process per node (`contiv-lab kubelet --node NAME`), as on a real
cluster: a node's kubelet failing or being killed leaves the other nodes
alone, `status` shows each one's pid, and the tests can kill one.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timezone
from typing import Any

from lab.kubeapi import ApiError, KubeApi, Obj, WatchExpired, pod_path, pods_path
from lab.runtime import CniError, Runtime, Sandbox, echo_port
from lab.state import LabState, NodeState

log = logging.getLogger("lab.kubelet")

RETRY_DELAYS = (0.5, 1, 2, 4, 8)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Kubelet:
    def __init__(self, state: LabState, node: NodeState, api: KubeApi) -> None:
        self.node = node
        self.api = api
        self.runtime = Runtime(state.prefix, node)
        self.sandboxes: dict[str, Sandbox] = self.runtime.saved()
        # One task per pod, so a slow or failing pod never holds up the others;
        # a pod's own start and stop are ordered through its lock.
        self.starting: dict[str, asyncio.Task[None]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.deleted: set[str] = set()

    def _lock(self, uid: str) -> asyncio.Lock:
        return self.locks.setdefault(uid, asyncio.Lock())

    async def run(self, stop: asyncio.Event) -> None:
        watcher = asyncio.create_task(self._list_and_watch())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({watcher, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (watcher, stopper):
            task.cancel()
        # Pods keep running when the kubelet stops, like containers do; only
        # in-flight starts are waited for, so no sandbox is left half-made.
        if self.starting:
            await asyncio.gather(*self.starting.values(), return_exceptions=True)

    async def _list_and_watch(self) -> None:
        selector = f"spec.nodeName={self.node.name}"
        while True:
            try:
                listed = await self.api.list(pods_path(), fieldSelector=selector)
                await self._resync(listed["items"])
                version = listed["metadata"]["resourceVersion"]
                while True:
                    async for event in self.api.watch(pods_path(), version, fieldSelector=selector):
                        obj = event["object"]
                        version = obj["metadata"].get("resourceVersion", version)
                        if event["type"] == "BOOKMARK":
                            continue
                        if event["type"] == "DELETED":
                            self._on_deleted(obj)
                        else:
                            self._on_pod(obj)
            except WatchExpired:
                log.info("watch expired; listing again")
            except (ApiError, OSError, ValueError, KeyError) as exc:
                log.warning("API: %s; retrying", exc)
                await asyncio.sleep(1)
            except Exception as exc:  # httpx transport errors and the like: keep the node alive
                log.warning("API connection: %s: %s; retrying", type(exc).__name__, exc)
                await asyncio.sleep(1)

    async def _resync(self, pods: list[Obj]) -> None:
        present = {pod["metadata"]["uid"] for pod in pods}
        for uid, sandbox in list(self.sandboxes.items()):
            if uid not in present:
                self._stop_later(sandbox)
        for pod in pods:
            self._on_pod(pod)

    def _on_pod(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        if pod["metadata"].get("deletionTimestamp"):
            self._on_deleted(pod, finalize=True)
            return
        if uid in self.starting or uid in self.deleted:
            return
        status = pod.get("status") or {}
        sandbox = self.sandboxes.get(uid)
        if sandbox is not None and sandbox.ip and status.get("podIP") == sandbox.ip:
            return
        self.starting[uid] = asyncio.create_task(self._start(pod), name=f"start {uid}")

    def _on_deleted(self, pod: Obj, finalize: bool = False) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self.deleted:
            return
        self.deleted.add(uid)
        sandbox = self.sandboxes.get(uid)
        if sandbox is None and uid not in self.starting:
            if finalize:
                asyncio.create_task(self._finalize(pod))
            return
        asyncio.create_task(self._stop(uid, pod if finalize else None))

    def _stop_later(self, sandbox: Sandbox) -> None:
        self.deleted.add(sandbox.uid)
        asyncio.create_task(self._stop(sandbox.uid, None))

    async def _start(self, pod: Obj) -> None:
        meta = pod["metadata"]
        uid, where = meta["uid"], f"{meta['namespace']}/{meta['name']}"
        try:
            for attempt, delay in enumerate((*RETRY_DELAYS, None)):
                async with self._lock(uid):
                    if uid in self.deleted:
                        return
                    sandbox = self.sandboxes.get(uid) or self.runtime.new_sandbox(pod)
                    self.sandboxes[uid] = sandbox
                    try:
                        ip = await self.runtime.start(sandbox, echo_port(pod))
                        await self._report_running(pod, ip)
                        log.info("pod %s: %s in %s", where, ip, sandbox.netns)
                        return
                    except (CniError, ApiError, OSError) as exc:
                        log.warning("pod %s: start attempt %d failed: %s", where, attempt + 1, exc)
                        await self._report_failure(pod, str(exc))
                if delay is None:
                    return
                await asyncio.sleep(delay)
        finally:
            self.starting.pop(uid, None)

    async def _report_running(self, pod: Obj, ip: str) -> None:
        meta = pod["metadata"]
        containers = pod.get("spec", {}).get("containers", [])
        now = _now()
        status: dict[str, Any] = {
            "phase": "Running",
            "hostIP": self.node.address,
            "hostIPs": [{"ip": self.node.address}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": (pod.get("status") or {}).get("startTime") or now,
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": now}
                           for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
            "containerStatuses": [{"name": c["name"], "image": c.get("image", ""), "imageID": "",
                                   "ready": True, "started": True, "restartCount": 0,
                                   "state": {"running": {"startedAt": now}}} for c in containers],
        }
        await self.api.merge_patch(pod_path(meta["namespace"], meta["name"]) + "/status", {"status": status})

    async def _report_failure(self, pod: Obj, message: str) -> None:
        meta = pod["metadata"]
        condition = {"type": "Ready", "status": "False", "reason": "SandboxCreationFailed",
                     "message": message[:1000], "lastTransitionTime": _now()}
        try:
            await self.api.merge_patch(pod_path(meta["namespace"], meta["name"]) + "/status",
                                       {"status": {"phase": "Pending", "conditions": [condition]}})
        except ApiError as exc:
            log.info("pod %s/%s: cannot report the failure: %s", meta["namespace"], meta["name"], exc)

    async def _stop(self, uid: str, finalize: Obj | None) -> None:
        starting = self.starting.get(uid)
        if starting is not None:
            await asyncio.gather(starting, return_exceptions=True)
        async with self._lock(uid):
            sandbox = self.sandboxes.get(uid)
            if sandbox is not None:
                for delay in (*RETRY_DELAYS, None):
                    try:
                        await self.runtime.stop(sandbox)
                        log.info("pod %s/%s: stopped, DEL done, %s deleted", sandbox.namespace, sandbox.name,
                                 sandbox.netns)
                        self.sandboxes.pop(uid, None)
                        break
                    except (CniError, OSError) as exc:
                        log.warning("pod %s/%s: stop failed: %s", sandbox.namespace, sandbox.name, exc)
                        if delay is None:
                            return
                        await asyncio.sleep(delay)
        if finalize is not None:
            await self._finalize(finalize)

    async def _finalize(self, pod: Obj) -> None:
        # A graceful deletion ends when the kubelet says the pod is gone.
        meta = pod["metadata"]
        try:
            await self.api.delete(pod_path(meta["namespace"], meta["name"]), gracePeriodSeconds="0")
        except ApiError as exc:
            log.warning("pod %s/%s: final delete failed: %s", meta["namespace"], meta["name"], exc)


async def run_kubelet(state: LabState, node_name: str) -> None:
    node = state.node(node_name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with KubeApi(state.api_url) as api:
        await Kubelet(state, node, api).run(stop)
