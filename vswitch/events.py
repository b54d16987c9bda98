"""Events the agent's loop processes, one transaction each."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from kvstore import WatchEvent
from cni.api import cni_pb2


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


Event = Resync | KVChanges | Healing | CniRequest | CniGc
