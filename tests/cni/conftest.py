"""Fixtures for the plugin tests: a short socket directory and a fake agent."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cni.cni_testlib import FakeAgent


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # pytest's tmp_path can exceed the 107-byte limit of a unix socket path.
    path = Path(tempfile.mkdtemp(prefix="cni-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def agent(sock_dir: Path) -> Iterator[FakeAgent]:
    fake = FakeAgent(str(sock_dir / "cni.sock"))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def config(agent: FakeAgent, sock_dir: Path) -> dict[str, Any]:
    return {
        "cniVersion": "1.1.0",
        "name": "contiv-net",
        "type": "contiv-cni",
        "agentSocket": agent.socket_path,
        "logFile": str(sock_dir / "log" / "cni.log"),
    }
