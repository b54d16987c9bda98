"""A SIGKILL of STN at any step of a steal or a restore never loses the NIC.

The daemon kills itself at a named step (CONTIV_STN_CRASH_AT), which is a
real SIGKILL at an exact point instead of a race against a timer.
"""

from __future__ import annotations

import json
import signal

import pytest

from stn.client import StnClient, StnClientError
from stn.crashpoints import CrashPoint
from stn.models import Phase
from tests.stn.stn_testlib import NO_AGENT

pytestmark = pytest.mark.root


def _phase_on_disk(daemon, dev: str) -> str:
    return json.loads(daemon.record_path(dev).read_text())["phase"]


@pytest.mark.parametrize(
    "point", [CrashPoint.STEAL_SAVED, CrashPoint.STEAL_ROUTES_REMOVED, CrashPoint.STEAL_STRIPPED]
)
async def test_crash_during_steal_is_rolled_back_on_restart(node, start_daemon, point):
    before = node.snapshot("nic0")
    crashing = start_daemon(crash_at=point.value)
    async with StnClient(str(crashing.socket), timeout=10) as stn:
        with pytest.raises(StnClientError):
            await stn.steal("nic0")
    assert crashing.wait_exit(10) == -signal.SIGKILL
    # The record was durable before Linux was touched.
    assert _phase_on_disk(crashing, "nic0") == Phase.STEALING.value

    restarted = start_daemon()
    # The caller never got a reply, so nobody relies on the steal: it is undone.
    node.wait_restored("nic0", before)
    assert not crashing.record_path("nic0").exists()
    async with StnClient(str(restarted.socket)) as stn:
        assert await stn.list() == []
        # And the NIC can be stolen and released normally afterwards.
        await stn.steal("nic0")
        assert node.stripped("nic0")
        await stn.release("nic0")
    node.wait_restored("nic0", before)


async def test_kill_after_steal_keeps_the_record_and_release_works(node, start_daemon):
    before = node.snapshot("nic0")
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        saved = await stn.steal("nic0")
    daemon.proc.send_signal(signal.SIGKILL)
    assert daemon.wait_exit(10) == -signal.SIGKILL

    restarted = start_daemon()
    async with StnClient(str(restarted.socket)) as stn:
        assert await stn.info("nic0") == saved
        assert node.stripped("nic0")  # a restart alone gives nothing back
        await stn.release("nic0")
    node.wait_restored("nic0", before)
    assert not restarted.record_path("nic0").exists()


@pytest.mark.parametrize(
    "point", [CrashPoint.RESTORE_MARKED, CrashPoint.RESTORE_ADDRESSES, CrashPoint.RESTORE_DONE]
)
async def test_crash_during_release_is_finished_on_restart(node, start_daemon, point):
    before = node.snapshot("nic0")
    crashing = start_daemon(crash_at=point.value)
    async with StnClient(str(crashing.socket), timeout=10) as stn:
        await stn.steal("nic0")
        with pytest.raises(StnClientError):
            await stn.release("nic0")
    assert crashing.wait_exit(10) == -signal.SIGKILL
    assert _phase_on_disk(crashing, "nic0") == Phase.RESTORING.value

    restarted = start_daemon()
    node.wait_restored("nic0", before)
    assert not crashing.record_path("nic0").exists()
    async with StnClient(str(restarted.socket)) as stn:
        assert await stn.list() == []


async def test_restarted_daemon_keeps_watching(node, start_daemon):
    """After a restart, the watchdog still gives the NIC back when no agent answers."""
    before = node.snapshot("nic0")
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        await stn.steal("nic0")
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.wait_exit(10)

    start_daemon(agent_url=NO_AGENT, grace=0.5, dead_after=0.5, interval=0.1)
    node.wait_restored("nic0", before)


async def test_leftovers_of_an_interrupted_write_do_not_break_recovery(node, start_daemon):
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        saved = await stn.steal("nic0")
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.wait_exit(10)
    # A crash between writing the temp file and the rename leaves this behind.
    torn = daemon.state_dir / "nic0.json.tmp"
    torn.write_text('{"interface_name": "nic0", "pha')

    restarted = start_daemon()
    async with StnClient(str(restarted.socket)) as stn:
        assert await stn.info("nic0") == saved
    assert not torn.exists()
