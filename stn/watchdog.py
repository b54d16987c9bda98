"""Gives the NICs back when the node agent stops answering its liveness probe.

Probing starts only while something is stolen and only after a grace period,
counted from the daemon's start and again from each steal, because the agent
steals the NIC before its dataplane boots and cannot answer during that time.
The agent counts as dead from its last good answer (or the end of the grace
period if it never answered); after `dead_after` seconds of that, every stolen
interface is restored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from stn.manager import Manager

log = logging.getLogger(__name__)

_MAX_PROBE_TIMEOUT = 5.0


class Watchdog:
    def __init__(
        self,
        manager: Manager,
        liveness_url: str,
        grace_period: float,
        dead_after: float,
        probe_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._manager = manager
        self._url = liveness_url
        self._grace = grace_period
        self._dead_after = dead_after
        self._interval = probe_interval
        self._clock = clock
        self._started = clock()
        self._last_alive: float | None = None
        self._reported_dead = False

    async def run(self) -> None:
        timeout = httpx.Timeout(min(self._interval, _MAX_PROBE_TIMEOUT))
        log.info("watchdog: probing %s every %ss after a %ss grace period, restoring after %ss of silence",
                 self._url, self._interval, self._grace, self._dead_after)
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
            while True:
                await asyncio.sleep(self._interval)
                await self.check(http)

    async def check(self, http: httpx.AsyncClient) -> None:
        if not self._manager.has_records():
            return
        now = self._clock()
        grace_end = max(self._started, self._manager.last_steal or self._started) + self._grace
        if now < grace_end:
            return
        if await self._probe(http):
            if self._reported_dead:
                log.info("watchdog: agent at %s answers again", self._url)
            self._last_alive = now
            self._reported_dead = False
            return
        dead_since = max(self._last_alive or grace_end, grace_end)
        silent = now - dead_since
        if not self._reported_dead:
            log.warning("watchdog: agent at %s does not answer", self._url)
            self._reported_dead = True
        if silent >= self._dead_after:
            log.error("watchdog: agent dead for %.1fs, restoring every stolen interface", silent)
            restored = await self._manager.restore_all("agent is dead")
            log.info("watchdog: restored %d interfaces", restored)

    async def _probe(self, http: httpx.AsyncClient) -> bool:
        try:
            response = await http.get(self._url)
        except httpx.HTTPError as exc:
            log.debug("watchdog: probe of %s failed: %s", self._url, exc)
            return False
        return response.is_success
