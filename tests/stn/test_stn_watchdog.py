"""The watchdog gives the NIC back when the agent dies, and not while it lives."""

from __future__ import annotations

import signal
import time

import pytest

from stn.client import StnClient
from tests.stn.stn_testlib import NO_AGENT, wait_for

pytestmark = pytest.mark.root

GRACE = 0.5
DEAD_AFTER = 1.0
INTERVAL = 0.2


async def test_agent_killed_restores_the_nic(node, start_daemon, agent):
    before = node.snapshot("nic0")
    daemon = start_daemon(agent_url=agent.url, grace=GRACE, dead_after=DEAD_AFTER, interval=INTERVAL)
    async with StnClient(str(daemon.socket)) as stn:
        await stn.steal("nic0")
        # Enough answered probes to span the grace period and the dead time
        # twice over: a live agent keeps the NIC stolen.
        hits = agent.hits()
        wait_for(lambda: agent.hits() >= hits + 2 * (GRACE + DEAD_AFTER) / INTERVAL, 20,
                 "the watchdog to probe the live agent")
        assert [r.interface_name for r in await stn.list()] == ["nic0"]
        assert node.stripped("nic0")

        agent.proc.send_signal(signal.SIGKILL)
        agent.proc.wait(10)
        killed_at = time.monotonic()
        node.wait_restored("nic0", before)
        # Within the dead time plus a couple of probe rounds, not "eventually".
        assert time.monotonic() - killed_at < DEAD_AFTER + 5 * INTERVAL + 2
        assert await stn.list() == []
    assert node.reaches("10.50.0.1")


async def test_agent_that_never_comes_up_gets_the_grace_period_then_restore(node, start_daemon):
    before = node.snapshot("nic0")
    daemon = start_daemon(agent_url=NO_AGENT, grace=GRACE, dead_after=DEAD_AFTER, interval=INTERVAL)
    async with StnClient(str(daemon.socket)) as stn:
        await stn.steal("nic0")
        stolen_at = time.monotonic()
    node.wait_restored("nic0", before)
    # Never before the agent had its grace period and the dead time.
    assert time.monotonic() - stolen_at >= GRACE + DEAD_AFTER
