"""Ways for tests to run the stand-in: same loop, own thread, or subprocess.

- `running_standin(...)`: async context manager, server on the caller's loop
  (for asyncio clients).
- `StandinThread(...)`: context manager, server on a loop in a thread (for
  the blocking vpp_papi client in the same process).
- `standin_subprocess(...)` / `StandinProcess(...)`: the CLI in a child
  process, steered through its control socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from .config import StandinConfig
from .control import ControlClient
from .faults import FaultRule
from .server import VppStandin
from .snapshot import StandinSnapshot

T = TypeVar("T")


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout}s")
        time.sleep(interval)


async def async_wait_until(
    predicate: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0, interval: float = 0.01, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(interval)


def socket_accepts(path: str | Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


@contextlib.asynccontextmanager
async def running_standin(
    socket_path: str | Path, apidir: str | Path, config: StandinConfig | None = None
) -> AsyncIterator[VppStandin]:
    standin = VppStandin(socket_path, apidir, config=config)
    await standin.start()
    try:
        yield standin
    finally:
        await standin.stop()


class StandinThread:
    """The stand-in on its own event loop in a daemon thread."""

    def __init__(self, socket_path: str | Path, apidir: str | Path, config: StandinConfig | None = None) -> None:
        self.socket_path = Path(socket_path)
        self.apidir = Path(apidir)
        self.config = config
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="vpp-standin", daemon=True)
        self.standin: VppStandin | None = None

    def __enter__(self) -> StandinThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        self.standin = VppStandin(self.socket_path, self.apidir, config=self.config)
        self.run(self.standin.start())

    def stop(self) -> None:
        if self.standin is not None and self.loop.is_running():
            self.run(self.standin.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    def run(self, coro: Awaitable[T], timeout: float = 30.0) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def call(self, func: Callable[[VppStandin], T], timeout: float = 30.0) -> T:
        """Run func(standin) on the server's loop, so state is never read mid-update."""
        assert self.standin is not None
        future: Future[T] = Future()
        standin = self.standin

        def invoke() -> None:
            try:
                future.set_result(func(standin))
            except Exception as exc:
                future.set_exception(exc)

        self.loop.call_soon_threadsafe(invoke)
        return future.result(timeout)

    def snapshot(self) -> StandinSnapshot:
        return self.call(lambda s: s.snapshot())

    def add_fault(self, rule: FaultRule) -> None:
        self.call(lambda s: s.faults.add(rule))

    def configure(self, **settings: Any) -> StandinConfig:
        return self.call(lambda s: s.configure(**settings))

    def drop_connections(self) -> int:
        assert self.standin is not None
        return self.run(self.standin.drop_connections())

    def restart(self) -> int:
        assert self.standin is not None
        return self.run(self.standin.restart())


def _cli_args(socket_path: Path, apidir: Path, control_path: Path, config: StandinConfig) -> list[str]:
    vhost = {None: "auto", True: "yes", False: "no"}[config.vhost_net]
    args = [
        sys.executable,
        "-m",
        "lab.vpp_standin",
        "--socket",
        str(socket_path),
        "--apidir",
        str(apidir),
        "--control",
        str(control_path),
        "--vhost-net",
        vhost,
    ]
    if config.check_host_interfaces:
        args.append("--check-host-interfaces")
    if config.check_host_namespaces:
        args.append("--check-host-namespaces")
    if not config.special_routes:
        args.append("--no-special-routes")
    return args


def _child_env() -> dict[str, str]:
    # The child must import lab.vpp_standin from this same checkout.
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class StandinProcess:
    """The stand-in CLI as a child process (blocking API)."""

    def __init__(
        self,
        socket_path: str | Path,
        apidir: str | Path,
        config: StandinConfig | None = None,
        control_path: str | Path | None = None,
        start_timeout: float = 20.0,
    ) -> None:
        self.socket_path = Path(socket_path)
        self.control_path = Path(control_path) if control_path else self.socket_path.with_suffix(".control")
        self.args = _cli_args(self.socket_path, Path(apidir), self.control_path, config or StandinConfig())
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.control = ControlClient(self.control_path)

    def __enter__(self) -> StandinProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, env=_child_env())
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"stand-in exited with {process.returncode}")
            return socket_accepts(self.socket_path) and socket_accepts(self.control_path)

        wait_until(ready, self.start_timeout, 0.05, "stand-in sockets")

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode


@contextlib.asynccontextmanager
async def standin_subprocess(
    socket_path: str | Path,
    apidir: str | Path,
    config: StandinConfig | None = None,
    control_path: str | Path | None = None,
    start_timeout: float = 20.0,
) -> AsyncIterator[ControlClient]:
    """The stand-in CLI as a child process, for asyncio tests; yields its control client."""
    socket_path = Path(socket_path)
    control = Path(control_path) if control_path else socket_path.with_suffix(".control")
    args = _cli_args(socket_path, Path(apidir), control, config or StandinConfig())
    process = await asyncio.create_subprocess_exec(*args, env=_child_env())
    try:

        def ready() -> bool:
            if process.returncode is not None:
                raise RuntimeError(f"stand-in exited with {process.returncode}")
            return socket_accepts(socket_path) and socket_accepts(control)

        await async_wait_until(ready, start_timeout, 0.05, "stand-in sockets")
        yield ControlClient(control)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()
