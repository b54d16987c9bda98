"""`contiv-lab up`: plan every name, write the plan, then make it real:
bridge and node namespaces, etcd, the API stand-in, the KSR, the Node
objects, an agent inside each node, a kubelet per node and the scheduler."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import httpx

from lab import launch, underlay
from lab import netns as labns
from lab.etcd import free_port
from lab.kubeapi import ApiError, KubeApi
from lab.procs import alive, marked_pids, spawn
from lab.state import LabState, NodeState, ProcessRecord, check_prefix, load, save


class LabError(RuntimeError):
    pass


class LabExists(LabError):
    """Nothing was made: a lab (or its leftovers) is already there."""


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def plan(directory: Path, nodes: int, prefix: str, subnet: ipaddress.IPv4Network) -> LabState:
    check_prefix(prefix)
    if nodes < 1:
        raise LabError("a lab needs at least one node")
    bridge_ip = underlay.bridge_address(subnet)
    # The ports are free on this host now; etcd and the API bind only the
    # bridge address, which nothing else uses.
    api_port = 6443 if _port_free(6443) else free_port()
    node_states = [
        NodeState(name=f"node-{i}", index=i, netns=underlay.node_netns(prefix, f"node-{i}"),
                  host_link=underlay.node_link(prefix, i), ip=underlay.node_address(subnet, i),
                  dir=directory / f"node-{i}")
        for i in range(1, nodes + 1)
    ]
    return LabState(prefix=prefix, dir=directory, underlay=subnet, bridge=underlay.bridge_name(prefix),
                    bridge_ip=bridge_ip, etcd_endpoint=f"{bridge_ip.ip}:{free_port()}", etcd_peer_port=free_port(),
                    api_port=api_port, nodes=node_states)


def leftovers(prefix: str) -> list[str]:
    owned = f"{prefix}-"
    found = [f"netns {n}" for n in labns.list_netns(owned)] + [f"link {n}" for n in labns.list_links(owned)]
    return found + [f"process {pid}" for pid in marked_pids(prefix)]


def up(directory: Path, nodes: int, prefix: str, subnet: ipaddress.IPv4Network,
       say: Callable[[str], None] = lambda _: None) -> LabState:
    directory = directory.resolve()
    existing = load(directory)
    if existing is not None:
        raise LabExists(f"a lab is already recorded in {directory} (prefix {existing.prefix}); "
                       f"run `contiv-lab down --dir {directory}` first")
    left = leftovers(prefix)
    if left:
        raise LabExists(f"lab {prefix!r} has leftovers ({', '.join(left[:5])}); run `contiv-lab down` first")
    underlay.check_free(subnet)
    state = plan(directory, nodes, prefix, subnet)
    save(state)
    say(f"lab {prefix}: state in {directory}, underlay {subnet} on bridge {state.bridge} ({state.bridge_ip.ip})")
    underlay.create_bridge(state.bridge, state.bridge_ip)
    for node in state.nodes:
        node.dir.mkdir(parents=True, exist_ok=True)
        underlay.attach_node(node.netns, node.host_link, state.bridge, node.ip, state.bridge_ip.ip)
    say(f"nodes: {', '.join(f'{n.name} {n.address} (netns {n.netns})' for n in state.nodes)}")

    _start_component(state, "etcd", launch.etcd_argv(state),
                     lambda: _http_ok(f"http://{state.etcd_endpoint}/health"))
    say(f"etcd: {state.etcd_endpoint}")
    _start_component(state, "apiserver", launch.apiserver_argv(state),
                     lambda: _http_ok(f"{state.api_url}/version"))
    say(f"API stand-in: {state.api_url}")
    asyncio.run(register_nodes(state))
    _start_component(state, "ksr", launch.ksr_argv(state), None)
    for node in state.nodes:
        node.agent = spawn(prefix, launch.agent_argv(state, node), state.logs / f"{node.name}-agent.log",
                           netns=node.netns, env=launch.agent_env(state, node))
        save(state)
    for node in state.nodes:
        _wait(lambda n=node: _agent_ready(n), 60, f"the agent of {node.name} to be ready", node.agent)
    say(f"agents ready: {', '.join(f'{n.rest_url}' for n in state.nodes)}")
    for node in state.nodes:
        node.kubelet = spawn(prefix, launch.kubelet_argv(state, node), state.logs / f"{node.name}-kubelet.log")
        save(state)
    _start_component(state, "scheduler", launch.scheduler_argv(state), None)
    say("kubelets and scheduler running")
    return state


def _start_component(state: LabState, name: str, argv: list[str], ready: Callable[[], bool] | None) -> None:
    record = spawn(state.prefix, argv, state.logs / f"{name}.log")
    state.components[name] = record
    save(state)
    if ready is not None:
        _wait(ready, 30, f"{name} to answer", record)


def _wait(predicate: Callable[[], bool], timeout: float, what: str, process: ProcessRecord | None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process is not None and not alive(process):
            raise LabError(f"{what}: the process exited; see {process.log}:\n{_tail(process.log)}")
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout}s waiting for {what}"
                           + (f"; see {process.log}" if process else ""))
        time.sleep(0.1)


def _tail(path: Path, size: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _agent_ready(node: NodeState) -> bool:
    try:
        return httpx.get(f"{node.rest_url}/readiness", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def node_object(state: LabState, node: NodeState) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node.name, "labels": {"kubernetes.io/hostname": node.name,
                                                       "kubernetes.io/os": "linux", "contivpp.io/lab": state.prefix}}}


def node_status(node: NodeState) -> dict:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"status": {
        "addresses": [{"type": "InternalIP", "address": node.address}, {"type": "Hostname", "address": node.name}],
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "contiv lab node",
                        "lastHeartbeatTime": now, "lastTransitionTime": now}],
        "nodeInfo": {"kubeletVersion": "contiv-lab", "operatingSystem": "linux", "architecture": "amd64",
                     "containerRuntimeVersion": "contiv-lab://netns", "kernelVersion": "", "osImage": "",
                     "kubeProxyVersion": "", "machineID": "", "systemUUID": "", "bootID": ""},
    }}


async def register_nodes(state: LabState) -> None:
    async with KubeApi(state.api_url) as api:
        for node in state.nodes:
            try:
                await api.create("/api/v1/nodes", node_object(state, node))
            except ApiError as exc:
                if exc.status != 409:
                    raise
            await api.merge_patch(f"/api/v1/nodes/{node.name}/status", node_status(node))
