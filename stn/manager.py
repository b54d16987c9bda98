"""The steal/restore state machine over the on-disk records.

Every change to Linux is preceded by a durable record saying what is about to
happen, so each crash point has a safe continuation on restart:

    steal:   save(STEALING) -> strip Linux -> save(STOLEN)
    restore: save(RESTORING) -> link, addresses, routes -> delete record

    on restart  STEALING  -> roll back (restore, forget): the caller never
                             got a reply, so nobody relies on the steal
                STOLEN    -> keep, the watchdog guards it
                RESTORING -> finish the restore, forget

A restore only adds what is missing, so running it again after a crash in
the middle of one is harmless. A record is deleted only after Linux is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pyroute2.netlink.exceptions import NetlinkError

from stn.crashpoints import CrashPoint, reached
from stn.errors import (
    AlreadyStolen,
    InterfaceNotFound,
    InvalidRequest,
    NotRestorable,
    NotStolen,
    OperationFailed,
)
from stn.models import Phase, StolenInterface, validate_interface_name
from stn.netlink import LinkNotFound, NetlinkHost, RestoreIncomplete, describe
from stn.store import StateStore

log = logging.getLogger(__name__)

T = TypeVar("T")

# A steal strips again if something (a DHCP client, a routing daemon) re-adds
# configuration while it works; it gives up and rolls back after this many.
_STRIP_ROUNDS = 3
_KERNEL_PROTOCOL = 2


class ForeignRecords(RuntimeError):
    """The state directory holds records of another network namespace."""


class Manager:
    def __init__(self, host: NetlinkHost, store: StateStore) -> None:
        self._host = host
        self._store = store
        self._records: dict[str, StolenInterface] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # Monotonic time of the last successful steal; re-arms the watchdog's grace period.
        self.last_steal: float | None = None

    # ---- queries -------------------------------------------------------

    def info(self, name: str) -> StolenInterface:
        record = self._records.get(_valid(name))
        if record is None:
            raise NotStolen(f"interface {name} is not stolen")
        return record

    def list(self) -> list[StolenInterface]:
        return [self._records[name] for name in sorted(self._records)]

    def has_records(self) -> bool:
        return bool(self._records)

    # ---- steal ---------------------------------------------------------

    async def steal(self, name: str, dhcp_enabled: bool) -> StolenInterface:
        name = _valid(name)
        async with self._lock(name):
            existing = self._records.get(name)
            if existing is not None:
                raise AlreadyStolen(f"interface {name} is already stolen (phase {existing.phase.value})")
            record = await self._capture(name, dhcp_enabled)
            await self._save(record, f"nothing was changed on {name}")
            self._records[name] = record
            log.info("saved %s, stripping it from Linux", describe(record))
            reached(CrashPoint.STEAL_SAVED)
            try:
                await self._strip(record)
            except (NetlinkError, OSError, OperationFailed) as exc:
                log.error("stripping %s failed (%s), rolling back", name, exc)
                try:
                    await self._restore(record)
                except (NotRestorable, OperationFailed) as rollback:
                    raise OperationFailed(f"could not strip {name}: {exc}; rolling back failed too: {rollback}") from exc
                raise OperationFailed(f"could not strip {name}: {exc}; its configuration was restored") from exc
            reached(CrashPoint.STEAL_STRIPPED)
            stolen = record.in_phase(Phase.STOLEN)
            await self._save(stolen, f"{name} is stripped and recorded as still stealing")
            self._records[name] = stolen
            self.last_steal = time.monotonic()
            log.info("stole %s", describe(stolen))
            return stolen

    async def _capture(self, name: str, dhcp_enabled: bool) -> StolenInterface:
        try:
            link, loopback = await self._host.capture_link(name)
        except LinkNotFound:
            raise InterfaceNotFound(f"no interface named {name}{self._where()}") from None
        if loopback:
            raise InvalidRequest(f"{name} is a loopback interface, it cannot be given to the dataplane")
        return StolenInterface(
            interface_name=name,
            dhcp_enabled=dhcp_enabled,
            phase=Phase.STEALING,
            link=link,
            addresses=tuple(await self._host.capture_addresses(link.index)),
            routes=tuple(await self._host.capture_routes(link.index)),
            netns=self._host.netns,
        )

    async def _strip(self, record: StolenInterface) -> None:
        index = record.link.index
        # Routes through a gateway go first, while the addresses that make
        # the gateway reachable are still there; the kernel's own routes go
        # with the addresses they belong to.
        await self._host.remove_routes(index, [r for r in record.routes if r.protocol != _KERNEL_PROTOCOL])
        reached(CrashPoint.STEAL_ROUTES_REMOVED)
        await self._host.remove_addresses(index, record.addresses)
        for _ in range(_STRIP_ROUNDS):
            addresses, routes = await self._host.remaining(index)
            if not addresses and not routes:
                return
            await self._host.remove_routes(index, routes)
            await self._host.remove_addresses(index, addresses)
        addresses, routes = await self._host.remaining(index)
        if addresses or routes:
            raise OperationFailed(
                f"{len(addresses)} addresses and {len(routes)} routes keep coming back on {record.interface_name}"
            )

    # ---- release / restore ---------------------------------------------

    async def release(self, name: str) -> StolenInterface:
        name = _valid(name)
        async with self._lock(name):
            record = self._records.get(name)
            if record is None:
                raise NotStolen(f"interface {name} is not stolen")
            try:
                await self._host.link_index(name)
            except LinkNotFound:
                raise NotRestorable(
                    f"interface {name} is not present in Linux{self._where()} (still held by the dataplane?); "
                    "its saved state is kept"
                ) from None
            await self._restore(record)
            return record

    async def restore_all(self, reason: str) -> int:
        """Restores every recorded interface; returns how many came back."""
        restored = 0
        for name in sorted(self._records):
            async with self._lock(name):
                record = self._records.get(name)
                if record is None:
                    continue  # released meanwhile
                try:
                    await self._restore(record)
                except (NotRestorable, OperationFailed) as exc:
                    log.error("restoring %s (%s) failed, will retry: %s", name, reason, exc)
                    continue
                restored += 1
        return restored

    async def recover(self) -> None:
        """Loads the records a previous run left and finishes what it was doing."""
        records = await asyncio.to_thread(self._store.load_all)
        foreign = sorted({r.netns or "(the host)" for r in records if r.netns != self._host.netns})
        if foreign:
            # Restoring them here would configure same-named links of the wrong node.
            raise ForeignRecords(
                f"{self._store.directory} holds interfaces stolen in network namespace {', '.join(foreign)}, "
                f"this daemon runs in {self._host.netns or 'the host namespace'}"
            )
        for record in records:
            self._records[record.interface_name] = record
            if record.phase is Phase.STOLEN:
                log.info("recovered stolen %s", describe(record))
                continue
            action = "rolling back an unfinished steal of" if record.phase is Phase.STEALING else "finishing the restore of"
            log.warning("%s %s", action, record.interface_name)
            async with self._lock(record.interface_name):
                try:
                    await self._restore(record)
                except (NotRestorable, OperationFailed) as exc:
                    log.error("could not restore %s yet, keeping its record: %s", record.interface_name, exc)

    async def _restore(self, record: StolenInterface) -> None:
        name = record.interface_name
        marked = record.in_phase(Phase.RESTORING)
        if record.phase is not Phase.RESTORING:
            await self._save(marked, f"nothing was changed on {name}")
        self._records[name] = marked
        reached(CrashPoint.RESTORE_MARKED)
        try:
            index = await self._host.restore_link(record.link)
            await self._host.restore_addresses(index, record.addresses, keep_forever=record.dhcp_enabled)
            reached(CrashPoint.RESTORE_ADDRESSES)
            await self._host.restore_routes(index, record.routes)
        except LinkNotFound:
            raise NotRestorable(f"interface {name} is not present in Linux{self._where()}; its record is kept") from None
        except (NetlinkError, OSError, RestoreIncomplete) as exc:
            raise OperationFailed(f"restoring {name} is incomplete: {exc}; its record is kept") from exc
        reached(CrashPoint.RESTORE_DONE)
        await _disk(self._store.delete, name)
        del self._records[name]
        log.info("restored %s", describe(record))

    # ---- helpers -------------------------------------------------------

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    async def _save(self, record: StolenInterface, state_if_failed: str) -> None:
        try:
            await _disk(self._store.save, record)
        except OSError as exc:
            raise OperationFailed(f"cannot write saved state to {self._store.directory}: {exc}; {state_if_failed}") from exc

    def _where(self) -> str:
        return f" in network namespace {self._host.netns}" if self._host.netns else ""


def _valid(name: str) -> str:
    try:
        return validate_interface_name(name)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None


async def _disk(func: Callable[..., T], *args: object) -> T:
    # fsync can block for long on a busy disk; keep the event loop serving.
    return await asyncio.to_thread(func, *args)

