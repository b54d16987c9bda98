"""Processes of the lab: started detached and marked, recognised again by
pid and start time, found by their marker when the state file cannot help."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from lab.netns import exec_in
from lab.state import MARKER_ENV, ProcessRecord


def marked_env(prefix: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **(extra or {}), MARKER_ENV: prefix}


def start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces and parentheses; the rest follows the last ")".
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def spawn(prefix: str, argv: list[str], log: Path, *, netns: str | None = None,
          env: dict[str, str] | None = None, cwd: Path | None = None) -> ProcessRecord:
    """Start `argv` (inside `netns` if given) in its own session, so it
    outlives the `contiv-lab` command that started it."""
    command = exec_in(netns, *argv) if netns else list(argv)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=marked_env(prefix, env), cwd=cwd, start_new_session=True)
    started = start_time(process.pid)
    # `ip netns exec` execs the command, so the pid is the command's own.
    return ProcessRecord(pid=process.pid, start_time=started or 0, argv=command, log=log, netns=netns)


def alive(record: ProcessRecord | None) -> bool:
    if record is None:
        return False
    _reap(record.pid)
    return start_time(record.pid) == record.start_time


def _reap(pid: int) -> None:
    # A process this very command started (the demo runs up and down in one
    # process) stays a zombie until its parent waits for it.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def marked_pids(prefix: str) -> list[int]:
    """Every process whose environment carries this lab's marker."""
    wanted = f"{MARKER_ENV}={prefix}".encode()
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def terminate(pids: list[int], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL whatever is still there at the deadline."""
    targets = {pid: start_time(pid) for pid in pids}
    targets = {pid: started for pid, started in targets.items() if started is not None}
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while targets and time.monotonic() < deadline:
        targets = {pid: s for pid, s in targets.items() if _still(pid, s)}
        time.sleep(0.05)
    for pid in targets:
        _signal(pid, signal.SIGKILL)
    kill_deadline = time.monotonic() + 5
    while targets and time.monotonic() < kill_deadline:
        targets = {pid: s for pid, s in targets.items() if _still(pid, s)}
        time.sleep(0.02)


def _still(pid: int, started: int) -> bool:
    _reap(pid)
    return start_time(pid) == started


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
