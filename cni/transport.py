"""One unary RPC to the node agent's RemoteCNI service over a unix socket.

Only the commands that talk to the agent import this module, so VERSION never
pays for `import grpc`.
"""

from __future__ import annotations

from typing import Any

import grpc

from cni import wire

SERVICE = "/contiv.cni.v1.RemoteCNI/"
# (request schema, reply schema) of each RemoteCNI method, as in cni.proto.
METHODS = {
    "Add": ("CNIRequest", "CNIReply"),
    "Delete": ("CNIRequest", "CNIReply"),
    "Check": ("CNIRequest", "CNIReply"),
    "Status": ("StatusRequest", "StatusReply"),
    "GarbageCollect": ("GCRequest", "GCReply"),
}
# Statuses that mean the agent is down, restarting or overloaded: the runtime
# should try again later rather than give up on the pod.
_TRANSIENT = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
})
# A CNI invocation is one RPC: fail it now rather than let the channel's retry
# policy eat the runtime's time; the runtime retries on code 11.
_CHANNEL_OPTIONS = (("grpc.enable_retries", 0),)


class AgentError(Exception):
    """The RPC failed at the gRPC level; `transient` says whether to retry."""

    def __init__(self, transient: bool, msg: str, details: str) -> None:
        super().__init__(msg)
        self.transient = transient
        self.msg = msg
        self.details = details


def call(socket_path: str, method: str, request: dict[str, Any], timeout: float) -> dict[str, Any]:
    request_schema, reply_schema = METHODS[method]
    with grpc.insecure_channel("unix:" + socket_path, options=_CHANNEL_OPTIONS) as channel:
        rpc = channel.unary_unary(
            SERVICE + method,
            request_serializer=lambda message: wire.encode(request_schema, message),
            response_deserializer=lambda data: wire.decode(reply_schema, data),
        )
        try:
            return rpc(request, timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
            detail = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            transient = code in _TRANSIENT
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                msg = f"node agent did not answer {method} within {timeout:g}s"
            elif transient:
                msg = f"node agent at {socket_path} is unreachable"
            else:
                msg = f"node agent failed {method}"
            raise AgentError(transient, msg, f"{code.name}: {detail}" if detail else code.name) from exc
