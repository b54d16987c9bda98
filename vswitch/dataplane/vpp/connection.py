"""A connection to VPP's API socket that survives VPP going away.

Two clients behind one interface (`call`, `dump`):

- `AsyncVppConnection` (the default): vpp_papi's asyncio client. Requests
  are pipelined on the socket, so concurrent callers do not wait for each
  other's round trips. It loads the message definitions from VPP itself
  (get_api_json), so it needs no apidir.
- `SyncVppConnection`: vpp_papi's blocking client on one worker thread (the
  client is not thread-safe, and the event loop must not block on a socket).

vpp_papi's asyncio client has no notion of a lost connection: its reader task
just ends and outstanding futures never resolve. So every request is
registered here, a supervisor fails them all when the reader ends, and then
reconnects with backoff and tells its listeners, who resync (VPP may have
restarted and forgotten everything).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from vpp_papi import VPPApiClient
from vpp_papi.vpp_papi_async import VPPApiClient as AsyncVPPApiClient

log = logging.getLogger(__name__)

MIN_RECONNECT = 0.05
MAX_RECONNECT = 5.0


class VppUnavailable(ConnectionError):
    """There is no working connection to VPP (it is being re-established)."""


class VppApiError(Exception):
    """VPP answered a request with a negative retval."""

    def __init__(self, message: str, retval: int) -> None:
        super().__init__(f"{message}: retval {retval}")
        self.message = message
        self.retval = retval


Listener = Callable[[], None]


class VppConnection(Protocol):
    listeners: list[Listener]

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None: ...

    async def call(self, message: str, **fields: Any) -> Any: ...

    async def dump(self, message: str, **fields: Any) -> list[Any]: ...

    async def close(self) -> None: ...


def _check(message: str, reply: Any) -> Any:
    retval = getattr(reply, "retval", 0)
    if retval != 0:
        raise VppApiError(message, retval)
    return reply


class AsyncVppConnection:
    def __init__(self, socket_path: Path | str, client_name: str = "contiv-agent", timeout: float = 5.0) -> None:
        self.socket_path = str(socket_path)
        self.client_name = client_name
        self.timeout = timeout
        self.listeners: list[Listener] = []
        self._client: AsyncVPPApiClient | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self.connects = 0

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def connect(self) -> None:
        """The first connection; fails if VPP is not there."""
        await self._open()
        self._supervisor = asyncio.create_task(self._supervise(), name="vpp-connection")

    async def _open(self) -> None:
        client = AsyncVPPApiClient(server_address=self.socket_path, read_timeout=self.timeout)
        try:
            async with asyncio.timeout(self.timeout):
                rv = await client.connect(self.client_name, asyncio.Queue())
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            _abandon(client)
            raise VppUnavailable(f"cannot connect to VPP at {self.socket_path}: {exc!r}") from None
        if rv != 0:
            raise VppUnavailable(f"cannot connect to VPP at {self.socket_path}: no socket")
        self._client = client
        self.connects += 1

    async def _supervise(self) -> None:
        while not self._closing:
            client = self._client
            assert client is not None
            with contextlib.suppress(BaseException):
                await asyncio.shield(client.socket_task)
            if self._closing:
                return
            log.warning("VPP API connection lost; reconnecting")
            self._client = None
            _abandon(client)
            self._fail_pending(VppUnavailable("VPP API connection lost"))
            delay = MIN_RECONNECT
            while not self._closing:
                try:
                    await self._open()
                    break
                except VppUnavailable as exc:
                    log.debug("%s; retry in %.2fs", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(MAX_RECONNECT, delay * 2)
            if self._closing:
                return
            log.info("VPP API connection re-established")
            for listener in list(self.listeners):
                listener()

    def _fail_pending(self, exc: Exception) -> None:
        for future in self._pending:
            if not future.done():
                future.set_exception(exc)
        self._pending.clear()

    async def _request(self, message: str, fields: dict[str, Any]) -> Any:
        client = self._client
        if client is None:
            raise VppUnavailable("not connected to VPP")
        try:
            future = getattr(client.api, message)(**fields)
        except AttributeError:
            raise VppApiError(f"{message} is not known to this VPP", -1) from None
        self._pending.add(future)
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            raise VppUnavailable(f"{message}: no answer from VPP within {self.timeout}s") from None
        finally:
            self._pending.discard(future)

    async def call(self, message: str, **fields: Any) -> Any:
        return _check(message, await self._request(message, fields))

    async def dump(self, message: str, **fields: Any) -> list[Any]:
        _, details = await self._request(message, fields)
        return list(details)

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(BaseException):
                await self._supervisor
        client, self._client = self._client, None
        if client is not None:
            _abandon(client)
        self._fail_pending(VppUnavailable("connection closed"))


def _abandon(client: AsyncVPPApiClient) -> None:
    # vpp_papi's own disconnect() waits for a reply a dead socket never
    # sends; tear the client down without talking to VPP.
    for name in ("queue_task", "socket_task"):
        task = getattr(client, name, None)
        if task is not None:
            task.cancel()
    writer = getattr(client, "writer", None)
    if writer is not None:
        writer.close()


class SyncVppConnection:
    """vpp_papi's blocking client, driven from one worker thread."""

    def __init__(self, socket_path: Path | str, apidir: Path | str | None = None,
                 client_name: str = "contiv-agent", timeout: float = 5.0) -> None:
        self.socket_path = str(socket_path)
        self.apidir = str(apidir) if apidir else None
        self.client_name = client_name
        self.timeout = timeout
        self.listeners: list[Listener] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vpp-api")
        self._client: VPPApiClient | None = None
        self._lost = False
        self.connects = 0

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _open(self) -> None:
        if self.apidir:
            client = VPPApiClient(apidir=self.apidir, server_address=self.socket_path, read_timeout=self.timeout)
        else:
            client = VPPApiClient(bootstrapapi=True, server_address=self.socket_path, read_timeout=self.timeout)
        try:
            client.connect(self.client_name)
        except (OSError, TimeoutError) as exc:
            raise VppUnavailable(f"cannot connect to VPP at {self.socket_path}: {exc!r}") from None
        self._client = client
        self.connects += 1

    def _invoke(self, message: str, fields: dict[str, Any]) -> tuple[Any, bool]:
        reconnected = False
        if self._client is None:
            # Reconnect lazily: the first request after a loss pays for it.
            self._open()
            reconnected = self._lost
            self._lost = False
        assert self._client is not None
        try:
            method = getattr(self._client.api, message)
        except AttributeError:
            raise VppApiError(f"{message} is not known to this VPP", -1) from None
        try:
            return method(**fields), reconnected
        except (OSError, TimeoutError) as exc:
            client, self._client = self._client, None
            self._lost = True
            with contextlib.suppress(Exception):
                client.transport.disconnect()
            raise VppUnavailable(f"{message}: VPP API connection lost: {exc!r}") from None

    async def connect(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    async def _request(self, message: str, fields: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()
        reply, reconnected = await loop.run_in_executor(self._executor, self._invoke, message, fields)
        if reconnected:
            for listener in list(self.listeners):
                listener()
        return reply

    async def call(self, message: str, **fields: Any) -> Any:
        return _check(message, await self._request(message, fields))

    async def dump(self, message: str, **fields: Any) -> list[Any]:
        return list(await self._request(message, fields))

    async def close(self) -> None:
        client, self._client = self._client, None

        def disconnect() -> None:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.disconnect()

        await asyncio.get_running_loop().run_in_executor(self._executor, disconnect)
        self._executor.shutdown(wait=False)
