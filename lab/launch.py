"""Command lines of the lab's processes, all started through lab.procs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from lab.apiserver.testing import ApiServerProcess
from lab.etcd import EtcdServer
from lab.state import LabState, NodeState


def _script(name: str) -> list[str]:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    if found:
        return [found]
    module = {"contiv-lab": "lab.cli", "contiv-agent": "vswitch.cli", "contiv-ksr": "ksr.cli"}[name]
    return [sys.executable, "-c", f"from {module} import main; main()"]


def etcd_argv(state: LabState) -> list[str]:
    host, port = state.etcd_endpoint.rsplit(":", 1)
    return EtcdServer(state.dir / "etcd", host=host, client_port=int(port), peer_port=state.etcd_peer_port,
                      name=f"{state.prefix}-etcd").command()


def apiserver_argv(state: LabState) -> list[str]:
    return ApiServerProcess(state.etcd_endpoint, state.api_port, host=str(state.bridge_ip.ip)).command()


def ksr_argv(state: LabState) -> list[str]:
    # No metrics port: two labs on one machine would fight over the default.
    return [*_script("contiv-ksr"), "--server", state.api_url, "--etcd-endpoints", state.etcd_endpoint,
            "--metrics-port", "0", "--identity", f"{state.prefix}-ksr"]


def agent_argv(state: LabState, node: NodeState) -> list[str]:
    return [*_script("contiv-agent"), "--node", node.name, "--etcd-endpoints", state.etcd_endpoint,
            "--cni-socket", str(node.cni_socket), "--state-dir", str(node.agent_state_dir),
            "--rest-address", f"{node.address}:9999"]


def agent_env(state: LabState, node: NodeState) -> dict[str, str]:
    # The node IP is the agent's VXLAN underlay address; the node network of
    # its address plan must be the lab's underlay for the two to agree.
    return {"CONTIV_AGENT_NODE_IP": str(node.ip),
            "CONTIV_AGENT_ADDRESSES__NODE_INTERCONNECT": str(state.underlay)}


def kubelet_argv(state: LabState, node: NodeState) -> list[str]:
    return [*_script("contiv-lab"), "kubelet", "--node", node.name, "--dir", str(state.dir)]


def scheduler_argv(state: LabState) -> list[str]:
    return [*_script("contiv-lab"), "scheduler", "--dir", str(state.dir)]
