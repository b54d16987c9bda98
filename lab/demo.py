"""`contiv-lab demo`: the lab end to end. Pods with echo servers on every
node, their addresses, and TCP from each pod to every other one."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from lab.kubeapi import KubeApi, Obj, pod_path, pods_path
from lab.runtime import REPO, sandbox_netns
from lab.netns import exec_in
from lab.state import LabState

ECHO_PORT = 8080
NAMESPACE = "default"


@dataclass(frozen=True)
class RunningPod:
    name: str
    node: str
    ip: str
    netns: str


def echo_pod(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": "echo"},
                         "annotations": {"contivpp.io/lab-echo-port": str(ECHO_PORT)}},
            "spec": {"containers": [{"name": "echo", "image": "contiv/echo",
                                     "ports": [{"containerPort": ECHO_PORT}]}]}}


async def wait_running(api: KubeApi, prefix: str, names: list[str], timeout: float) -> list[RunningPod]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        pods = {p["metadata"]["name"]: p for p in (await api.list(pods_path(NAMESPACE)))["items"]}
        running = [pods[n] for n in names if n in pods and (pods[n].get("status") or {}).get("podIP")
                   and pods[n]["status"].get("phase") == "Running"]
        if len(running) == len(names):
            return [RunningPod(p["metadata"]["name"], p["spec"]["nodeName"], p["status"]["podIP"],
                               sandbox_netns(prefix, NAMESPACE, p["metadata"]["name"], p["metadata"]["uid"]))
                    for p in running]
        if loop.time() > deadline:
            waiting = {n: (pods.get(n, {}).get("status") or {}).get("conditions") for n in names
                       if n not in {p["metadata"]["name"] for p in running}}
            raise TimeoutError(f"pods without an IP after {timeout}s: {waiting}")
        await asyncio.sleep(0.2)


async def probe(source_netns: str, ip: str, port: int = ECHO_PORT, timeout: float = 2.0) -> str | None:
    """None when an echo came back from ip:port, seen from inside the source
    pod; else what went wrong."""
    process = await asyncio.create_subprocess_exec(
        *exec_in(source_netns, sys.executable, "-m", "lab.tcpecho", "probe", ip, str(port), "--timeout",
                 str(timeout)), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=REPO)
    stdout, stderr = await process.communicate()
    try:
        result = json.loads(stdout)
    except ValueError:
        return f"probe failed: {stderr.decode(errors='replace').strip()[-300:]}"
    return None if result["ok"] == 1 else "; ".join(result["errors"])


async def run_demo(state: LabState, say: Callable[[str], None], pods_per_node: int = 2) -> bool:
    names = [f"echo-{i + 1}" for i in range(pods_per_node * len(state.nodes))]
    async with KubeApi(state.api_url) as api:
        for name in names:
            await api.delete(pod_path(NAMESPACE, name))
            await api.create(pods_path(NAMESPACE), echo_pod(name))
        say(f"created pods {', '.join(names)} (image contiv/echo, echo server on :{ECHO_PORT}); "
            "the scheduler binds them round-robin")
        running = await wait_running(api, state.prefix, names, 90)
    say("")
    say(f"{'POD':<10} {'NODE':<10} IP")
    for pod in running:
        say(f"{pod.name:<10} {pod.node:<10} {pod.ip}")
    say("")
    pairs = [(a, b) for a in running for b in running if a is not b]
    results = await asyncio.gather(*(probe(a.netns, b.ip) for a, b in pairs))
    same_ok = cross_ok = True
    for (a, b), error in zip(pairs, results):
        kind = "same node " if a.node == b.node else "cross-node"
        outcome = "ok" if error is None else f"FAILED: {error}"
        say(f"TCP {kind}  {a.name} ({a.node}) -> {b.name} {b.ip}:{ECHO_PORT} ({b.node}): {outcome}")
        if error is not None:
            if a.node == b.node:
                same_ok = False
            else:
                cross_ok = False
    say("")
    say(f"same-node TCP: {'all ok' if same_ok else 'FAILURES (see above)'}")
    if cross_ok:
        say("cross-node TCP: all ok (over the agents' node mesh)")
    else:
        say("cross-node TCP: FAILED. Pods on different nodes reach each other only through the agent's "
            "VXLAN node mesh; without it, a node has no route to another node's pod subnet.")
    return same_ok and cross_ok
