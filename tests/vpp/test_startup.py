"""startup.conf rendering for the three uplink drivers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vswitch.dataplane.vpp.startup import StartupConfig, UplinkConfig, render_startup_conf, render_uplink_cli


def sections(text: str) -> dict[str, list[str]]:
    """Top-level sections and their lines (enough of VPP's syntax for these tests)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.endswith("{") and not line.startswith(" "):
            current = line[:-1].strip()
            assert current not in found, f"section {current} twice"
            found[current] = []
        elif line == "}":
            current = None
        elif line.strip() and current is not None:
            found[current].append(line.strip())
    return found


def test_af_packet_default() -> None:
    conf = sections(render_startup_conf(StartupConfig()))
    assert "socket-name /run/vpp/api.sock" in conf["socksvr"]
    assert "plugin af_packet_plugin.so { enable }" in conf["plugins"]
    assert "plugin default { disable }" == conf["plugins"][0]
    assert "dpdk" not in conf
    assert not any("dpdk" in line or "af_xdp" in line for line in conf["plugins"])
    assert render_uplink_cli(StartupConfig()) == ""


def test_dpdk_takes_the_pci_device() -> None:
    config = StartupConfig(workers=2, main_core=1,
                           uplink=UplinkConfig(driver="dpdk", pci_address="0000:00:08.0", rx_queues=2))
    conf = sections(render_startup_conf(config))
    assert conf["dpdk"] == ["dev 0000:00:08.0 { name uplink0 num-rx-queues 2 }"]
    assert "plugin dpdk_plugin.so { enable }" in conf["plugins"]
    assert conf["cpu"] == ["main-core 1", "workers 2"]


def test_af_xdp_runs_a_startup_cli() -> None:
    config = StartupConfig(uplink=UplinkConfig(driver="af_xdp", interface="ens5"))
    conf = sections(render_startup_conf(config))
    assert "startup-config /etc/vpp/contiv-uplink.cli" in conf["unix"]
    assert "plugin af_xdp_plugin.so { enable }" in conf["plugins"]
    assert render_uplink_cli(config) == "create interface af_xdp host-if ens5 num-rx-queues 1 name uplink0\n"


def test_no_hugepages() -> None:
    conf = sections(render_startup_conf(StartupConfig(hugepages=False)))
    assert "page-size default-4k" in conf["buffers"]
    assert conf["memory"] == ["main-heap-page-size default-4k"]


def test_bad_uplinks_are_refused() -> None:
    with pytest.raises(ValueError, match="pci_address"):
        render_startup_conf(StartupConfig(uplink=UplinkConfig(driver="dpdk")))
    with pytest.raises(ValueError, match="interface"):
        render_startup_conf(StartupConfig(uplink=UplinkConfig(driver="af_xdp")))
    with pytest.raises(ValidationError):
        UplinkConfig(driver="dpdk", pci_address="eth0")
