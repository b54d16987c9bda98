"""From one decoded request to the encoded replies, with faults and counters."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field

from .apidefs import ApiDefinitions
from .codec import Codec, MalformedMessage, Request
from .counters import Counters
from .faults import FaultAction, FaultInjector
from .handlers import HANDLERS, HandlerContext, Reply
from .handlers.base import Session, SessionDirectory
from .model import NO_INDEX
from .retval import ApiError, Retval
from .state import DataplaneState

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    target: Session | None = None
    payloads: list[bytes] = field(default_factory=list)
    disconnect: bool = False


class Dispatcher:
    def __init__(self, defs: ApiDefinitions, state: DataplaneState, faults: FaultInjector, counters: Counters) -> None:
        self.defs = defs
        self.codec = Codec(defs)
        self.state = state
        self.faults = faults
        self.counters = counters
        self.pid = os.getpid()

    async def handle(self, payload: bytes, session: Session, sessions: SessionDirectory) -> Outcome:
        try:
            req = self.codec.decode(payload)
        except MalformedMessage as exc:
            # VPP logs and drops such messages; the connection stays up.
            self.counters.malformed[exc.kind] += 1
            log.debug("dropped malformed message: %s", exc)
            return Outcome()
        if req.name not in self.defs.services:
            # A reply or event sent towards the server has no handler in VPP.
            self.counters.malformed["not_a_request"] += 1
            return Outcome()
        self.counters.calls[req.name] += 1

        target = self._reply_target(req, session, sessions)
        if target is None:
            self.counters.malformed["bad_client_index"] += 1
            return Outcome()

        rule = self.faults.take(req.name)
        if rule is not None:
            if rule.action is FaultAction.DROP:
                return Outcome()
            if rule.action is FaultAction.DISCONNECT:
                return Outcome(target=session, disconnect=True)
            if rule.action is FaultAction.DELAY:
                await asyncio.sleep(rule.delay_s)
            elif rule.action is FaultAction.RETVAL:
                return self._encode(req, target, self._error_replies(req, rule.retval))

        ctx = HandlerContext(state=self.state, defs=self.defs, session=session, sessions=sessions, pid=self.pid)
        return self._encode(req, target, self._run_handler(ctx, req))

    def _reply_target(self, req: Request, session: Session, sessions: SessionDirectory) -> Session | None:
        # VPP sends the reply to the registration named by client_index, and
        # drops the request when it names none; sockclnt_create has no index.
        if req.client_index is None:
            return session
        return sessions.session(req.client_index)

    def _run_handler(self, ctx: HandlerContext, req: Request) -> list[Reply]:
        handler = HANDLERS.get(req.name)
        if handler is None:
            return self._error_replies(req, Retval.UNIMPLEMENTED)
        try:
            return handler(ctx, req)
        except ApiError as exc:
            log.debug("%s failed: %s", req.name, exc)
            return self._error_replies(req, exc.retval)
        except Exception:
            # A handler bug must cost one call, not the whole server.
            log.exception("handler for %s crashed", req.name)
            return self._error_replies(req, Retval.UNSPECIFIED)

    def _error_replies(self, req: Request, retval: int) -> list[Reply]:
        service = self.defs.services[req.name]
        # A dump has no retval to carry a failure: it just yields nothing.
        if service.get("stream") and "stream_msg" not in service:
            return []
        name = reply_name_of(self.defs, req.name)
        fields: dict[str, object] = {}
        if self.codec.reply_has(name, "retval"):
            fields["retval"] = int(retval)
        if self.codec.reply_has(name, "sw_if_index"):
            fields["sw_if_index"] = NO_INDEX
        return [Reply(name, fields)]

    def _encode(self, req: Request, target: Session, replies: list[Reply]) -> Outcome:
        outcome = Outcome(target=target)
        for reply in replies:
            fields = dict(reply.fields)
            if self.codec.reply_has(reply.name, "context"):
                fields["context"] = req.context or 0
            if int(fields.get("retval", 0) or 0) != 0:
                self.counters.failed[req.name] += 1
            try:
                outcome.payloads.append(self.codec.encode(reply.name, fields))
            except Exception:
                log.exception("cannot encode %s", reply.name)
                self.counters.malformed["encode_error"] += 1
        self.counters.replies_sent += len(outcome.payloads)
        return outcome


def reply_name_of(defs: ApiDefinitions, request_name: str) -> str:
    return str(defs.services[request_name]["reply"])

