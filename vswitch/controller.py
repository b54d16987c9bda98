"""The agent's event loop: one queue, one owner of all state.

Every event updates the view, renders the desired items and runs one engine
transaction. CNI requests are answered from here, after their transaction,
so a reply always describes what the dataplane really has.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from cni.api import cni_pb2
from kvstore import KVStore, ResyncRequired, WatchEvent
from model import NODE_RECORD, KeySpace, NodeRecord
from vswitch.dataplane.linux.netns import netns_exists
from vswitch.engine import Engine, Transaction
from vswitch.events import CniGc, CniRequest, Event, Healing, KVChanges, Resync, UplinkHandover
from vswitch.ipam import Ipam, IpamFull
from vswitch.podstore import PodRecord, PodStore, attachment_id
from vswitch.dataplane.profile import DataplaneProfile
from vswitch.view import AgentView

log = logging.getLogger(__name__)

# CNI error codes (the spec's, and ours from 100 on).
CNI_UNKNOWN_CONTAINER = 3
CNI_INVALID_ENV = 4
CNI_TRY_AGAIN = 11
CNI_IPAM_FULL = 100
CNI_WIRING_FAILED = 101


class Controller:
    def __init__(self, view: AgentView, engine: Engine, ipam: Ipam, pods: PodStore, store: KVStore,
                 keys: KeySpace, profile: DataplaneProfile,
                 on_cni: Callable[[str, str, float], None] | None = None) -> None:
        self.view = view
        self.profile = profile
        self.engine = engine
        self.ipam = ipam
        self.pod_store = pods
        self.store = store
        self.keys = keys
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.synced = asyncio.Event()
        self.on_cni = on_cni
        self.watch_revision = 0
        # The etcd changes queued and not yet taken: later changes join it, so
        # a burst (200 nodes appearing) costs one transaction, not 200.
        self._open_batch: KVChanges | None = None

    def submit(self, event: Event) -> None:
        if isinstance(event, KVChanges):
            if self._open_batch is not None:
                self._open_batch.events.extend(event.events)
                return
            self._open_batch = event
        self.queue.put_nowait(event)

    async def run(self) -> None:
        while True:
            event = await self.queue.get()
            if event is self._open_batch:
                self._open_batch = None
            try:
                await self.handle(event)
            except Exception:  # noqa: BLE001 - one bad event must not stop the node
                log.exception("event %s failed", type(event).__name__)
                if isinstance(event, Resync):
                    # Without a resync nothing else can be trusted: try again soon.
                    asyncio.get_running_loop().call_later(1.0, self.submit, Resync(f"retry: {event.reason}"))
                if isinstance(event, (CniRequest, CniGc, UplinkHandover)) and not event.reply.done():
                    event.reply.set_exception(RuntimeError("the agent failed to process the request"))

    async def handle(self, event: Event) -> None:
        match event:
            case Resync(reason=reason):
                await self.resync(reason)
            case KVChanges(events=changes):
                self.apply_changes(changes)
                await self.engine.apply(self.profile.render(self.view), cause=f"etcd: {len(changes)} change(s)")
            case Healing():
                await self.engine.apply(self.profile.render(self.view), cause="healing")
            case CniRequest():
                await self.cni(event)
            case CniGc():
                event.reply.set_result(await self.gc(event.valid))
            case UplinkHandover(stolen=stolen, apply=apply):
                self.view.stolen = stolen
                if apply:
                    where = f"{stolen.interface_name} to the dataplane" if stolen else "the NIC back to Linux"
                    await self.engine.apply(self.profile.render(self.view), cause=f"handing {where}")
                event.reply.set_result(None)

    # --- resync -------------------------------------------------------------------------

    async def resync(self, reason: str) -> Transaction:
        """Rebuild the view from etcd and the pod record, reconcile IPAM, then
        dump the dataplane and apply only the difference."""
        records = self.pod_store.load()
        alive = {k: r for k, r in records.items() if netns_exists(r.netns)}
        for gone in records.keys() - alive.keys():
            log.info("resync: pod %s lost its network namespace; forgetting it", gone)
        if alive != records:
            self.pod_store.save(alive)
        self.view.pods = alive
        await self.ipam.reconcile({r.ip: (r.container_id, r.ifname) for r in alive.values()})
        listed = await self.store.range(NodeRecord, self.keys.kind_prefix(NODE_RECORD))
        self.view.nodes = {v.value.id: v.value for v in listed.items.values()}
        self.watch_revision = listed.revision
        txn = await self.engine.resync(self.profile.render(self.view), cause=f"resync: {reason}")
        self.synced.set()
        return txn

    def apply_changes(self, changes: list[WatchEvent]) -> None:
        for change in changes:
            parsed = self.keys.parse(change.key)
            if parsed is None or parsed.kind is not NODE_RECORD:
                continue
            node_id = int(parsed.parts[0])
            if change.deleted:
                self.view.nodes.pop(node_id, None)
                continue
            decoded = change.decode(NodeRecord)
            if decoded is not None:
                self.view.nodes[node_id] = decoded.value

    # --- CNI ----------------------------------------------------------------------------

    async def cni(self, event: CniRequest) -> None:
        started = time.perf_counter()
        handler = {"ADD": self.cni_add, "DEL": self.cni_del, "CHECK": self.cni_check}[event.command]
        try:
            reply = await handler(event.request)
        except Exception as exc:  # noqa: BLE001
            log.exception("CNI %s %s failed", event.command, event.request.container_id)
            reply = cni_pb2.CNIReply(error_code=CNI_TRY_AGAIN, error_msg=f"agent error: {exc}")
        reply.agent_micros = int((time.perf_counter() - started) * 1e6)
        if self.on_cni is not None:
            self.on_cni(event.command, "ok" if reply.error_code == 0 else "error", time.perf_counter() - started)
        if not event.reply.done():
            event.reply.set_result(reply)

    def result_for(self, pod: PodRecord) -> cni_pb2.CNIReply:
        gateway = str(self.view.node.pod_gateway)
        mtu = self.view.config.pod_mtu
        interfaces = self.profile.pod_interfaces(self.view, pod)
        in_pod = next(i for i, reported in enumerate(interfaces) if reported.sandbox)
        return cni_pb2.CNIReply(
            interfaces=[cni_pb2.Interface(name=i.name, mac=i.mac, sandbox=i.sandbox, mtu=mtu) for i in interfaces],
            ips=[cni_pb2.IPConfig(address=f"{pod.ip}/32", gateway=gateway, interface=in_pod)],
            routes=[cni_pb2.Route(dst="0.0.0.0/0", gw=gateway)],
        )

    async def cni_add(self, request: cni_pb2.CNIRequest) -> cni_pb2.CNIReply:
        key = attachment_id(request.container_id, request.ifname)
        existing = self.view.pods.get(key)
        if existing is not None and existing.netns == request.netns:
            # A repeated ADD: the same answer, after making sure it is still true.
            await self.engine.apply(self.profile.render(self.view), cause=f"cni add (repeat) {key}")
            if self._wired(existing):
                return self.result_for(existing)
        elif existing is not None:
            await self._remove_pod(existing, cause=f"cni add: {key} moved to a new netns")
        try:
            allocation = await self.ipam.allocate(request.container_id, request.ifname, request.pod_namespace,
                                                  request.pod_name)
        except IpamFull as exc:
            return cni_pb2.CNIReply(error_code=CNI_IPAM_FULL, error_msg=str(exc))
        pod = PodRecord(container_id=request.container_id, ifname=request.ifname, netns=request.netns,
                        pod_namespace=request.pod_namespace, pod_name=request.pod_name, pod_uid=request.pod_uid,
                        ip=allocation.pod_ip)
        self.view.pods[key] = pod
        self.pod_store.save(self.view.pods)
        txn = await self.engine.apply(self.profile.render(self.view), cause=f"cni add {key}")
        if self._wired(pod):
            return self.result_for(pod)
        # Half-wired is worse than not wired: take it all back.
        errors = "; ".join(f"{op.key}: {op.error}" for op in txn.failed) or "dependencies not applied"
        await self._remove_pod(pod, cause=f"cni add {key} reverted")
        return cni_pb2.CNIReply(error_code=CNI_WIRING_FAILED, error_msg=f"failed to wire the pod: {errors}")

    def _wired(self, pod: PodRecord) -> bool:
        items = self.profile.pod_items(self.view, pod)
        return self.engine.is_applied(item.key() for item in items)

    async def _remove_pod(self, pod: PodRecord, cause: str) -> None:
        self.view.pods.pop(pod.id, None)
        await self.engine.apply(self.profile.render(self.view), cause=cause)
        await self.ipam.release(pod.container_id, pod.ifname)
        self.pod_store.save(self.view.pods)

    async def cni_del(self, request: cni_pb2.CNIRequest) -> cni_pb2.CNIReply:
        pod = self.view.pods.get(attachment_id(request.container_id, request.ifname))
        if pod is None:
            # Already gone, or never ours: DEL still succeeds, and an address
            # left by an interrupted ADD is freed.
            await self.ipam.release(request.container_id, request.ifname)
            return cni_pb2.CNIReply()
        await self._remove_pod(pod, cause=f"cni del {pod.id}")
        return cni_pb2.CNIReply()

    async def cni_check(self, request: cni_pb2.CNIRequest) -> cni_pb2.CNIReply:
        pod = self.view.pods.get(attachment_id(request.container_id, request.ifname))
        if pod is None:
            return cni_pb2.CNIReply(error_code=CNI_UNKNOWN_CONTAINER,
                                    error_msg=f"container {request.container_id} ({request.ifname}) is unknown")
        if pod.netns != request.netns:
            return cni_pb2.CNIReply(error_code=CNI_INVALID_ENV,
                                    error_msg=f"container {request.container_id} is in {pod.netns}, not {request.netns}")
        # Compare with what the dataplane really has, not with our belief.
        missing = await self.engine.verify(self.profile.pod_items(self.view, pod))
        if missing:
            return cni_pb2.CNIReply(error_code=CNI_WIRING_FAILED,
                                    error_msg=f"pod {pod.id} is not fully wired: {', '.join(missing)}")
        return self.result_for(pod)

    async def gc(self, valid: set[str]) -> int:
        stale = [pod for key, pod in self.view.pods.items() if key not in valid]
        for pod in stale:
            await self._remove_pod(pod, cause=f"cni gc {pod.id}")
        return len(stale)


async def watch_etcd(controller: Controller) -> None:
    """Feed etcd changes to the loop; ask for a resync when history is gone."""
    await controller.synced.wait()
    prefix = controller.keys.kind_prefix(NODE_RECORD)
    while True:
        try:
            async for change in controller.store.watch_prefix(prefix, controller.watch_revision + 1):
                controller.watch_revision = change.mod_revision
                controller.submit(KVChanges([change]))
        except ResyncRequired as exc:
            log.warning("etcd watch: %s", exc)
            controller.synced.clear()
            controller.submit(Resync(str(exc)))
            await controller.synced.wait()


async def heal_periodically(controller: Controller, interval: float) -> None:
    while True:
        retry_in = controller.engine.next_retry_in()
        await asyncio.sleep(interval if retry_in is None else min(interval, max(retry_in, 0.05)))
        controller.submit(Healing())
