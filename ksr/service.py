"""The KSR process: connect, campaign, lead (or stand by), shut down cleanly.

Only the leader talks to the API server and writes etcd; a standby waits in
the election (it watches the leader key, so it takes over as soon as the
leader's lease ends: at once on a clean shutdown, within the TTL on a crash).
A leader that loses its lease stops every task of its term before anything
else happens, then campaigns again like a fresh standby.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import uvicorn

from ksr.apiclient import ApiClient
from ksr.backoff import Backoff
from ksr.config import KsrConfig
from ksr.health import make_server
from ksr.metrics import Metrics
from ksr.monitor import StoreMonitor
from ksr.term import LeaderTerm, leader_key
from ksr.writer import LeadershipLost
from kvstore import KVStore, KVStoreError, LeaderElection

log = logging.getLogger(__name__)

Role = Literal["starting", "standby", "leader", "stopping"]


class Ksr:
    def __init__(self, config: KsrConfig, metrics: Metrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or Metrics()
        self.role: Role = "starting"
        self.term: LeaderTerm | None = None
        self.store = KVStore(config.etcd)
        self.monitor = StoreMonitor(self.store, self.metrics, config.probe_interval)

    def status(self) -> dict[str, object]:
        term = self.term
        synced = {w.spec.name: w.synced for w in term.writers} if term is not None else {}
        if self.role == "leader":
            ready = term is not None and term.synced
        else:
            ready = self.role == "standby" and self.monitor.etcd_ok
        return {"ready": ready, "role": self.role, "identity": self.config.identity,
                "etcd_reachable": self.monitor.etcd_ok, "synced": synced}

    async def run(self, stop: asyncio.Event) -> None:
        server: uvicorn.Server | None = None
        server_task: asyncio.Task[None] | None = None
        if self.config.metrics_port:
            server = make_server(self.status, self.metrics, self.config.metrics_address, self.config.metrics_port)
            server_task = asyncio.create_task(server.serve(), name="http")
        api = ApiClient(self.config.api, watch_timeout=self.config.watch_timeout,
                        list_chunk_size=self.config.list_chunk_size)
        try:
            if await self._connect(stop):
                await self._campaign_and_lead(api, stop)
        finally:
            self.role = "stopping"
            await api.close()
            await self.store.close()
            if server is not None and server_task is not None:
                server.should_exit = True
                await server_task
        log.info("stopped")

    async def _until_stopped(self, work: asyncio.Future[object], stop: asyncio.Event) -> bool:
        """Wait for `work` or for `stop`; True if `work` finished first."""
        stopper = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        return work.done()

    async def _connect(self, stop: asyncio.Event) -> bool:
        backoff = Backoff(initial=0.5, maximum=10.0)
        while not stop.is_set():
            attempt = asyncio.create_task(self.store.connect())
            if not await self._until_stopped(attempt, stop):
                attempt.cancel()
                await asyncio.gather(attempt, return_exceptions=True)
                return False
            try:
                attempt.result()
                log.info("connected to etcd at %s", self.store.endpoints_text)
                return True
            except KVStoreError as exc:
                delay = backoff.next()
                self.metrics.etcd_errors.labels("connect").inc()
                log.warning("cannot reach etcd: %s; retrying in %.1fs", exc, delay)
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except TimeoutError:
                    pass
        return False

    async def _campaign_and_lead(self, api: ApiClient, stop: asyncio.Event) -> None:
        monitor_task = asyncio.create_task(self.monitor.run(), name="etcd-monitor")
        election = LeaderElection(self.store, leader_key(self.config.keys), self.config.identity,
                                  self.config.lease_ttl)
        try:
            while not stop.is_set():
                self.role = "standby"
                log.info("%s is campaigning for %s (lease TTL %ss)", self.config.identity, election.key,
                         election.ttl)
                campaign = asyncio.create_task(election.campaign(), name="campaign")
                if not await self._until_stopped(campaign, stop):
                    campaign.cancel()
                    await asyncio.gather(campaign, return_exceptions=True)
                    break
                try:
                    campaign.result()
                except KVStoreError as exc:
                    self.metrics.etcd_errors.labels("campaign").inc()
                    log.warning("campaign failed: %s; trying again", exc)
                    await asyncio.sleep(1.0)
                    continue
                await self._lead(api, election, stop)
        finally:
            # Resigning revokes the lease: a standby takes over at once
            # instead of after the TTL.
            await election.resign()
            monitor_task.cancel()
            await asyncio.gather(monitor_task, return_exceptions=True)

    async def _lead(self, api: ApiClient, election: LeaderElection, stop: asyncio.Event) -> None:
        self.role = "leader"
        self.metrics.leader.set(1)
        self.metrics.leadership_changes.inc()
        term = LeaderTerm(self.store, api, self.config.keys, election, self.monitor, self.metrics)
        self.term = term
        synced_gauge = asyncio.create_task(self._export_synced(term))
        work = asyncio.create_task(term.run(), name="term")
        try:
            if not await self._until_stopped(work, stop):
                log.info("stopping: ending the leader term")
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
                return
            try:
                work.result()
            except* LeadershipLost as group:
                log.warning("lost leadership (%s); stopped writing, campaigning again", group.exceptions[0])
            # Whatever lease is left goes, so the next campaign starts clean.
            await election.resign()
        finally:
            synced_gauge.cancel()
            self.term = None
            self.metrics.leader.set(0)
            self.metrics.synced.set(0)

    async def _export_synced(self, term: LeaderTerm) -> None:
        while True:
            self.metrics.synced.set(1 if term.synced else 0)
            await asyncio.sleep(0.5)
