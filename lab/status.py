"""`contiv-lab status`: the lab's processes, nodes and pods as one report."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from lab.kubeapi import KubeApi, pods_path
from lab.procs import alive
from lab.state import LabState, ProcessRecord


def _process(record: ProcessRecord | None) -> dict[str, Any]:
    if record is None:
        return {"pid": None, "alive": False}
    return {"pid": record.pid, "alive": alive(record), "log": str(record.log)}


async def _agent_ready(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(f"{url}/readiness", timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False


async def collect(state: LabState) -> dict[str, Any]:
    report: dict[str, Any] = {
        "prefix": state.prefix, "dir": str(state.dir), "underlay": str(state.underlay),
        "bridge": {"name": state.bridge, "address": str(state.bridge_ip)},
        "etcd": state.etcd_endpoint, "api": state.api_url,
        "components": {name: _process(record) for name, record in state.components.items()},
    }
    async with httpx.AsyncClient() as http:
        ready = await asyncio.gather(*(_agent_ready(http, n.rest_url) for n in state.nodes))
    report["nodes"] = [{"name": n.name, "ip": str(n.ip), "netns": n.netns, "rest": n.rest_url,
                        "agent": {**_process(n.agent), "ready": r}, "kubelet": _process(n.kubelet)}
                       for n, r in zip(state.nodes, ready)]
    try:
        async with KubeApi(state.api_url, timeout=3) as api:
            listed = await api.list(pods_path())
        report["pods"] = [{"namespace": p["metadata"]["namespace"], "name": p["metadata"]["name"],
                           "node": p.get("spec", {}).get("nodeName"),
                           "phase": (p.get("status") or {}).get("phase"),
                           "ip": (p.get("status") or {}).get("podIP")} for p in listed["items"]]
    except (httpx.HTTPError, OSError, RuntimeError) as exc:
        report["pods"] = []
        report["api_error"] = f"{type(exc).__name__}: {exc}"
    return report


def render(report: dict[str, Any]) -> str:
    def flag(proc: dict[str, Any]) -> str:
        return f"pid {proc['pid']} {'alive' if proc['alive'] else 'DEAD'}"

    lines = [f"lab {report['prefix']} in {report['dir']}: underlay {report['underlay']}, "
             f"bridge {report['bridge']['name']} {report['bridge']['address']}",
             f"etcd {report['etcd']}   API {report['api']}", "", "COMPONENT   PROCESS"]
    lines += [f"{name:<11} {flag(proc)}" for name, proc in report["components"].items()]
    lines += ["", f"{'NODE':<10} {'IP':<18} {'AGENT':<28} {'READY':<6} KUBELET"]
    for node in report["nodes"]:
        lines.append(f"{node['name']:<10} {node['ip']:<18} {flag(node['agent']):<28} "
                     f"{'yes' if node['agent']['ready'] else 'no':<6} {flag(node['kubelet'])}")
    lines += ["", f"{'NAMESPACE':<12} {'POD':<24} {'NODE':<10} {'PHASE':<9} IP"]
    for pod in report["pods"]:
        lines.append(f"{pod['namespace']:<12} {pod['name']:<24} {pod['node'] or '-':<10} "
                     f"{pod['phase'] or '-':<9} {pod['ip'] or '-'}")
    if "api_error" in report:
        lines.append(f"(API unreachable: {report['api_error']})")
    return "\n".join(lines)
