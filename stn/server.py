"""The contiv-stn daemon: gRPC on a unix socket, the state machine and the watchdog.

Shutting down (SIGTERM/SIGINT) never restores anything: the dataplane may be
running on the stolen NIC, and the next start picks the records up again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import grpc
from pydantic import ValidationError

from stn import convert
from stn.api import stn_pb2 as pb
from stn.api import stn_pb2_grpc as pb_grpc
from stn.errors import InvalidRequest, StnError
from stn.manager import ForeignRecords, Manager
from stn.models import DaemonConfig, StealRequest
from stn.netlink import NetlinkHost
from stn.store import StateStore
from stn.watchdog import Watchdog

log = logging.getLogger(__name__)

T = TypeVar("T")
_STOP_GRACE = 5.0


class StartupError(RuntimeError):
    """The daemon cannot start; the message says why."""


class StnService(pb_grpc.STNServicer):
    def __init__(self, manager: Manager) -> None:
        self._manager = manager

    async def StealInterface(self, request: pb.StealRequest, context: grpc.aio.ServicerContext) -> pb.StolenInterface:
        async def call() -> pb.StolenInterface:
            try:
                req = StealRequest(interface_name=request.interface_name, dhcp_enabled=request.dhcp_enabled)
            except ValidationError as exc:
                raise InvalidRequest(str(exc)) from None
            return convert.stolen_to_pb(await self._manager.steal(req.interface_name, req.dhcp_enabled))

        return await _answer(context, "StealInterface", request.interface_name, call)

    async def ReleaseInterface(self, request: pb.ReleaseRequest, context: grpc.aio.ServicerContext) -> pb.ReleaseReply:
        async def call() -> pb.ReleaseReply:
            restored = await self._manager.release(request.interface_name)
            return pb.ReleaseReply(restored=convert.stolen_to_pb(restored))

        return await _answer(context, "ReleaseInterface", request.interface_name, call)

    async def StolenInterfaceInfo(self, request: pb.InfoRequest, context: grpc.aio.ServicerContext) -> pb.StolenInterface:
        async def call() -> pb.StolenInterface:
            return convert.stolen_to_pb(self._manager.info(request.interface_name))

        return await _answer(context, "StolenInterfaceInfo", request.interface_name, call)

    async def ListStolenInterfaces(self, request: pb.ListRequest, context: grpc.aio.ServicerContext) -> pb.ListReply:
        async def call() -> pb.ListReply:
            return pb.ListReply(interfaces=[convert.stolen_to_pb(r) for r in self._manager.list()])

        return await _answer(context, "ListStolenInterfaces", "", call)


async def _answer(context: grpc.aio.ServicerContext, method: str, name: str, call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except StnError as exc:
        log.warning("%s(%s) refused: %s: %s", method, name, exc.code.name, exc)
        await context.abort(exc.code, str(exc))
    except Exception as exc:  # the daemon must keep serving whatever one request hits
        log.exception("%s(%s) failed unexpectedly", method, name)
        await context.abort(grpc.StatusCode.INTERNAL, f"{method} failed: {exc}")
    raise AssertionError("context.abort returned")


def _prepare_socket(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise StartupError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        # Nobody answers: a socket left by a crashed daemon.
        log.info("removing stale socket %s", path)
        path.unlink()
        return
    finally:
        probe.close()
    raise StartupError(f"another process is serving on {path}")


async def _bind(server: grpc.aio.Server, path: Path) -> None:
    _prepare_socket(path)
    # The umask makes the socket 0600 from its creation, so there is no window
    # in which another local user could connect before the chmod.
    old = os.umask(0o177)
    try:
        server.add_insecure_port(f"unix:{path}")
    finally:
        os.umask(old)
    await server.start()
    os.chmod(path, 0o600)


async def serve(config: DaemonConfig) -> None:
    store = StateStore(Path(config.state_dir))
    try:
        store.lock()
    except (OSError, RuntimeError) as exc:
        raise StartupError(str(exc)) from exc
    host = NetlinkHost(config.netns)
    try:
        await host.open()
    except FileNotFoundError:
        store.unlock()
        raise StartupError(f"network namespace {config.netns} does not exist") from None
    socket_path = Path(config.socket_path).absolute()
    server = grpc.aio.server()
    watchdog_task: asyncio.Task[None] | None = None
    bound = False
    try:
        manager = Manager(host, store)
        try:
            await manager.recover()
        except ForeignRecords as exc:
            raise StartupError(str(exc)) from None
        pb_grpc.add_STNServicer_to_server(StnService(manager), server)
        await _bind(server, socket_path)
        bound = True
        watchdog = Watchdog(manager, config.agent_liveness_url, config.grace_period,
                            config.dead_after, config.probe_interval)
        watchdog_task = asyncio.create_task(watchdog.run(), name="watchdog")
        log.info("contiv-stn serving on %s (state %s%s), %d interfaces stolen", socket_path, config.state_dir,
                 f", netns {config.netns}" if config.netns else "", len(manager.list()))
        await _wait_for_signal(watchdog_task)
    finally:
        if bound:
            log.info("contiv-stn stopping; stolen interfaces stay recorded in %s", config.state_dir)
        if watchdog_task is not None:
            watchdog_task.cancel()
        await server.stop(_STOP_GRACE)
        if bound:
            # Only our own socket: a failed start must not unlink another daemon's.
            socket_path.unlink(missing_ok=True)
        host.close()
        store.unlock()


async def _wait_for_signal(watchdog_task: asyncio.Task[None]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _on_signal, sig, stop)
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({stopped, watchdog_task}, return_when=asyncio.FIRST_COMPLETED)
    if watchdog_task in done and not watchdog_task.cancelled() and watchdog_task.exception() is not None:
        # A dead watchdog would silently leave the node unguarded: stop loudly.
        stopped.cancel()
        raise RuntimeError("the watchdog stopped") from watchdog_task.exception()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    log.info("received %s", sig.name)
    stop.set()
