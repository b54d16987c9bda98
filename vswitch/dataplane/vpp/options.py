"""Settings of the VPP dataplane (the agent config's `vpp` section)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
