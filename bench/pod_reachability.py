"""Time from pod creation in the API to cross-node reachability, in the lab.

    .venv/bin/python bench/pod_reachability.py [--pods 50]     (as root)

A 2-node lab; a prober pod on node-1 holds a process that, given a pod IP,
retries a TCP connect every 5 ms until the pod's echo server answers. Each
echo pod is created on node-2 through the API, one at a time; the clock runs
from the create call to the first successful connection (and, separately,
to the pod IP appearing in the pod's status). p50 and p99 over all pods.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kubernetes import client as k8s

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile, print_table  # noqa: E402
from lab import netns as labns  # noqa: E402
from lab.state import load  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PROBER = """
import socket, sys, time
for line in sys.stdin:
    ip, port = line.split()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((ip, int(port)), timeout=0.2) as s:
                s.sendall(b"x\\n")
                if s.recv(2):
                    break
        except OSError:
            time.sleep(0.005)
    print(time.monotonic(), flush=True)
"""


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {what}")


def pod(name: str, node: str, echo: bool) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "contiv/echo" if echo else "busybox"}]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=50)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the lab creates network namespaces")
    directory = Path(tempfile.mkdtemp(prefix="bench-reach-"))
    prefix = f"bpr{secrets.token_hex(2)}"
    lab = [str(VENV_BIN / "contiv-lab")]
    subprocess.run([*lab, "up", "--nodes", "2", "--dir", str(directory), "--prefix", prefix,
                    "--underlay", "10.251.249.0/24"], check=True, stdout=subprocess.DEVNULL)
    prober = None
    try:
        state = load(directory)
        config = k8s.Configuration()
        config.host = state.api_url
        core = k8s.CoreV1Api(k8s.ApiClient(config))
        core.create_namespaced_pod("default", pod("prober", "node-1", echo=False))
        wait(lambda: core.read_namespaced_pod("prober", "default").status.phase == "Running", 60, "the prober pod")
        netns = wait(lambda: labns.list_netns(f"{prefix}-default-prober-"), 10, "the prober's netns")[0]
        prober = subprocess.Popen(labns.exec_in(netns, sys.executable, "-c", PROBER), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        to_ip, to_reach = [], []
        for i in range(args.pods):
            name = f"echo-{i}"
            started = time.monotonic()
            core.create_namespaced_pod("default", pod(name, "node-2", echo=True))
            ip = wait(lambda: core.read_namespaced_pod(name, "default").status.pod_ip, 60, f"{name}'s IP")
            to_ip.append(time.monotonic() - started)
            assert prober.stdin is not None and prober.stdout is not None
            prober.stdin.write(f"{ip} 8080\n")
            prober.stdin.flush()
            to_reach.append(float(prober.stdout.readline()) - started)
        rows = [[what, f"{percentile(s, 50) * 1e3:.0f}", f"{percentile(s, 99) * 1e3:.0f}"]
                for what, s in (("create -> podIP in status", to_ip), ("create -> reachable from node-1", to_reach))]
        print_table(f"{args.pods} pods created on node-2, probed from a pod on node-1 (ms)", ["", "p50", "p99"], rows)
    finally:
        if prober is not None:
            prober.kill()
        subprocess.run([*lab, "down", "--dir", str(directory), "--prefix", prefix], stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
