"""Async client of the contiv-stn daemon, for the node agent and the CLI.

    async with StnClient("/var/run/contiv/stn.sock") as stn:
        saved = await stn.steal("eth0", dhcp=False)
        ...
        await stn.release("eth0")

Every failure is a `StnClientError` carrying the gRPC status code; an
unreachable daemon is `StnUnavailable`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from stn import convert
from stn.api import stn_pb2 as pb
from stn.api import stn_pb2_grpc as pb_grpc
from stn.models import StolenInterface

DEFAULT_SOCKET = "/var/run/contiv/stn.sock"

R = TypeVar("R")


class StnClientError(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class StnUnavailable(StnClientError):
    """The daemon does not answer on its socket."""


class StnClient:
    def __init__(self, socket_path: str = DEFAULT_SOCKET, timeout: float = 60.0) -> None:
        self.socket_path = str(Path(socket_path).absolute())
        self.timeout = timeout
        self._channel: grpc.aio.Channel | None = None
        self._stub: pb_grpc.STNStub | None = None

    async def __aenter__(self) -> StnClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
            self._stub = None

    def _api(self) -> pb_grpc.STNStub:
        # Created on first use: an aio channel belongs to the loop it was made in.
        if self._stub is None:
            self._channel = grpc.aio.insecure_channel(f"unix://{self.socket_path}")
            self._stub = pb_grpc.STNStub(self._channel)
        return self._stub

    async def steal(self, name: str, dhcp: bool = False) -> StolenInterface:
        reply = await self._call(self._api().StealInterface, pb.StealRequest(interface_name=name, dhcp_enabled=dhcp))
        return convert.stolen_from_pb(reply)

    async def release(self, name: str) -> StolenInterface:
        """Restores the interface; returns the configuration that was put back."""
        reply = await self._call(self._api().ReleaseInterface, pb.ReleaseRequest(interface_name=name))
        return convert.stolen_from_pb(reply.restored)

    async def info(self, name: str) -> StolenInterface:
        reply = await self._call(self._api().StolenInterfaceInfo, pb.InfoRequest(interface_name=name))
        return convert.stolen_from_pb(reply)

    async def list(self) -> list[StolenInterface]:
        reply = await self._call(self._api().ListStolenInterfaces, pb.ListRequest())
        return [convert.stolen_from_pb(i) for i in reply.interfaces]

    async def _call(self, method: Callable[..., Awaitable[R]], request: Message) -> R:
        try:
            return await method(request, timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code is grpc.StatusCode.UNAVAILABLE:
                raise StnUnavailable(
                    code, f"contiv-stn is not reachable at {self.socket_path}: {exc.details()}"
                ) from None
            raise StnClientError(code, exc.details() or code.name) from None
