"""The agent runs VPP as its child: start, readiness, stop, restart policy.

VPP is started in its own session so a Ctrl-C at the agent's terminal does
not reach it behind the agent's back; the agent decides (stop() or
forward()); but it dies with the agent (a parent-death signal), so a
killed agent's successor starts a VPP of its own. Its stdout and stderr are appended to `<startup_conf>.log`, a
file rather than a pipe, so a chatty VPP can never block on a full pipe
that nobody reads.

Restart policy (`next_restart_delay`):
- `never`: no restart; `on-failure`: restart unless VPP exited with 0;
  `always`: restart whatever the exit code.
- An exit the agent asked for (stop(), or SIGTERM/SIGINT through forward())
  is never restarted.
- The delay starts at restart_delay and doubles for each exit of a VPP that
  ran less than restart_window, up to max_restart_delay; a VPP that ran
  longer resets it.
- More than max_restarts restarts within restart_window: give up (a VPP
  that keeps crashing needs a human, not a tight loop).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from vswitch.dataplane.vpp.options import VppProcessOptions
from vswitch.dataplane.vpp.startup import render_startup_conf, render_uplink_cli

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.05
LOG_TAIL_LINES = 20
# Exit code reported for a start that never got as far as a VPP process.
NOT_STARTED = 1


class VppStartFailed(RuntimeError):
    """VPP exited, or did not open its API socket in time, while starting."""

    def __init__(self, message: str, returncode: int | None = None) -> None:
        super().__init__(message)
        # None when no VPP process ran (or it still ran when we gave up on it).
        self.returncode = returncode


class VppProcessHealth(BaseModel):
    running: bool
    pid: int | None
    starts: int
    restarts: int
    last_exit: int | None
    gave_up: bool
    # When VPP last started or exited, whichever came later.
    since: datetime | None


# util-linux's setpriv sets the parent-death signal and execs VPP. Doing it
# in a preexec_fn instead would run Python in a child forked from a process
# with gRPC threads, which can crash or hang the child before exec.
DIE_WITH_PARENT = ("setpriv", "--pdeathsig", "KILL", "--")


def _write_atomically(path: Path, text: str) -> None:
    # VPP or a human reading the file never sees half of it.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(path)


def _socket_accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


class VppSupervisor:
    def __init__(self, options: VppProcessOptions) -> None:
        self.options = options
        self.log_path = options.startup_conf.with_name(options.startup_conf.name + ".log")
        self.starts = 0
        self.restarts = 0
        self.last_exit: int | None = None
        self.gave_up = False
        self._process: asyncio.subprocess.Process | None = None
        self._reaped: asyncio.subprocess.Process | None = None
        self._started_at = 0.0  # monotonic, of the current or last process
        self._exited_at = 0.0
        self._since: datetime | None = None
        self._restart_times: collections.deque[float] = collections.deque()
        self._quick_exits = 0
        self._stop_requested = asyncio.Event()
        # stop() must not miss a process that is being spawned right now.
        self._spawn_lock = asyncio.Lock()

    # ---- state --------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process is not None else None

    def health(self) -> VppProcessHealth:
        return VppProcessHealth(running=self.running, pid=self.pid, starts=self.starts, restarts=self.restarts,
                                last_exit=self.last_exit, gave_up=self.gave_up, since=self._since)

    # ---- start and stop -----------------------------------------------------

    async def start(self) -> None:
        """Render startup.conf, spawn VPP and wait until its API socket answers."""
        self._stop_requested.clear()
        await self._start()

    async def _start(self) -> None:
        if self.running:
            return
        options = self.options
        startup = options.startup
        try:
            _write_atomically(options.startup_conf, render_startup_conf(startup))
            uplink_cli = render_uplink_cli(startup)
            if uplink_cli:
                _write_atomically(startup.uplink_cli, uplink_cli)
        except (OSError, ValueError) as exc:
            raise VppStartFailed(f"cannot write VPP's startup configuration: {exc}") from exc
        api_socket = startup.api_socket
        if _socket_accepts(api_socket):
            raise VppStartFailed(f"another process already serves VPP's API socket {api_socket}")
        # A socket file left by a VPP that crashed: nobody listens on it, and
        # it would make the readiness check below look at the wrong VPP.
        with contextlib.suppress(FileNotFoundError):
            api_socket.unlink()

        # VPP dies with the agent: a VPP whose agent was killed would hold the
        # API socket, so the next agent could not start its own.
        argv = (*DIE_WITH_PARENT, *options.command, "-c", str(options.startup_conf))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as output:
            log_offset = output.tell()
            async with self._spawn_lock:
                if self._stop_requested.is_set():
                    raise VppStartFailed("VPP start cancelled: stop requested")
                try:
                    process = await asyncio.create_subprocess_exec(
                        *argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                        start_new_session=True)
                except OSError as exc:
                    raise VppStartFailed(f"cannot run {argv[0]}: {exc}") from exc
                self._process = process
                self._started_at = time.monotonic()
                self._since = datetime.now(UTC)
        log.info("started VPP (pid %d): %s", process.pid, " ".join(argv))

        deadline = self._started_at + options.start_timeout
        while not _socket_accepts(api_socket):
            if process.returncode is not None:
                self._exited(process)
                raise VppStartFailed(
                    f"VPP exited with {process.returncode} before opening its API socket {api_socket}"
                    f"{self._log_tail(log_offset)}", process.returncode)
            if time.monotonic() > deadline:
                returncode = await self._terminate(process)
                raise VppStartFailed(
                    f"VPP did not open its API socket {api_socket} within {options.start_timeout}s; "
                    f"stopped it (exit {returncode}){self._log_tail(log_offset)}", returncode)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), POLL_INTERVAL)
        self.starts += 1
        log.info("VPP (pid %d) answers on %s", process.pid, api_socket)

    def _log_tail(self, offset: int) -> str:
        try:
            with self.log_path.open("rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        lines = text.strip().splitlines()[-LOG_TAIL_LINES:]
        if not lines:
            return f"; no output in {self.log_path}"
        return f"; last output ({self.log_path}):\n" + "\n".join(lines)

    def forward(self, sig: int) -> None:
        """Send a signal to VPP, if it runs. SIGTERM and SIGINT count as a stop request."""
        if sig in (signal.SIGTERM, signal.SIGINT):
            self._stop_requested.set()
        if self.running and self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(sig)

    async def stop(self) -> int | None:
        """Stop VPP (SIGTERM, then SIGKILL after stop_timeout); its exit code, None if never started."""
        self._stop_requested.set()
        async with self._spawn_lock:
            process = self._process
        if process is None:
            return None
        return await self._terminate(process)

    async def _terminate(self, process: asyncio.subprocess.Process) -> int:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), self.options.stop_timeout)
            except TimeoutError:
                log.warning("VPP (pid %d) ignored SIGTERM for %ss; killing it", process.pid, self.options.stop_timeout)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        return self._exited(process)

    async def wait(self) -> int:
        """Wait until VPP exits; its exit code (negative: killed by that signal)."""
        process = self._process
        if process is None:
            raise RuntimeError("VPP was never started")
        await process.wait()
        return self._exited(process)

    def _exited(self, process: asyncio.subprocess.Process) -> int:
        returncode = process.returncode
        assert returncode is not None
        # Several waiters (run, stop) see the same exit; record it once.
        if process is not self._reaped:
            self._reaped = process
            self.last_exit = returncode
            self._exited_at = time.monotonic()
            self._since = datetime.now(UTC)
            log.log(logging.INFO if returncode == 0 else logging.WARNING,
                    "VPP (pid %d) exited with %d", process.pid, returncode)
        return returncode

    # ---- restarts -----------------------------------------------------------

    def next_restart_delay(self, returncode: int) -> float | None:
        """Seconds to wait before restarting VPP after this exit, or None for no restart."""
        options = self.options
        if self._stop_requested.is_set() or options.restart == "never":
            return None
        if options.restart == "on-failure" and returncode == 0:
            return None
        now = time.monotonic()
        while self._restart_times and now - self._restart_times[0] > options.restart_window:
            self._restart_times.popleft()
        if len(self._restart_times) >= options.max_restarts:
            self.gave_up = True
            return None
        if self._exited_at - self._started_at >= options.restart_window:
            self._quick_exits = 0
        delay = min(options.restart_delay * 2 ** self._quick_exits, options.max_restart_delay)
        self._quick_exits += 1
        self._restart_times.append(now)
        return delay

    async def run(self, on_exit: Callable[[int], Awaitable[None]], on_start: Callable[[], Awaitable[None]]) -> None:
        """Restart VPP by the policy until it says stop; call start() first.

        on_exit(returncode) follows every exit, including failed starts, so
        the agent can give the NIC back to Linux; on_start() precedes every
        restart, to take it again. Their exceptions end run(). Cancelling
        run() leaves VPP running: stop() ends it.
        """
        returncode = await self.wait()
        while True:
            await on_exit(returncode)
            delay = self.next_restart_delay(returncode)
            if delay is None:
                if self.gave_up:
                    log.error("VPP exited with %d; more than %d restarts within %ss, giving up",
                              returncode, self.options.max_restarts, self.options.restart_window)
                elif self._stop_requested.is_set():
                    log.info("VPP stopped on request (exit %d)", returncode)
                else:
                    log.error("VPP exited with %d; restart policy '%s' says not to restart it",
                              returncode, self.options.restart)
                return
            log.warning("restarting VPP in %.2fs", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), delay)
            if self._stop_requested.is_set():
                return
            self.restarts += 1
            try:
                await on_start()
                await self._start()
            except VppStartFailed as exc:
                log.error("restarting VPP failed: %s", exc)
                returncode = exc.returncode if exc.returncode is not None else NOT_STARTED
                continue
            returncode = await self.wait()
