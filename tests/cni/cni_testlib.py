"""A fake node agent (RemoteCNI over a unix socket, built from the generated
cni_pb2_grpc) and a runner for the real `contiv-cni` executable."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from cni.api import cni_pb2, cni_pb2_grpc

PLUGIN = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "contiv-cni"
RUN_DEADLINE = 30.0

Handler = Callable[[Any], Any]


def default_add_reply(request: cni_pb2.CNIRequest) -> cni_pb2.CNIReply:
    return cni_pb2.CNIReply(
        interfaces=[
            cni_pb2.Interface(name="tap-" + request.container_id[:8], mac="02:fe:00:00:00:01"),
            cni_pb2.Interface(name=request.ifname, mac="02:fe:00:00:00:02", sandbox=request.netns, mtu=1450),
        ],
        ips=[
            cni_pb2.IPConfig(address="10.1.1.2/32", gateway="10.1.1.1", interface=1),
            cni_pb2.IPConfig(address="fd00::2/128", interface=1),
            cni_pb2.IPConfig(address="172.30.1.2/24", interface=-1),
        ],
        routes=[cni_pb2.Route(dst="0.0.0.0/0", gw="10.1.1.1"), cni_pb2.Route(dst="10.96.0.0/12")],
        dns=cni_pb2.DNS(nameservers=["10.96.0.10"], domain="cluster.local",
                        search=["default.svc.cluster.local"], options=["ndots:5"]),
    )


@dataclass
class FakeAgent(cni_pb2_grpc.RemoteCNIServicer):
    """Records every request; each method's reply comes from a replaceable handler."""

    socket_path: str
    requests: list[tuple[str, Any]] = field(default_factory=list)
    handlers: dict[str, Handler] = field(default_factory=dict)
    received: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.handlers.setdefault("Add", default_add_reply)
        self.handlers.setdefault("Delete", lambda request: cni_pb2.CNIReply())
        self.handlers.setdefault("Check", lambda request: cni_pb2.CNIReply())
        self.handlers.setdefault("Status", lambda request: cni_pb2.StatusReply(ready=True))
        self.handlers.setdefault("GarbageCollect", lambda request: cni_pb2.GCReply(removed=0))
        self._server: grpc.Server | None = None

    def _serve(self, method: str, request: Any) -> Any:
        self.requests.append((method, request))
        self.received.set()
        return self.handlers[method](request)

    def Add(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 - gRPC method names
        return self._serve("Add", request)

    def Delete(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._serve("Delete", request)

    def Check(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._serve("Check", request)

    def Status(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._serve("Status", request)

    def GarbageCollect(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._serve("GarbageCollect", request)

    def start(self) -> None:
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        cni_pb2_grpc.add_RemoteCNIServicer_to_server(self, self._server)
        self._server.add_insecure_port("unix:" + self.socket_path)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None).wait(timeout=10)
            self._server = None

    def only_request(self, method: str) -> Any:
        matching = [request for name, request in self.requests if name == method]
        assert len(matching) == 1, f"expected one {method} request, got {self.requests}"
        return matching[0]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def run_plugin(command: str | None, config: dict[str, Any] | bytes | None, env: dict[str, str] | None = None,
               timeout: float = RUN_DEADLINE) -> Run:
    """Execute the installed console script the way a container runtime does:
    a clean environment with only CNI_* variables (plus PATH), config on stdin."""
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if command is not None:
        child_env["CNI_COMMAND"] = command
    child_env.update(env or {})
    stdin = config if isinstance(config, bytes) else (json.dumps(config).encode() if config is not None else b"")
    started = time.monotonic()
    proc = subprocess.run([str(PLUGIN)], input=stdin, env=child_env, capture_output=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode(), time.monotonic() - started)


def attachment_env(container_id: str = "c0ffee01", netns: str | None = "/var/run/netns/pod1",
                   ifname: str = "eth0", args: str | None = None) -> dict[str, str]:
    env = {"CNI_CONTAINERID": container_id, "CNI_IFNAME": ifname, "CNI_PATH": "/opt/cni/bin"}
    if netns is not None:
        env["CNI_NETNS"] = netns
    if args is not None:
        env["CNI_ARGS"] = args
    return env


def assert_error(run: Run, code: int, *words: str) -> dict[str, Any]:
    """The run failed with the spec's error JSON (and nothing else) on stdout."""
    assert run.returncode != 0, run
    assert run.stdout.count("\n") == 1 and run.stdout.endswith("\n"), run.stdout
    error = run.json()
    assert set(error) == {"cniVersion", "code", "msg", "details"}, error
    assert error["code"] == code, error
    assert run.returncode == (code if code < 256 else 1), run
    text = error["msg"] + " " + error["details"]
    for word in words:
        assert word in text, (word, error)
    return error
