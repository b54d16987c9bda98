"""Fixtures of the STN tests. Everything they create is removed at teardown,
also when a test fails: namespaces, daemons, agent stand-ins."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import httpx
import pytest

# Plain asserts in the helpers then show the differing snapshots.
pytest.register_assert_rewrite("tests.stn.stn_testlib")

from stn.api import stn_pb2 as pb
from stn.api import stn_pb2_grpc as pb_grpc
from tests.stn.stn_testlib import (
    AGENT_STAND_IN,
    CONTIV_STN,
    NO_AGENT,
    Daemon,
    FakeNode,
    Processes,
    build_node,
    destroy_node,
    python,
    wait_for,
)


@pytest.fixture
def node() -> Iterator[FakeNode]:
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces")
    fake = build_node()
    try:
        yield fake
    finally:
        destroy_node(fake)


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()


def _answers(socket: Path) -> bool:
    # Synchronous gRPC: this also runs inside async tests, under their loop.
    with grpc.insecure_channel(f"unix://{socket}") as channel:
        try:
            pb_grpc.STNStub(channel).ListStolenInterfaces(pb.ListRequest(), timeout=2)
        except grpc.RpcError:
            return False
    return True


def _ready(socket: Path, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"contiv-stn exited with {proc.returncode} while starting")
    return socket.exists() and _answers(socket)


DaemonFactory = Callable[..., Daemon]


@pytest.fixture
def start_daemon(node: FakeNode, processes: Processes, tmp_path: Path) -> Iterator[DaemonFactory]:
    """Starts `contiv-stn serve` on the fake node; the same state dir and
    socket every time, so a second call is a restart."""
    started: list[Daemon] = []

    def start(agent_url: str = NO_AGENT, grace: float = 3600, dead_after: float = 3600,
              interval: float = 0.2, crash_at: str | None = None) -> Daemon:
        log = tmp_path / f"stn-{len(started)}.log"
        socket, state_dir = tmp_path / "run" / "stn.sock", tmp_path / "state"
        args = [CONTIV_STN, "serve", "--netns", node.ns, "--socket", str(socket),
                "--state-dir", str(state_dir), "--agent-liveness", agent_url,
                "--grace-period", str(grace), "--dead-after", str(dead_after),
                "--probe-interval", str(interval), "--log-level", "debug"]
        env = {"CONTIV_STN_CRASH_AT": crash_at} if crash_at else {}
        daemon = Daemon(proc=processes.start(args, log, env), socket=socket, state_dir=state_dir, log=log)
        started.append(daemon)
        wait_for(lambda: _ready(daemon.socket, daemon.proc), 20, "contiv-stn to serve")
        return daemon

    yield start
    for daemon in started:
        # Shown by pytest only when the test fails.
        print(f"---- {daemon.log.name} ----\n{daemon.log_text()}")


class Agent:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}/liveness"
        self._hits_url = f"http://127.0.0.1:{port}/hits"

    def hits(self) -> int:
        return int(httpx.get(self._hits_url, timeout=2, trust_env=False).text)


@pytest.fixture
def agent(processes: Processes, tmp_path: Path) -> Agent:
    """A node-agent stand-in serving /liveness on a loopback port."""
    proc = processes.start([python(), "-c", AGENT_STAND_IN], tmp_path / "agent.log", stdout=subprocess.PIPE)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return Agent(proc, port)
