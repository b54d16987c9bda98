"""The unix-socket server: registrations, per-client read loops, control."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .apidefs import ApiDefinitions, load_api_definitions
from .config import StandinConfig
from .counters import Counters
from .dispatch import Dispatcher
from .faults import FaultInjector
from .framing import FrameTooLarge, frame, read_frame
from .snapshot import StandinSnapshot, take_snapshot
from .state import DataplaneState

log = logging.getLogger(__name__)

# VPP marks socket client handles with the top bit (SOCK_API_REG_HANDLE_BIT).
HANDLE_BIT = 1 << 31


@dataclass(eq=False)
class ClientSession:
    reg_index: int
    writer: asyncio.StreamWriter
    name: str = ""
    close_after_reply: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def handle(self) -> int:
        return self.reg_index | HANDLE_BIT

    def send(self, payloads: list[bytes]) -> None:
        if payloads and not self.writer.is_closing():
            self.writer.write(b"".join(frame(p) for p in payloads))


class VppStandin:
    """A VPP API socket server backed by an in-memory dataplane model.

    All methods must be called from the event loop the server runs on.
    """

    def __init__(
        self,
        socket_path: str | Path,
        apidir: str | Path | None = None,
        *,
        config: StandinConfig | None = None,
        definitions: ApiDefinitions | None = None,
    ) -> None:
        if definitions is None:
            if apidir is None:
                raise ValueError("need apidir or definitions")
            definitions = load_api_definitions(apidir)
        self.socket_path = Path(socket_path)
        self.defs = definitions
        self.config = config or StandinConfig()
        self.state = DataplaneState(self.config)
        self.faults = FaultInjector()
        self.counters = Counters()
        self.dispatcher = Dispatcher(self.defs, self.state, self.faults, self.counters)
        self._sessions: dict[int, ClientSession] = {}
        self._server: asyncio.AbstractServer | None = None

    # ---- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.socket_path))
        log.info("VPP stand-in listening on %s", self.socket_path)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.drop_connections()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    @property
    def running(self) -> bool:
        return self._server is not None

    # ---- test controls ----------------------------------------------------

    async def drop_connections(self) -> int:
        """Cut every client off, like a VPP crash does; returns how many."""
        sessions = list(self._sessions.values())
        for session in sessions:
            session.writer.close()
        tasks = [s.task for s in sessions if s.task is not None and s.task is not asyncio.current_task()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return len(sessions)

    async def restart(self) -> int:
        """Drop every client and forget all dataplane state, as a VPP restart does."""
        dropped = await self.drop_connections()
        self.state = DataplaneState(self.config)
        self.dispatcher.state = self.state
        return dropped

    def configure(self, **changes: object) -> StandinConfig:
        for key, value in changes.items():
            if key not in StandinConfig.model_fields:
                raise KeyError(f"unknown setting {key}")
            setattr(self.config, key, value)
        return self.config

    def session(self, handle: int) -> ClientSession | None:
        if not handle & HANDLE_BIT:
            return None
        return self._sessions.get(handle & ~HANDLE_BIT)

    def client_names(self) -> list[str]:
        return [s.name for s in sorted(self._sessions.values(), key=lambda s: s.reg_index)]

    def snapshot(self) -> StandinSnapshot:
        return take_snapshot(
            self.state,
            self.counters.snapshot(self.faults.fired),
            self.client_names(),
            self.faults.pending(),
        )

    # ---- connections ------------------------------------------------------

    def _register(self, writer: asyncio.StreamWriter) -> ClientSession:
        # Registration 0 is VPP's own listener; clients get the lowest free slot.
        index = 1
        while index in self._sessions:
            index += 1
        session = ClientSession(reg_index=index, writer=writer, task=asyncio.current_task())  # type: ignore[arg-type]
        self._sessions[index] = session
        self.counters.connections_total += 1
        self.counters.connections_open += 1
        return session

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = self._register(writer)
        try:
            while True:
                payload = await read_frame(reader)
                if payload is None:
                    break
                outcome = await self.dispatcher.handle(payload, session, self)
                if outcome.disconnect:
                    break
                if outcome.target is not None:
                    outcome.target.send(outcome.payloads)
                    if outcome.target is not session:
                        await outcome.target.writer.drain()
                await writer.drain()
                if session.close_after_reply:
                    break
                self._close_deleted_registrations()
        except FrameTooLarge as exc:
            self.counters.malformed["oversized"] += 1
            log.warning("closing client %s: %s", session.name, exc)
        except (ConnectionError, OSError) as exc:
            log.debug("client %s went away: %s", session.name, exc)
        finally:
            self._sessions.pop(session.reg_index, None)
            self.counters.connections_open -= 1
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    def _close_deleted_registrations(self) -> None:
        # sockclnt_delete may name another client's registration.
        for other in list(self._sessions.values()):
            if other.close_after_reply:
                other.writer.close()
