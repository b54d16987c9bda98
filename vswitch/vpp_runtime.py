"""VPP as the agent's dataplane at run time: its process (when the agent runs
it), the API connection, and the NIC handed between Linux and VPP.

The NIC belongs to VPP only while VPP runs. When VPP exits, the agent first
takes the node's Linux off the routes through VPP, then has STN give the NIC
back, so the node stays reachable while VPP is down; before VPP starts
again, STN takes the NIC once more, and the resync that follows VPP's
reconnect programs everything afresh.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from stn.models import StolenInterface
from vswitch.config import AgentConfig
from vswitch.dataplane.linux.netns import NetnsHandles
from vswitch.dataplane.vpp import VppBackend, vpp_backend
from vswitch.dataplane.vpp.supervisor import VppSupervisor
from vswitch.events import Resync, UplinkHandover
from vswitch.uplink import release, steal

if TYPE_CHECKING:
    from vswitch.controller import Controller

log = logging.getLogger(__name__)

# A handover transaction while VPP is gone fails fast on VPP's side; this only
# bounds a wedged one, so that the NIC is given back regardless.
HANDOVER_TIMEOUT = 30.0


class VppGone(Exception):
    """VPP exited and the restart policy says not to start it again."""


class VppRuntime:
    def __init__(self, config: AgentConfig, netns: NetnsHandles, nic: str | None) -> None:
        self.config = config
        self.netns = netns
        self.nic = nic  # the NIC STN took for VPP, if any
        self.nic_stolen = nic is not None
        process = config.vpp.process
        self.supervisor = VppSupervisor(process) if process.enabled else None
        self.backend: VppBackend | None = None
        self.controller: Controller | None = None

    async def start(self) -> VppBackend:
        """Start VPP if the agent runs it, then connect to it."""
        if self.supervisor is not None:
            await self.supervisor.start()
        # VPP may have restarted empty: everything is dumped and reapplied.
        self.backend = await vpp_backend(self.config, on_reconnect=self._resync, netns=self.netns)
        return self.backend

    def _resync(self) -> None:
        if self.controller is not None:
            self.controller.submit(Resync("vpp reconnected"))

    def health(self) -> dict[str, object]:
        connected = self.backend is not None and self.backend.connection.connected
        report: dict[str, object] = {"connected": connected}
        ready = connected
        if self.supervisor is not None:
            report["process"] = self.supervisor.health().model_dump(mode="json")
            ready = ready and self.supervisor.running
        report["ready"] = ready
        return report

    async def supervise(self) -> None:
        """Runs as a task for as long as the agent serves. Raises VppGone when
        VPP is down for good: the agent then exits, and whoever runs the agent
        (kubelet, systemd) decides what comes next."""
        if self.supervisor is None:
            await asyncio.Event().wait()
            return
        await self.supervisor.run(on_exit=self._vpp_exited, on_start=self._vpp_starting)
        health = self.supervisor.health()
        if health.gave_up:
            raise VppGone(f"VPP keeps exiting (last exit {health.last_exit}); gave up restarting it")
        raise VppGone(f"VPP exited with {health.last_exit} and restart policy "
                      f"'{self.supervisor.options.restart}' does not restart it")

    async def _handover(self, stolen: StolenInterface | None, apply: bool = True) -> None:
        if self.controller is None:
            return  # nothing programmed yet
        event = UplinkHandover(stolen, apply=apply)
        self.controller.submit(event)
        try:
            await asyncio.wait_for(asyncio.shield(event.reply), HANDOVER_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - the NIC must go back whatever happened here
            log.error("could not take the node's routes off VPP before giving the NIC back: %r", exc)

    async def _give_nic_back(self) -> None:
        if self.nic is None or not self.nic_stolen:
            return
        await self._handover(None)
        await release(self.config, self.nic)
        self.nic_stolen = False

    async def _vpp_exited(self, returncode: int) -> None:
        log.warning("VPP exited with %d; the node's NIC goes back to Linux", returncode)
        await self._give_nic_back()

    async def _vpp_starting(self) -> None:
        if self.nic is None or self.nic_stolen:
            return
        stolen = await steal(self.config, self.nic)
        self.nic_stolen = True
        await self._handover(stolen, apply=False)

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        """The agent is stopping: the NIC back to Linux, VPP stopped (if the
        agent runs it) with the signal the agent got, the connection closed."""
        await self._give_nic_back()
        if self.backend is not None:
            await self.backend.close()
        if self.supervisor is not None:
            self.supervisor.forward(sig)
            await self.supervisor.stop()
