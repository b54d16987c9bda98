"""What every handler gets and returns, and the registry they join."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..apidefs import ApiDefinitions
from ..codec import Request
from ..state import DataplaneState


@dataclass
class Reply:
    name: str
    fields: dict[str, Any] = field(default_factory=dict)


class Session(Protocol):
    """One client registration (one socket connection)."""

    handle: int
    name: str
    close_after_reply: bool


class SessionDirectory(Protocol):
    def session(self, handle: int) -> Session | None: ...


@dataclass
class HandlerContext:
    state: DataplaneState
    defs: ApiDefinitions
    session: Session
    sessions: SessionDirectory
    pid: int


Handler = Callable[[HandlerContext, Request], list[Reply]]

HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = func
        return func

    return register


def reply_name(ctx: HandlerContext, request_name: str) -> str:
    return str(ctx.defs.services[request_name]["reply"])


def ok(ctx: HandlerContext, req: Request, **fields: Any) -> list[Reply]:
    """The single reply of a request/reply call, retval 0."""
    return [Reply(reply_name(ctx, req.name), {"retval": 0, **fields})]
