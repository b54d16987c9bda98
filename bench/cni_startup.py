"""Start-up of the `contiv-cni` executable against its floor, in the same run.

    .venv/bin/python bench/cni_startup.py [--runs N]

Cases, each executed N times, interleaved so a noisy neighbour hurts all alike:
  bare          python -I -S -c pass     (the interpreter alone)
  floor total   python -c "import grpc"  (interpreter + site + gRPC, exec to exit)
  floor ready   the same, exec to the first byte it writes after the import;
                interpreter teardown (~25 ms once grpc is loaded) is excluded
  VERSION       contiv-cni, CNI_COMMAND=VERSION (must not import grpc at all)
  STATUS, ADD   contiv-cni against an in-process fake agent that answers at
                once: exec to the agent receiving the request ("-> agent"),
                and exec to exit ("total")
Each "-> agent" time is compared with "floor ready" and each "total" with
"floor total", so both sides of a ratio include the same phases. The target
is 1.2x.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median, percentile, print_table  # noqa: E402
from cni.api import cni_pb2, cni_pb2_grpc  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PYTHON = str(VENV_BIN / "python")
PLUGIN = str(VENV_BIN / "contiv-cni")


class InstantAgent(cni_pb2_grpc.RemoteCNIServicer):
    """Answers at once and reports when each request arrived."""

    def __init__(self) -> None:
        self.arrivals: queue.Queue[float] = queue.Queue()

    def Status(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 - gRPC method name
        self.arrivals.put(time.perf_counter())
        return cni_pb2.StatusReply(ready=True)

    def Add(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.arrivals.put(time.perf_counter())
        return cni_pb2.CNIReply(
            interfaces=[cni_pb2.Interface(name=request.ifname, mac="02:fe:00:00:00:02", sandbox=request.netns)],
            ips=[cni_pb2.IPConfig(address="10.1.1.2/32", gateway="10.1.1.1", interface=0)],
            routes=[cni_pb2.Route(dst="0.0.0.0/0", gw="10.1.1.1")],
        )


def timed_run(argv: list[str], env: dict[str, str], stdin: bytes) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed ({proc.returncode}): {proc.stdout!r} {proc.stderr!r}")
    return seconds


def first_byte_run(argv: list[str], env: dict[str, str]) -> float:
    """Exec to the first byte the child writes on stdout."""
    started = time.perf_counter()
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        first = proc.stdout.read(1)
        seconds = time.perf_counter() - started
        proc.communicate()
    if proc.returncode != 0 or not first:
        raise SystemExit(f"{argv} failed ({proc.returncode})")
    return seconds


def agent_run(agent: InstantAgent, env: dict[str, str], stdin: bytes) -> tuple[float, float]:
    """(exec -> request at the agent, exec -> exit) for one plugin run."""
    started = time.perf_counter()
    proc = subprocess.run([PLUGIN], input=stdin, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    total = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"contiv-cni failed ({proc.returncode}): {proc.stdout!r}")
    arrived = agent.arrivals.get(timeout=10)
    return arrived - started, total


def measure(runs: int, socket_path: str, agent: InstantAgent) -> dict[str, list[float]]:
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    config = json.dumps({"cniVersion": "1.1.0", "name": "bench-net", "type": "contiv-cni",
                         "agentSocket": socket_path}).encode()
    add_env = {**base_env, "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "bench0001", "CNI_NETNS": "/var/run/netns/b",
               "CNI_IFNAME": "eth0", "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=bench;K8S_POD_UID=u1"}
    samples: dict[str, list[float]] = {k: [] for k in (
        "bare", "floor total", "floor ready", "VERSION", "STATUS -> agent", "STATUS total",
        "ADD -> agent", "ADD total")}
    for _ in range(runs):
        samples["bare"].append(timed_run([PYTHON, "-I", "-S", "-c", "pass"], base_env, b""))
        samples["floor total"].append(timed_run([PYTHON, "-c", "import grpc"], base_env, b""))
        samples["floor ready"].append(first_byte_run(
            [PYTHON, "-c", "import grpc, sys; sys.stdout.write('.'); sys.stdout.flush()"], base_env))
        samples["VERSION"].append(timed_run([PLUGIN], {**base_env, "CNI_COMMAND": "VERSION"},
                                            b'{"cniVersion": "1.1.0"}'))
        to_agent, total = agent_run(agent, {**base_env, "CNI_COMMAND": "STATUS"}, config)
        samples["STATUS -> agent"].append(to_agent)
        samples["STATUS total"].append(total)
        to_agent, total = agent_run(agent, add_env, config)
        samples["ADD -> agent"].append(to_agent)
        samples["ADD total"].append(total)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="executions per case (default 30)")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="cni-bench-", dir="/tmp")
    socket_path = str(Path(workdir) / "cni.sock")
    agent = InstantAgent()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    cni_pb2_grpc.add_RemoteCNIServicer_to_server(agent, server)
    server.add_insecure_port("unix:" + socket_path)
    server.start()
    try:
        samples = measure(args.runs, socket_path, agent)
    finally:
        server.stop(grace=None).wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    total_floor = median(samples["floor total"])
    ready_floor = median(samples["floor ready"])
    rows = []
    for name, values in samples.items():
        floor, floor_name = (ready_floor, "floor ready") if "->" in name or name == "floor ready" \
            else (total_floor, "floor total")
        rows.append([name, f"{median(values) * 1000:.1f}", f"{percentile(values, 90) * 1000:.1f}",
                     f"{median(values) / floor:.2f}", floor_name])
    print_table(f"contiv-cni start-up, {args.runs} runs per case (ms; ratio = median / its floor's median)",
                ["case", "median", "p90", "ratio", "against"], rows)
    print("\ntarget: every STATUS and ADD ratio within 1.20")


if __name__ == "__main__":
    main()
