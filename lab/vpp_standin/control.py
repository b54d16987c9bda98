"""A JSON-lines control socket, so tests can steer a stand-in subprocess.

Each request is one JSON object on one line; each answer is one line
`{"ok": true, "result": ...}` or `{"ok": false, "error": "..."}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, TypeAdapter

from .faults import FaultRule
from .server import VppStandin
from .snapshot import StandinSnapshot

log = logging.getLogger(__name__)


class SnapshotOp(BaseModel):
    op: Literal["snapshot"] = "snapshot"


class AddFaultOp(BaseModel):
    op: Literal["add_fault"] = "add_fault"
    rule: FaultRule


class ClearFaultsOp(BaseModel):
    op: Literal["clear_faults"] = "clear_faults"


class DropConnectionsOp(BaseModel):
    op: Literal["drop_connections"] = "drop_connections"


class RestartOp(BaseModel):
    op: Literal["restart"] = "restart"


class ResetCountersOp(BaseModel):
    op: Literal["reset_counters"] = "reset_counters"


class ConfigureOp(BaseModel):
    op: Literal["configure"] = "configure"
    settings: dict[str, Any]


ControlOp = Annotated[
    Union[SnapshotOp, AddFaultOp, ClearFaultsOp, DropConnectionsOp, RestartOp, ResetCountersOp, ConfigureOp],
    Field(discriminator="op"),
]
_OP_ADAPTER: TypeAdapter[Any] = TypeAdapter(ControlOp)


class ControlError(RuntimeError):
    pass


async def execute(standin: VppStandin, op: BaseModel) -> Any:
    if isinstance(op, SnapshotOp):
        return standin.snapshot().model_dump(mode="json")
    if isinstance(op, AddFaultOp):
        standin.faults.add(op.rule)
        return None
    if isinstance(op, ClearFaultsOp):
        standin.faults.clear()
        return None
    if isinstance(op, DropConnectionsOp):
        return await standin.drop_connections()
    if isinstance(op, RestartOp):
        return await standin.restart()
    if isinstance(op, ResetCountersOp):
        standin.counters.reset()
        return None
    if isinstance(op, ConfigureOp):
        return standin.configure(**op.settings).model_dump(mode="json")
    raise ControlError(f"unsupported operation {op!r}")


class ControlServer:
    def __init__(self, standin: VppStandin, path: str | Path) -> None:
        self.standin = standin
        self.path = Path(path)
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    op = _OP_ADAPTER.validate_json(line)
                    answer = {"ok": True, "result": await execute(self.standin, op)}
                except Exception as exc:  # reported to the caller, server lives on
                    answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


def _decode_answer(line: bytes) -> Any:
    if not line:
        raise ControlError("control socket closed")
    answer = json.loads(line)
    if not answer.get("ok"):
        raise ControlError(answer.get("error", "unknown error"))
    return answer.get("result")


class ControlClient:
    """Talks to a ControlServer; sync and async forms of every call."""

    def __init__(self, path: str | Path, timeout: float = 10.0) -> None:
        self.path = str(path)
        self.timeout = timeout

    def request(self, op: BaseModel) -> Any:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            sock.connect(self.path)
            sock.sendall(op.model_dump_json().encode() + b"\n")
            with sock.makefile("rb") as stream:
                return _decode_answer(stream.readline())

    async def arequest(self, op: BaseModel) -> Any:
        reader, writer = await asyncio.open_unix_connection(self.path)
        try:
            writer.write(op.model_dump_json().encode() + b"\n")
            await writer.drain()
            return _decode_answer(await asyncio.wait_for(reader.readline(), self.timeout))
        finally:
            writer.close()

    def snapshot(self) -> StandinSnapshot:
        return StandinSnapshot.model_validate(self.request(SnapshotOp()))

    async def asnapshot(self) -> StandinSnapshot:
        return StandinSnapshot.model_validate(await self.arequest(SnapshotOp()))

    def add_fault(self, rule: FaultRule) -> None:
        self.request(AddFaultOp(rule=rule))

    async def aadd_fault(self, rule: FaultRule) -> None:
        await self.arequest(AddFaultOp(rule=rule))

    def clear_faults(self) -> None:
        self.request(ClearFaultsOp())

    def drop_connections(self) -> int:
        return int(self.request(DropConnectionsOp()))

    async def adrop_connections(self) -> int:
        return int(await self.arequest(DropConnectionsOp()))

    def restart(self) -> int:
        return int(self.request(RestartOp()))

    def reset_counters(self) -> None:
        self.request(ResetCountersOp())

    def configure(self, **settings: Any) -> dict[str, Any]:
        return dict(self.request(ConfigureOp(settings=settings)))

    async def aconfigure(self, **settings: Any) -> dict[str, Any]:
        return dict(await self.arequest(ConfigureOp(settings=settings)))
