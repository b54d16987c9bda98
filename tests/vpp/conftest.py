"""Fixtures: the VPP stand-in (or a real VPP when CONTIV_TEST_VPP_SOCKET names
its API socket), connections through both vpp_papi clients, pod namespaces
and agent views to render."""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from lab.netns import add_netns, delete_netns
from lab.vpp_standin import StandinConfig, VppStandin, running_standin
from model import NodeRecord
from vswitch.config import AgentConfig
from vswitch.dataplane.linux.netns import NetnsHandles
from vswitch.dataplane.vpp import AsyncVppConnection
from vswitch.podstore import PodRecord
from vswitch.view import AgentView, NodeView

# shared/ sits beside the checkout, as in CI.
APIDIR = Path(__file__).resolve().parents[2].parent / "shared" / "vpp-api"
REAL_VPP = os.environ.get("CONTIV_TEST_VPP_SOCKET", "")


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # AF_UNIX paths are limited to 107 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="vpp-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def standin_config() -> StandinConfig:
    # No vhost-net, as on this machine: pods take the veth + af_packet path.
    return StandinConfig(vhost_net=False)


@pytest.fixture
async def standin(sock_dir: Path, standin_config: StandinConfig) -> AsyncIterator[VppStandin | None]:
    """The stand-in, or None when the tests run against a real VPP."""
    if REAL_VPP:
        yield None
        return
    async with running_standin(sock_dir / "api.sock", APIDIR, standin_config) as server:
        yield server


@pytest.fixture
def only_standin(standin: VppStandin | None) -> VppStandin:
    if standin is None:
        pytest.skip("needs the stand-in's state, faults or connection control")
    return standin


@pytest.fixture
def api_socket(standin: VppStandin | None, sock_dir: Path) -> Path:
    return Path(REAL_VPP) if REAL_VPP else sock_dir / "api.sock"


@pytest.fixture
async def vpp(api_socket: Path) -> AsyncIterator[AsyncVppConnection]:
    connection = AsyncVppConnection(api_socket, client_name="contiv-test", timeout=2.0)
    await connection.connect()
    yield connection
    await connection.close()


@pytest.fixture
def netns() -> Iterator[NetnsHandles]:
    handles = NetnsHandles()
    yield handles
    handles.close()


@pytest.fixture
def make_netns() -> Iterator:
    names: list[str] = []

    def make() -> str:
        name = f"cvpp-{uuid.uuid4().hex[:8]}"
        names.append(name)
        return str(add_netns(name))

    yield make
    for name in names:
        delete_netns(name)


NODE_NAME = "node-1"


def agent_config() -> AgentConfig:
    return AgentConfig(node_name=NODE_NAME)


def make_view(pods: list[PodRecord] = (), other_nodes: tuple[int, ...] = ()) -> AgentView:  # type: ignore[assignment]
    config = agent_config()
    plan = config.addresses
    record = NodeRecord(id=1, name=NODE_NAME, node_ip=str(plan.node_ip_of(1)), vxlan_ip=str(plan.vxlan_ip_of(1)))
    view = AgentView(config=config, node=NodeView(record, plan.pod_subnet_of(1), plan.pod_gateway_of(1)))
    view.nodes[1] = record
    for node_id in other_nodes:
        view.nodes[node_id] = NodeRecord(id=node_id, name=f"node-{node_id}", node_ip=str(plan.node_ip_of(node_id)),
                                         vxlan_ip=str(plan.vxlan_ip_of(node_id)))
    view.pods = {p.id: p for p in pods}
    return view


def make_pod(netns: str, index: int = 2) -> PodRecord:
    return PodRecord(container_id=f"ctr{index}-{uuid.uuid4().hex[:6]}", ifname="eth0", netns=netns,
                     pod_namespace="default", pod_name=f"pod{index}",
                     ip=str(ipaddress.IPv4Address("10.1.1.0") + index))
