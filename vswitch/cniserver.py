"""The CNI gRPC server: validates requests and hands them to the event loop."""

from __future__ import annotations

import os
import re
from pathlib import Path

import grpc

from cni.api import cni_pb2, cni_pb2_grpc
from vswitch.controller import CNI_INVALID_ENV, CNI_TRY_AGAIN, Controller
from vswitch.dataplane.linux.netns import is_netns
from vswitch.events import CniGc, CniRequest
from vswitch.podstore import attachment_id

CONTAINER_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$")
PROC_NETNS = re.compile(r"^/proc/\d+/(task/\d+/)?ns/net$")


class InvalidRequest(Exception):
    pass


def check_ifname(ifname: str) -> None:
    if not ifname or len(ifname) > 15 or ifname in (".", "..") or any(c in ifname for c in "/: \t\n"):
        raise InvalidRequest(f"invalid interface name {ifname!r}")


def check_netns(path: str, allowed_dirs: tuple[Path, ...]) -> None:
    """The path must be a network namespace inside one of the allowed
    directories; anything else could make the agent configure the node itself
    or another tenant's namespace."""
    if not path:
        raise InvalidRequest("the netns path is empty")
    resolved = os.path.normpath(path)
    if resolved != path.rstrip("/") or ".." in Path(path).parts:
        raise InvalidRequest(f"netns path {path!r} is not a clean absolute path")
    inside = any(resolved.startswith(str(d).rstrip("/") + "/") for d in allowed_dirs if str(d) != "/proc")
    if not inside and not (Path("/proc") in allowed_dirs and PROC_NETNS.match(resolved)):
        raise InvalidRequest(f"netns path {path!r} is outside the network namespace directories "
                             f"({', '.join(str(d) for d in allowed_dirs)})")
    if not os.path.exists(resolved):
        raise InvalidRequest(f"netns {path!r} does not exist")
    if not is_netns(resolved):
        raise InvalidRequest(f"{path!r} is not a network namespace")


class CniServicer(cni_pb2_grpc.RemoteCNIServicer):
    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def _validate(self, request: cni_pb2.CNIRequest, need_netns: bool) -> None:
        if not CONTAINER_ID.match(request.container_id):
            raise InvalidRequest(f"invalid container ID {request.container_id!r}")
        check_ifname(request.ifname)
        if need_netns:
            check_netns(request.netns, self.controller.view.config.netns_dirs)

    async def _submit(self, command: str, request: cni_pb2.CNIRequest, need_netns: bool) -> cni_pb2.CNIReply:
        try:
            self._validate(request, need_netns)
        except InvalidRequest as exc:
            return cni_pb2.CNIReply(error_code=CNI_INVALID_ENV, error_msg=str(exc))
        if not self.controller.synced.is_set():
            return cni_pb2.CNIReply(error_code=CNI_TRY_AGAIN, error_msg="the agent is still starting; try again")
        event = CniRequest(command, request)
        self.controller.submit(event)
        return await event.reply

    async def Add(self, request: cni_pb2.CNIRequest, context: grpc.aio.ServicerContext) -> cni_pb2.CNIReply:
        return await self._submit("ADD", request, need_netns=True)

    async def Delete(self, request: cni_pb2.CNIRequest, context: grpc.aio.ServicerContext) -> cni_pb2.CNIReply:
        # DEL must work when the netns is already gone.
        return await self._submit("DEL", request, need_netns=False)

    async def Check(self, request: cni_pb2.CNIRequest, context: grpc.aio.ServicerContext) -> cni_pb2.CNIReply:
        return await self._submit("CHECK", request, need_netns=True)

    async def Status(self, request: cni_pb2.StatusRequest, context: grpc.aio.ServicerContext) -> cni_pb2.StatusReply:
        if not self.controller.synced.is_set():
            return cni_pb2.StatusReply(ready=False, message="the agent has not finished its initial resync")
        if self.controller.ipam.free <= 0:
            return cni_pb2.StatusReply(ready=False, message="no free pod address on this node")
        return cni_pb2.StatusReply(ready=True)

    async def GarbageCollect(self, request: cni_pb2.GCRequest, context: grpc.aio.ServicerContext) -> cni_pb2.GCReply:
        if not self.controller.synced.is_set():
            return cni_pb2.GCReply(error_code=CNI_TRY_AGAIN, error_msg="the agent is still starting; try again")
        event = CniGc({attachment_id(a.container_id, a.ifname) for a in request.valid_attachments})
        self.controller.submit(event)
        return cni_pb2.GCReply(removed=await event.reply)


async def start_cni_server(controller: Controller, socket_path: Path) -> grpc.aio.Server:
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    server = grpc.aio.server()
    cni_pb2_grpc.add_RemoteCNIServicer_to_server(CniServicer(controller), server)
    server.add_insecure_port(f"unix:{socket_path}")
    # The socket is created by start(); a restrictive umask means it is never,
    # even for a moment, reachable by other users.
    old_umask = os.umask(0o177)
    try:
        await server.start()
    finally:
        os.umask(old_umask)
    os.chmod(socket_path, 0o600)
    return server
