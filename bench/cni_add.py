"""CNI ADD/DEL latency through the real executable, against Debian's
reference `bridge` + `host-local` plugins, in the same run.

    .venv/bin/python bench/cni_add.py [--pods 100] [--startup-runs 15]     (as root)

Three parts, each as a ratio:
  start-up   contiv-cni exec to its request reaching an agent, against the
             floor (interpreter + `import grpc`), from bench/cni_startup.py
  agent      the agent's own work per request (received to reply sent, as the
             agent reports it), against the reference plugins' whole ADD/DEL
  whole      contiv-cni exec to exit, against the reference plugins' whole
for 100 pods one at a time and 10 at a time, plus agent throughput (pods/s)
at 10-way against 1-way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median, percentile, print_table  # noqa: E402
from cni.api import cni_pb2, cni_pb2_grpc  # noqa: E402
from lab import netns as labns  # noqa: E402
from lab.etcd import EtcdServer  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PLUGIN = str(VENV_BIN / "contiv-cni")
REFERENCE_DIR = Path("/usr/lib/cni")
NODE = "bcni-node"
HOST_LINK = "bcni-h"


class Bench:
    def __init__(self, tmp: Path, pods: int) -> None:
        self.tmp = tmp
        self.pods = pods
        self.etcd: EtcdServer | None = None
        self.agent: subprocess.Popen | None = None
        self.socket = tmp / "cni.sock"
        self.netns: list[str] = []

    def setup(self) -> None:
        labns.add_netns(NODE)
        labns.link_to_host(NODE, HOST_LINK, "10.253.0.1/30", "10.253.0.2/30", "10.253.0.1")
        self.etcd = EtcdServer(self.tmp / "etcd", host="10.253.0.1")
        self.etcd.start()
        log = open(self.tmp / "agent.log", "ab")
        self.agent = subprocess.Popen(
            labns.exec_in(NODE, str(VENV_BIN / "contiv-agent"), "--node", "bench", "--etcd-endpoints",
                          self.etcd.endpoint, "--cni-socket", str(self.socket), "--state-dir", str(self.tmp / "state"),
                          "--rest-address", "10.253.0.2:9999", "--log-level", "warning"),
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        stub = cni_pb2_grpc.RemoteCNIStub(grpc.insecure_channel(f"unix:{self.socket}"))
        while time.monotonic() < deadline:
            try:
                if stub.Status(cni_pb2.StatusRequest(), timeout=1).ready:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
        raise SystemExit("the agent did not become ready")

    def teardown(self) -> None:
        if self.agent is not None:
            self.agent.send_signal(signal.SIGKILL)
            self.agent.wait()
        for name in self.netns:
            labns.delete_netns(name)
        labns.delete_netns(NODE)
        labns.ip("link", "del", HOST_LINK, check=False)
        labns.ip("link", "del", "bcni-br0", check=False)
        if self.etcd is not None:
            self.etcd.stop(kill=True)

    def fresh_netns(self, tag: str) -> list[str]:
        names = [f"bcni-{tag}-{i}" for i in range(self.pods)]
        for name in names:
            labns.add_netns(name)
        self.netns.extend(names)
        return names

    def drop_netns(self, names: list[str]) -> None:
        for name in names:
            labns.delete_netns(name)
            self.netns.remove(name)


def exec_plugin(argv: list[str], command: str, container: str, netns: str, config: dict, extra_path: str = "") -> float:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CNI_COMMAND": command, "CNI_CONTAINERID": container,
           "CNI_NETNS": f"/var/run/netns/{netns}", "CNI_IFNAME": "eth0", "CNI_PATH": extra_path or str(REFERENCE_DIR),
           "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME={container}"}
    started = time.perf_counter()
    done = subprocess.run(argv, input=json.dumps(config).encode(), env=env, capture_output=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} {command} failed ({done.returncode}): {done.stdout!r} {done.stderr!r}")
    return seconds


def run_phase(bench: Bench, argv: list[str], config: dict, tag: str, parallel: int) -> dict[str, list[float]]:
    names = bench.fresh_netns(tag)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        started = time.perf_counter()
        adds = list(pool.map(lambda n: exec_plugin(argv, "ADD", n, n, config), names))
        add_wall = time.perf_counter() - started
        dels = list(pool.map(lambda n: exec_plugin(argv, "DEL", n, n, config), names))
    bench.drop_netns(names)
    return {"ADD": adds, "DEL": dels, "rate": [len(names) / add_wall]}


def agent_phase(bench: Bench, tag: str, parallel: int) -> dict[str, list[float]]:
    """The agent's own time per request, as it reports it (agent_micros)."""
    names = bench.fresh_netns(tag)
    stub = cni_pb2_grpc.RemoteCNIStub(grpc.insecure_channel(f"unix:{bench.socket}"))

    def call(method: str, name: str) -> float:
        reply = getattr(stub, method)(cni_pb2.CNIRequest(container_id=name, netns=f"/var/run/netns/{name}",
                                                         ifname="eth0", pod_namespace="bench", pod_name=name))
        if reply.error_code:
            raise SystemExit(f"agent {method} failed: {reply.error_msg}")
        return reply.agent_micros / 1e6

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        started = time.perf_counter()
        adds = list(pool.map(lambda n: call("Add", n), names))
        rate = len(names) / (time.perf_counter() - started)
        dels = list(pool.map(lambda n: call("Delete", n), names))
    bench.drop_netns(names)
    return {"ADD": adds, "DEL": dels, "rate": [rate]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--startup-runs", type=int, default=15)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the benchmark creates network namespaces")
    if not (REFERENCE_DIR / "bridge").exists():
        raise SystemExit("install containernetworking-plugins for the reference bridge/host-local plugins")

    tmp = Path(tempfile.mkdtemp(prefix="bench-cni-"))
    ours_config = {"cniVersion": "1.1.0", "name": "contiv", "type": "contiv-cni", "agentSocket": str(tmp / "cni.sock")}
    reference_config = {"cniVersion": "1.0.0", "name": "reference", "type": "bridge", "bridge": "bcni-br0",
                        "isGateway": True, "ipMasq": False,
                        "ipam": {"type": "host-local", "subnet": "10.254.0.0/16", "dataDir": str(tmp / "host-local")}}
    bench = Bench(tmp, args.pods)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        bench.setup()
        for parallel in (1, 10):
            results[f"reference x{parallel}"] = run_phase(bench, [str(REFERENCE_DIR / "bridge")], reference_config,
                                                          f"r{parallel}", parallel)
            results[f"contiv whole x{parallel}"] = run_phase(bench, [PLUGIN], ours_config, f"c{parallel}", parallel)
            results[f"contiv agent x{parallel}"] = agent_phase(bench, f"a{parallel}", parallel)
    finally:
        bench.teardown()
        shutil.rmtree(tmp, ignore_errors=True)

    from bench.cni_startup import InstantAgent, measure
    from concurrent import futures
    startup_dir = Path(tempfile.mkdtemp(prefix="bench-cni-start-"))
    instant = InstantAgent()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    cni_pb2_grpc.add_RemoteCNIServicer_to_server(instant, server)
    server.add_insecure_port(f"unix:{startup_dir / 'cni.sock'}")
    server.start()
    try:
        startup = measure(args.startup_runs, str(startup_dir / "cni.sock"), instant)
    finally:
        server.stop(grace=None).wait(timeout=10)
        shutil.rmtree(startup_dir, ignore_errors=True)

    rows = []
    for parallel in (1, 10):
        reference = results[f"reference x{parallel}"]
        for command in ("ADD", "DEL"):
            ref50 = median(reference[command])
            for part in ("whole", "agent"):
                values = results[f"contiv {part} x{parallel}"][command]
                rows.append([f"{command} x{parallel}", part, f"{median(values) * 1e3:.1f}",
                             f"{percentile(values, 99) * 1e3:.1f}", f"{ref50 * 1e3:.1f}",
                             f"{percentile(reference[command], 99) * 1e3:.1f}", f"{median(values) / ref50:.2f}"])
    print_table(f"{args.pods} pods; times in ms; ratio = contiv p50 / reference bridge+host-local p50",
                ["op", "part", "p50", "p99", "ref p50", "ref p99", "ratio"], rows)

    start_ratio = median(startup["ADD -> agent"]) / median(startup["floor ready"])
    print_table("plugin start-up (exec to request at the agent) against its floor (python + import grpc)",
                ["case", "p50 ms", "floor p50 ms", "ratio"],
                [["ADD -> agent", f"{median(startup['ADD -> agent']) * 1e3:.1f}",
                  f"{median(startup['floor ready']) * 1e3:.1f}", f"{start_ratio:.2f}"]])

    agent1, agent10 = results["contiv agent x1"]["rate"][0], results["contiv agent x10"]["rate"][0]
    whole1, whole10 = results["contiv whole x1"]["rate"][0], results["contiv whole x10"]["rate"][0]
    print_table("ADD throughput, pods/s", ["path", "1-way", "10-way", "10-way / 1-way"],
                [["agent (gRPC)", f"{agent1:.0f}", f"{agent10:.0f}", f"{agent10 / agent1:.2f}"],
                 ["whole (executable)", f"{whole1:.0f}", f"{whole10:.0f}", f"{whole10 / whole1:.2f}"]])
    agent_ratio = median(results["contiv agent x1"]["ADD"]) / median(results["reference x1"]["ADD"])
    print(f"\ntargets: agent ADD work within 1.5x of the reference's whole ADD: {agent_ratio:.2f}; "
          f"start-up within 1.2x of its floor: {start_ratio:.2f}; 10-way throughput not below 1-way: "
          f"{agent10 / agent1:.2f}")


if __name__ == "__main__":
    main()
