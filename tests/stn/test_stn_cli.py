"""The contiv-stn client subcommands, as an operator runs them."""

from __future__ import annotations

import json

import pytest

from stn.models import StolenInterface
from tests.stn.stn_testlib import cli

pytestmark = pytest.mark.root


def test_steal_show_release(node, start_daemon):
    before = node.snapshot("nic0")
    daemon = start_daemon()
    sock = ["--socket", str(daemon.socket)]

    stolen = cli("steal", "nic0", *sock)
    assert stolen.returncode == 0, stolen.stderr
    assert "nic0" in stolen.stdout and "10.50.0.1" in stolen.stdout and "stolen" in stolen.stdout
    assert node.stripped("nic0")

    table = cli("show", *sock)
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split()[:3] == ["NAME", "PHASE", "DHCP"]
    assert row.split()[:3] == ["nic0", "stolen", "no"]
    assert "10.50.0.2/24" in row and "10.50.0.1" in row

    listed = cli("show", "-o", "json", *sock)
    assert listed.returncode == 0, listed.stderr
    assert [r["interface_name"] for r in json.loads(listed.stdout)] == ["nic0"]

    one = cli("show", "nic0", "-o", "json", *sock)
    assert one.returncode == 0, one.stderr
    record = StolenInterface.model_validate_json(one.stdout)
    assert record.interface_name == "nic0"
    assert {r.gateway for r in record.default_routes} == {"10.50.0.1", "fd00:50::1"}

    released = cli("release", "nic0", *sock)
    assert released.returncode == 0, released.stderr
    assert "released nic0" in released.stdout
    node.wait_restored("nic0", before)
    assert cli("show", *sock).stdout.strip() == "no stolen interfaces"


def test_steal_with_dhcp_is_recorded(node, start_daemon):
    daemon = start_daemon()
    sock = ["--socket", str(daemon.socket)]
    assert cli("steal", "nic1", "--dhcp", *sock).returncode == 0
    record = StolenInterface.model_validate_json(cli("show", "nic1", "-o", "json", *sock).stdout)
    assert record.dhcp_enabled
    assert cli("release", "nic1", *sock).returncode == 0


def test_failed_calls_exit_non_zero_with_the_reason(node, start_daemon):
    daemon = start_daemon()
    sock = ["--socket", str(daemon.socket)]
    missing = cli("steal", "eth9", *sock)
    assert missing.returncode != 0
    assert "no interface named eth9" in missing.stderr and "NOT_FOUND" in missing.stderr
    not_stolen = cli("release", "nic0", *sock)
    assert not_stolen.returncode != 0 and "not stolen" in not_stolen.stderr
    assert cli("show", "nic0", *sock).returncode != 0


@pytest.mark.parametrize("args", [["show"], ["show", "nic0"], ["steal", "nic0"], ["release", "nic0"]])
def test_daemon_down_is_a_clear_error(tmp_path, args):
    result = cli(*args, "--socket", str(tmp_path / "nobody.sock"))
    assert result.returncode != 0
    assert "not reachable" in result.stderr and str(tmp_path / "nobody.sock") in result.stderr
    assert "Traceback" not in result.stderr
