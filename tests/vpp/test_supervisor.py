"""The agent running VPP as its child, with the stand-in behind VPP's command line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from lab.vpp_standin import async_wait_until
from tests.vpp.conftest import APIDIR
from vswitch.dataplane.vpp import AsyncVppConnection, VppOptions
from vswitch.dataplane.vpp.options import VppProcessOptions
from vswitch.dataplane.vpp.startup import StartupConfig
from vswitch.dataplane.vpp.supervisor import VppStartFailed, VppSupervisor

VPPEXEC = (sys.executable, "-m", "lab.vpp_standin.vppexec")

# Runs the stand-in the first time, then crashes on every start.
CRASH_AFTER_FIRST = """
import os, sys
marker = sys.argv[1]
if os.path.exists(marker):
    print("crashing again")
    sys.exit(1)
open(marker, "w").close()
os.execv(sys.executable, [sys.executable, "-m", "lab.vpp_standin.vppexec", *sys.argv[2:]])
"""

# Answers on the API socket but ignores SIGTERM, as a wedged VPP would.
DEAF_TO_SIGTERM = """
import re, signal, socket, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
path = re.search(r"socket-name (\\S+)", open(sys.argv[-1]).read()).group(1)
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen()
time.sleep(60)
"""


@pytest.fixture(autouse=True)
def standin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTIV_STANDIN_APIDIR", str(APIDIR))
    monkeypatch.setenv("CONTIV_STANDIN_VHOST_NET", "no")


@pytest.fixture
async def make_supervisor(sock_dir: Path, tmp_path: Path) -> AsyncIterator[Callable[..., VppSupervisor]]:
    made: list[VppSupervisor] = []

    def make(**overrides: object) -> VppSupervisor:
        # Sockets under sock_dir: tmp_path can exceed AF_UNIX's 107 bytes.
        startup = StartupConfig(api_socket=sock_dir / "api.sock", cli_socket=sock_dir / "cli.sock",
                                log=tmp_path / "vpp.log", hugepages=False, uplink_cli=tmp_path / "uplink.cli")
        settings: dict[str, object] = dict(enabled=True, command=VPPEXEC, startup_conf=tmp_path / "etc" / "startup.conf",
                                           startup=startup, restart_delay=0.01, start_timeout=15.0, stop_timeout=5.0)
        settings.update(overrides)
        supervisor = VppSupervisor(VppProcessOptions(**settings))
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        await supervisor.stop()


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, int | None]] = []

    async def on_exit(self, returncode: int) -> None:
        self.events.append(("exit", returncode))

    async def on_start(self) -> None:
        self.events.append(("start", None))


async def answers(api_socket: Path) -> str:
    connection = AsyncVppConnection(api_socket, client_name="supervisor-test", timeout=2.0)
    await connection.connect()
    try:
        await connection.call("control_ping")
        return (await connection.call("show_version")).version
    finally:
        await connection.close()


async def test_start_serves_the_api_and_stop_ends_vpp(make_supervisor: Callable[..., VppSupervisor]) -> None:
    supervisor = make_supervisor()
    api_socket = supervisor.options.startup.api_socket
    await supervisor.start()
    assert supervisor.running and supervisor.pid is not None
    assert f"socket-name {api_socket}" in supervisor.options.startup_conf.read_text()
    assert oct(supervisor.options.startup_conf.stat().st_mode & 0o777) == "0o644"
    assert await answers(api_socket)
    health = supervisor.health()
    assert (health.running, health.starts, health.last_exit, health.gave_up) == (True, 1, None, False)

    assert await supervisor.stop() == 0
    assert not supervisor.running and supervisor.pid is None
    assert not api_socket.exists()
    assert supervisor.health().last_exit == 0
    assert await supervisor.stop() == 0  # idempotent


async def test_vpp_exiting_during_start_is_reported_with_its_output(
        make_supervisor: Callable[..., VppSupervisor]) -> None:
    supervisor = make_supervisor(command=(sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"))
    with pytest.raises(VppStartFailed) as failure:
        await supervisor.start()
    assert failure.value.returncode == 3
    assert "3" in str(failure.value) and "boom" in str(failure.value)
    assert supervisor.last_exit == 3 and supervisor.starts == 0


async def test_a_silent_vpp_is_stopped_after_start_timeout(make_supervisor: Callable[..., VppSupervisor]) -> None:
    supervisor = make_supervisor(command=(sys.executable, "-c", "import time; time.sleep(60)"), start_timeout=0.5)
    with pytest.raises(VppStartFailed, match="within 0.5s") as failure:
        await supervisor.start()
    assert failure.value.returncode == -signal.SIGTERM
    assert not supervisor.running


async def test_stop_kills_a_vpp_that_ignores_sigterm(make_supervisor: Callable[..., VppSupervisor]) -> None:
    supervisor = make_supervisor(command=(sys.executable, "-c", DEAF_TO_SIGTERM), stop_timeout=0.3)
    await supervisor.start()
    assert await supervisor.stop() == -signal.SIGKILL


async def test_forwarded_sigterm_ends_vpp_for_good(make_supervisor: Callable[..., VppSupervisor]) -> None:
    supervisor = make_supervisor()
    await supervisor.start()
    recorder = Recorder()
    run = asyncio.create_task(supervisor.run(recorder.on_exit, recorder.on_start))
    supervisor.forward(signal.SIGTERM)
    await asyncio.wait_for(run, 10)
    assert recorder.events == [("exit", 0)]
    assert not supervisor.running and supervisor.restarts == 0


async def test_killed_vpp_is_restarted_and_answers_again(make_supervisor: Callable[..., VppSupervisor]) -> None:
    supervisor = make_supervisor(restart="always")
    await supervisor.start()
    first_pid = supervisor.pid
    assert first_pid is not None
    recorder = Recorder()
    run = asyncio.create_task(supervisor.run(recorder.on_exit, recorder.on_start))

    os.kill(first_pid, signal.SIGKILL)
    await async_wait_until(lambda: supervisor.starts == 2, timeout=15, what="VPP restarted")
    assert recorder.events == [("exit", -signal.SIGKILL), ("start", None)]
    assert supervisor.pid not in (None, first_pid)
    assert await answers(supervisor.options.startup.api_socket)
    assert supervisor.health().restarts == 1

    # Cancelling run() leaves VPP alone; stop() ends it.
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
    assert supervisor.running
    assert await supervisor.stop() == 0


async def test_on_failure_does_not_restart_a_clean_exit(make_supervisor: Callable[..., VppSupervisor]) -> None:
    supervisor = make_supervisor(restart="on-failure")
    await supervisor.start()
    recorder = Recorder()
    run = asyncio.create_task(supervisor.run(recorder.on_exit, recorder.on_start))
    assert supervisor.pid is not None
    os.kill(supervisor.pid, signal.SIGTERM)  # not through the agent: VPP just ends
    await asyncio.wait_for(run, 10)
    assert recorder.events == [("exit", 0)]
    assert not supervisor.gave_up and supervisor.starts == 1


async def test_gives_up_after_max_restarts(make_supervisor: Callable[..., VppSupervisor], tmp_path: Path) -> None:
    command = (sys.executable, "-c", CRASH_AFTER_FIRST, str(tmp_path / "crashed-once"))
    supervisor = make_supervisor(command=command, max_restarts=2)
    await supervisor.start()
    recorder = Recorder()
    run = asyncio.create_task(supervisor.run(recorder.on_exit, recorder.on_start))
    assert supervisor.pid is not None
    os.kill(supervisor.pid, signal.SIGKILL)
    await asyncio.wait_for(run, 10)
    assert recorder.events == [("exit", -9), ("start", None), ("exit", 1), ("start", None), ("exit", 1)]
    health = supervisor.health()
    assert health.gave_up and health.restarts == 2 and not health.running and health.last_exit == 1


def test_restart_delay_backs_off_up_to_the_cap() -> None:
    options = VppProcessOptions(restart_delay=1.0, max_restart_delay=3.0, max_restarts=10)
    supervisor = VppSupervisor(options)
    assert [supervisor.next_restart_delay(1) for _ in range(4)] == [1.0, 2.0, 3.0, 3.0]
    assert VppSupervisor(VppProcessOptions(restart="never")).next_restart_delay(1) is None
    on_failure = VppSupervisor(VppProcessOptions(restart="on-failure"))
    assert on_failure.next_restart_delay(0) is None and not on_failure.gave_up
    assert on_failure.next_restart_delay(-9) == 1.0


def test_vppexec_rejects_a_malformed_startup_conf(tmp_path: Path) -> None:
    conf = tmp_path / "startup.conf"
    conf.write_text("unix {\n  nodaemon\n}\nsocksvr {\n  socket-name /tmp/x.sock\n")
    result = subprocess.run([*VPPEXEC, "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "never closed" in result.stderr and "startup.conf:4" in result.stderr

    missing = subprocess.run([*VPPEXEC, "-c", str(tmp_path / "nope.conf")], capture_output=True, text=True,
                             timeout=30)
    assert missing.returncode != 0 and "nope.conf" in missing.stderr


def test_agent_and_vpp_must_share_the_api_socket() -> None:
    with pytest.raises(ValidationError, match="api_socket"):
        VppOptions(api_socket=Path("/run/vpp/api.sock"),
                   process=VppProcessOptions(enabled=True, startup=StartupConfig(api_socket=Path("/tmp/other.sock"))))
    VppOptions(process=VppProcessOptions(startup=StartupConfig(api_socket=Path("/tmp/other.sock"))))
