"""VPP's startup.conf for a node, rendered from a few choices.

The uplink is how VPP reaches the node network: `af_packet` (default; VPP
opens a Linux interface, the agent creates the host-<if> interface through
the API, so startup.conf only leaves the af_packet plugin enabled), `af_xdp`
(VPP creates an XDP socket interface on the NIC at start) or `dpdk` (VPP
takes the NIC's PCI device away from Linux).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# What VPP calls the uplink it creates at start (af_xdp, dpdk), so that the
# agent finds it by name whatever the driver would have called it.
UPLINK_VPP_NAME = "uplink0"
PCI_ADDRESS = re.compile(r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")


class UplinkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    driver: Literal["af_packet", "af_xdp", "dpdk"] = "af_packet"
    interface: str = ""              # Linux name (af_packet, af_xdp)
    pci_address: str = ""            # dpdk
    rx_queues: int = Field(default=1, ge=1, le=64)

    @field_validator("pci_address")
    @classmethod
    def _pci(cls, value: str) -> str:
        if value and not PCI_ADDRESS.match(value):
            raise ValueError(f"{value!r} is not a PCI address like 0000:00:08.0")
        return value


class StartupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_socket: Path = Path("/run/vpp/api.sock")
    cli_socket: Path = Path("/run/vpp/cli.sock")
    log: Path = Path("/var/log/vpp/vpp.log")
    main_core: int | None = Field(default=None, ge=0)
    workers: int = Field(default=0, ge=0)
    buffers_per_numa: int = Field(default=16384, ge=1024)
    # Without hugepages (containers, CI), VPP must not ask for them.
    hugepages: bool = True
    # Where render_uplink_cli's output is installed (af_xdp only).
    uplink_cli: Path = Path("/etc/vpp/contiv-uplink.cli")
    uplink: UplinkConfig = UplinkConfig()


def _section(name: str, lines: list[str]) -> list[str]:
    return [f"{name} {{", *(f"  {line}" for line in lines), "}", ""]


def _plugins(driver: str) -> list[str]:
    # Only what the agent uses is loaded: fewer plugins, faster start, and
    # no plugin that grabs devices it should not.
    wanted = ["af_packet_plugin.so", "vxlan_plugin.so", "cnat_plugin.so", "acl_plugin.so", "ping_plugin.so"]
    if driver == "af_xdp":
        wanted.append("af_xdp_plugin.so")
    if driver == "dpdk":
        wanted.append("dpdk_plugin.so")
    return ["plugin default { disable }", *(f"plugin {name} {{ enable }}" for name in wanted)]


def render_startup_conf(config: StartupConfig) -> str:
    uplink = config.uplink
    if uplink.driver == "dpdk" and not uplink.pci_address:
        raise ValueError("a dpdk uplink needs its pci_address")
    if uplink.driver == "af_xdp" and not uplink.interface:
        raise ValueError("an af_xdp uplink needs its interface")

    unix = ["nodaemon", f"cli-listen {config.cli_socket}", f"log {config.log}", "full-coredump",
            "coredump-size unlimited"]
    if uplink.driver == "af_xdp":
        # af_xdp has no startup stanza of its own: VPP runs this CLI file at start.
        unix.append(f"startup-config {config.uplink_cli}")
    out: list[str] = []
    out += _section("unix", unix)
    out += _section("socksvr", [f"socket-name {config.api_socket}"])
    out += _section("api-trace", ["on"])
    cpu = [f"main-core {config.main_core}"] if config.main_core is not None else []
    if config.workers:
        cpu.append(f"workers {config.workers}")
    if cpu:
        out += _section("cpu", cpu)
    buffers = [f"buffers-per-numa {config.buffers_per_numa}"]
    if not config.hugepages:
        buffers.append("page-size default-4k")
    out += _section("buffers", buffers)
    if not config.hugepages:
        out += _section("memory", ["main-heap-page-size default-4k"])
        out += _section("statseg", ["page-size default-4k"])
    out += _section("plugins", _plugins(uplink.driver))
    if uplink.driver == "dpdk":
        device = f"dev {uplink.pci_address} {{ name {UPLINK_VPP_NAME} num-rx-queues {uplink.rx_queues} }}"
        out += _section("dpdk", [device])
    return "\n".join(out)


def render_uplink_cli(config: StartupConfig) -> str:
    """The CLI file VPP executes at start for an af_xdp uplink ('' otherwise)."""
    uplink = config.uplink
    if uplink.driver != "af_xdp":
        return ""
    return (f"create interface af_xdp host-if {uplink.interface} num-rx-queues {uplink.rx_queues} "
            f"name {UPLINK_VPP_NAME}\n")
