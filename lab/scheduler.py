"""A small scheduler: binds every pod without a node to the next lab node,
round-robin, by setting spec.nodeName (a merge patch; the stand-in allows it
where a real server would want a Binding)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal

from lab.kubeapi import ApiError, KubeApi, Obj, WatchExpired, pod_path, pods_path
from lab.state import LabState

log = logging.getLogger("lab.scheduler")


class Scheduler:
    def __init__(self, nodes: list[str], api: KubeApi) -> None:
        self.api = api
        self.nodes = nodes
        self.next_node = itertools.cycle(nodes)

    async def bind(self, pod: Obj) -> None:
        meta = pod["metadata"]
        if pod.get("spec", {}).get("nodeName") or meta.get("deletionTimestamp"):
            return
        node = next(self.next_node)
        try:
            await self.api.merge_patch(pod_path(meta["namespace"], meta["name"]), {"spec": {"nodeName": node}})
            log.info("bound %s/%s to %s", meta["namespace"], meta["name"], node)
        except ApiError as exc:
            # Deleted meanwhile, or bound by someone else: the watch brings the truth.
            log.info("binding %s/%s: %s", meta["namespace"], meta["name"], exc)

    async def run(self, stop: asyncio.Event) -> None:
        watcher = asyncio.create_task(self._list_and_watch())
        await stop.wait()
        watcher.cancel()

    async def _list_and_watch(self) -> None:
        while True:
            try:
                listed = await self.api.list(pods_path())
                for pod in listed["items"]:
                    await self.bind(pod)
                version = listed["metadata"]["resourceVersion"]
                while True:
                    async for event in self.api.watch(pods_path(), version):
                        version = event["object"]["metadata"].get("resourceVersion", version)
                        if event["type"] in ("ADDED", "MODIFIED"):
                            await self.bind(event["object"])
            except WatchExpired:
                log.info("watch expired; listing again")
            except Exception as exc:  # the API restarting must not end scheduling
                log.warning("API: %s: %s; retrying", type(exc).__name__, exc)
                await asyncio.sleep(1)


async def run_scheduler(state: LabState) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with KubeApi(state.api_url) as api:
        await Scheduler([node.name for node in state.nodes], api).run(stop)
