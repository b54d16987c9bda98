"""The daemon refuses to start, with the reason, instead of guarding the wrong thing."""

from __future__ import annotations

import json
import subprocess

import pytest

from stn.client import StnClient
from tests.stn.stn_testlib import CONTIV_STN

pytestmark = pytest.mark.root


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CONTIV_STN, "serve", *args], capture_output=True, text=True, timeout=60)


def test_missing_namespace(tmp_path):
    result = _serve("--netns", "stnt-does-not-exist", "--socket", str(tmp_path / "s.sock"),
                    "--state-dir", str(tmp_path / "state"))
    assert result.returncode != 0
    assert "network namespace stnt-does-not-exist does not exist" in result.stderr


def test_bad_liveness_url(tmp_path):
    result = _serve("--agent-liveness", "127.0.0.1:9999", "--socket", str(tmp_path / "s.sock"))
    assert result.returncode != 0 and "not an http(s) URL" in result.stderr


async def test_second_daemon_on_the_same_state_or_socket(node, start_daemon, tmp_path):
    daemon = start_daemon()
    same_state = _serve("--netns", node.ns, "--socket", str(tmp_path / "other.sock"),
                        "--state-dir", str(daemon.state_dir))
    assert same_state.returncode != 0 and "in use by another contiv-stn" in same_state.stderr
    same_socket = _serve("--netns", node.ns, "--socket", str(daemon.socket),
                         "--state-dir", str(tmp_path / "other-state"))
    assert same_socket.returncode != 0 and "another process is serving" in same_socket.stderr
    # The refused starts left the running daemon's socket alone.
    async with StnClient(str(daemon.socket)) as stn:
        assert await stn.list() == []


async def test_records_of_another_namespace_are_not_touched(node, start_daemon):
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        await stn.steal("nic0")
    daemon.proc.terminate()
    assert daemon.wait_exit(15) == 0
    record = json.loads(daemon.record_path("nic0").read_text())
    result = _serve("--netns", node.gw, "--socket", str(daemon.socket), "--state-dir", str(daemon.state_dir))
    assert result.returncode != 0
    assert f"stolen in network namespace {node.ns}" in result.stderr
    assert json.loads(daemon.record_path("nic0").read_text()) == record
    assert node.stripped("nic0")
