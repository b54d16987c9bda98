"""Events the agent's loop processes, one transaction each."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from kvstore import WatchEvent
from cni.api import cni_pb2
from stn.models import StolenInterface


@dataclass
class Resync:
    reason: str


@dataclass
class KVChanges:
    events: list[WatchEvent]


@dataclass
class Healing:
    pass


@dataclass
class CniRequest:
    """ADD, DEL or CHECK from the CNI server; the loop answers through `reply`."""

    command: str
    request: cni_pb2.CNIRequest
    reply: asyncio.Future[cni_pb2.CNIReply] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class CniGc:
    valid: set[str]
    reply: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class UplinkHandover:
    """The stolen NIC goes to the dataplane (`stolen`, what STN saved of it)
    or back to Linux (None). `apply` False only records it, for when the
    dataplane cannot be programmed now (VPP is starting: the resync after
    it connects applies everything)."""

    stolen: StolenInterface | None
    apply: bool = True
    reply: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


Event = Resync | KVChanges | Healing | CniRequest | CniGc | UplinkHandover
