"""Settings of the VPP dataplane (the agent config's `vpp` section)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vswitch.dataplane.vpp.startup import StartupConfig


class VppProcessOptions(BaseModel):
    """How the agent runs VPP itself (see supervisor.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # False: VPP is started by someone else (systemd, another container).
    enabled: bool = False
    # argv without the config; `-c <startup_conf>` is appended. Never a shell string.
    command: tuple[str, ...] = Field(default=("/usr/bin/vpp",), min_length=1)
    # Where the rendered startup.conf is written; VPP's output goes to `<startup_conf>.log`.
    startup_conf: Path = Path("/run/vpp/contiv-startup.conf")
    startup: StartupConfig = StartupConfig()
    restart: Literal["always", "on-failure", "never"] = "always"
    # Doubles after each exit of a VPP that ran less than restart_window.
    restart_delay: float = Field(default=1.0, gt=0)
    max_restart_delay: float = Field(default=30.0, gt=0)
    # More than max_restarts within restart_window seconds: give up.
    max_restarts: int = Field(default=5, ge=0)
    restart_window: float = Field(default=300.0, gt=0)
    start_timeout: float = Field(default=60.0, gt=0)
    stop_timeout: float = Field(default=10.0, gt=0)


class VppOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_socket: Path = Path("/run/vpp/api.sock")
    # Message definitions for the sync client; None: fetch them from VPP.
    # (The asyncio client always fetches them from VPP.)
    apidir: Path | None = Path("/usr/share/vpp/api")
    client: Literal["async", "sync"] = "async"
    call_timeout: float = Field(default=5.0, gt=0)
    client_name: str = "contiv-agent"
    # The VRF pods and tunnels live in; the underlay stays in table 0.
    pod_vrf: int = Field(default=1, ge=1)
    vni: int = Field(default=10, ge=1, lt=2**24)
    # A Linux interface VPP takes with af_packet as the node's uplink; empty
    # when startup.conf gives VPP its NIC (dpdk, af_xdp) or for tests.
    uplink_interface: str = ""
    # False skips tap_create_v3 and goes straight to veth + af_packet.
    use_tap: bool = True
    # The link that gives the node's Linux its routes to pods and services
    # through VPP. Off only where Linux's routes are someone else's (tests
    # that drive VPP from the node's own namespace).
    host_interconnect: bool = True
    process: VppProcessOptions = VppProcessOptions()

    @model_validator(mode="after")
    def _one_api_socket(self) -> VppOptions:
        # The agent would otherwise start a VPP it can never talk to.
        if self.process.enabled and self.process.startup.api_socket != self.api_socket:
            raise ValueError(
                f"process.startup.api_socket ({self.process.startup.api_socket}) must equal "
                f"api_socket ({self.api_socket}) when process.enabled"
            )
        return self
