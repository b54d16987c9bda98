"""The lab end to end: `contiv-lab up` with two nodes, pods through the API,
the real agent and CNI plugin, `apply`, `status`, and `down`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from lab import netns as labns
from lab.procs import alive
from lab.runtime import sandbox_netns
from lab.state import load
from tests.lab.labtest import Lab, lab_cli, wait_for

pytestmark = pytest.mark.root


def test_up_starts_components_registers_nodes_and_agents_are_ready(lab: Lab) -> None:
    state = lab.state
    assert state is not None
    assert set(state.components) == {"etcd", "apiserver", "ksr", "scheduler"}
    assert all(alive(record) for record in state.components.values())
    assert [n.name for n in state.nodes] == ["node-1", "node-2"]
    nodes = httpx.get(f"{lab.api}/api/v1/nodes", timeout=10).json()["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == ["node-1", "node-2"]
    for node in state.nodes:
        assert alive(node.agent) and alive(node.kubelet)
        assert str(node.ip.network) == lab.underlay
        assert httpx.get(f"{node.rest_url}/readiness", timeout=5).status_code == 200
        registered = next(n for n in nodes if n["metadata"]["name"] == node.name)
        assert {"type": "InternalIP", "address": node.address} in registered["status"]["addresses"]
        assert node.netns in labns.list_netns(f"{lab.prefix}-")


def test_pod_gets_an_ip_status_is_written_and_same_node_pods_talk(lab: Lab) -> None:
    lab.create_pod("same-a", node="node-1")
    lab.create_pod("same-b", node="node-1")
    a, b = lab.wait_running("same-a"), lab.wait_running("same-b")
    node1 = lab.state.node("node-1")
    for pod in (a, b):
        status = pod["status"]
        assert status["hostIP"] == node1.address
        assert status["podIPs"] == [{"ip": status["podIP"]}]
        assert (labns.NETNS_DIR / sandbox_netns(lab.prefix, "default", pod["metadata"]["name"],
                                                pod["metadata"]["uid"])).exists()
    assert a["status"]["podIP"] != b["status"]["podIP"]
    assert lab.probe(a, b["status"]["podIP"])["ok"] == 1
    assert lab.probe(b, a["status"]["podIP"])["ok"] == 1


def test_scheduler_binds_round_robin_and_pods_talk_across_nodes(lab: Lab) -> None:
    lab.create_pod("rr-1")
    lab.create_pod("rr-2")
    one, two = lab.wait_running("rr-1"), lab.wait_running("rr-2")
    assert {one["spec"]["nodeName"], two["spec"]["nodeName"]} == {"node-1", "node-2"}
    assert lab.probe(one, two["status"]["podIP"])["ok"] == 1
    assert lab.probe(two, one["status"]["podIP"])["ok"] == 1


def test_pod_deletion_runs_del_and_removes_the_netns(lab: Lab) -> None:
    pod = lab.create_pod("doomed", node="node-2")
    lab.wait_running("doomed")
    node2 = lab.state.node("node-2")
    uid = pod["metadata"]["uid"]
    record = json.loads((node2.dir / "pods" / f"{uid}.json").read_text())
    netns = labns.NETNS_DIR / record["netns"]
    assert netns.exists()
    lab.delete_pod("doomed")
    wait_for(lambda: not netns.exists(), 20, "the pod's netns to be deleted")
    cni_log = (node2.dir / "cni.log").read_text()
    assert f"command=DEL container={record['container_id']}" in cni_log
    agent_pods = httpx.get(f"{node2.rest_url}/contiv/v1/pods", timeout=5).json()
    assert all(record["container_id"] not in json.dumps(p) for p in agent_pods)
    assert not (node2.dir / "pods" / f"{uid}.json").exists()


def test_apply_creates_then_updates_objects(lab: Lab, tmp_path: Path) -> None:
    manifest = tmp_path / "objects.yaml"
    manifest.write_text("""
apiVersion: v1
kind: Namespace
metadata: {name: applied}
---
apiVersion: v1
kind: Pod
metadata: {name: applied-echo, namespace: applied, labels: {app: echo}}
spec:
  containers: [{name: echo, image: contiv/echo, ports: [{containerPort: 9090}]}]
""")
    done = lab_cli("apply", "--dir", str(lab.dir), "-f", str(manifest))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["namespaces/applied created", "pods/applied-echo created"]

    def running() -> dict | None:
        pod = httpx.get(f"{lab.api}/api/v1/namespaces/applied/pods/applied-echo", timeout=5).json()
        return pod if (pod.get("status") or {}).get("podIP") else None
    pod = wait_for(running, 30, "the applied pod to get an IP")
    assert lab.probe(pod, pod["status"]["podIP"], port=9090)["ok"] == 1

    manifest.write_text(manifest.read_text().replace("app: echo", "app: echo2"))
    again = lab_cli("apply", "--dir", str(lab.dir), "-f", str(manifest))
    assert again.returncode == 0, again.stderr
    assert "pods/applied-echo configured" in again.stdout
    pod = httpx.get(f"{lab.api}/api/v1/namespaces/applied/pods/applied-echo", timeout=5).json()
    assert pod["metadata"]["labels"] == {"app": "echo2"}
    assert pod["spec"]["nodeName"]  # the update kept what the cluster had set


def test_status_json_lists_components_nodes_and_pods(lab: Lab) -> None:
    lab.create_pod("shown", node="node-1", echo=False)
    ip = lab.wait_running("shown")["status"]["podIP"]
    done = lab_cli("status", "--dir", str(lab.dir), "-o", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["prefix"] == lab.prefix
    assert all(c["alive"] for c in report["components"].values())
    assert [(n["name"], n["agent"]["ready"], n["kubelet"]["alive"]) for n in report["nodes"]] == [
        ("node-1", True, True), ("node-2", True, True)]
    assert {"namespace": "default", "name": "shown", "node": "node-1", "phase": "Running", "ip": ip} in report["pods"]
    table = lab_cli("status", "--dir", str(lab.dir))
    assert "shown" in table.stdout and ip in table.stdout


def test_down_after_the_lab_was_killed_leaves_nothing(tmp_path: Path) -> None:
    crashed = Lab(tmp_path / "state", nodes=1)
    try:
        state = crashed.up()
        crashed.create_pod("orphan")
        crashed.wait_running("orphan")
        records = [*state.components.values(), *(n.agent for n in state.nodes), *(n.kubelet for n in state.nodes)]
        # Only the lab's own processes die; the pod's echo server lives on in
        # its namespace, for down to find.
        for pid in {r.pid for r in records if r is not None}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not any(alive(r) for r in records if r is not None), 10, "the lab's processes to die")
        # The crash also lost the state file: down must find the rest by prefix.
        (crashed.dir / "state.json").unlink()
        assert load(crashed.dir) is None
        done = crashed.down()
        assert done.returncode == 0, done.stderr
        assert crashed.leftovers() == []
    finally:
        crashed.down()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_works_against_the_lab(lab: Lab) -> None:
    lab.create_pod("seen-by-kubectl", node="node-2", echo=False)
    ip = lab.wait_running("seen-by-kubectl")["status"]["podIP"]
    done = subprocess.run(["kubectl", "--server", lab.api, "get", "pods", "-o", "wide"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("seen-by-kubectl"))
    assert ip in line and "node-2" in line
