"""Initial sync of a KSR through the Kubernetes API stand-in, against raw puts.

    .venv/bin/python bench/ksr_initial_sync.py [--pods N] [--services S] [--rounds R]

Creates N pods, S services and S EndpointSlices (5 endpoints each) in the
stand-in (its own etcd), then, per round, starts a `contiv-ksr` process
against an empty prefix of a second etcd and times it from process start to
ready (leader, every kind listed and swept into etcd). The reference is the
same run's raw batched kvstore puts of exactly the values that KSR wrote
(read back from etcd), 127 per transaction, as the KSR's sweep batches them.
The ratio is KSR time over raw-put time (lower is better; it includes
listing, JSON decoding and projecting every object, and the process start).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Stopwatch, median, print_table, private_etcd  # noqa: E402
from kvstore import EtcdConfig, KVStore, Op  # noqa: E402
from kvstore.sweep import MAX_TXN_OPS  # noqa: E402
from lab.apiserver.testing import ApiServerProcess  # noqa: E402
from lab.etcd import free_port  # noqa: E402

NAMESPACES = 20
CONCURRENCY = 32
KSR = Path(sys.executable).parent / "contiv-ksr"


def pod(i: int) -> tuple[str, dict]:
    ns = f"ns-{i % NAMESPACES}"
    return f"/api/v1/namespaces/{ns}/pods", {
        "metadata": {"name": f"pod-{i}", "labels": {"app": f"app-{i % 2000}", "tier": "web"},
                     "annotations": {"contivpp.io/custom-if": "memif1"}},
        "spec": {"nodeName": f"node-{i % 50}",
                 "containers": [{"name": "app", "image": "nginx",
                                 "ports": [{"name": "http", "containerPort": 8080}]}]}}


def service(i: int) -> tuple[str, dict]:
    ns = f"ns-{i % NAMESPACES}"
    return f"/api/v1/namespaces/{ns}/services", {
        "metadata": {"name": f"svc-{i}"},
        "spec": {"selector": {"app": f"app-{i}"},
                 "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}


def endpoint_slice(i: int) -> tuple[str, dict]:
    ns = f"ns-{i % NAMESPACES}"
    return f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", {
        "metadata": {"name": f"svc-{i}-abcde", "labels": {"kubernetes.io/service-name": f"svc-{i}"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [f"10.1.{(i * 5 + k) // 250 % 256}.{(i * 5 + k) % 250 + 2}"],
                       "conditions": {"ready": True}, "nodeName": f"node-{k}",
                       "targetRef": {"kind": "Pod", "namespace": ns, "name": f"pod-{i * 5 + k}"}}
                      for k in range(5)],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


async def populate(api_url: str, pods: int, services: int) -> float:
    """Create everything through the API (not timed against the KSR)."""
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=api_url, timeout=60.0,
                                 limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
        async def post(path: str, body: dict) -> None:
            reply = await client.post(path, json=body)
            if reply.status_code >= 300:
                raise RuntimeError(f"POST {path}: {reply.status_code} {reply.text[:300]}")

        async def run_all(jobs: list[tuple[str, dict]]) -> None:
            queue = list(reversed(jobs))

            async def worker() -> None:
                while queue:
                    await post(*queue.pop())

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

        await run_all([("/api/v1/namespaces", {"metadata": {"name": f"ns-{n}"}}) for n in range(NAMESPACES)])
        await run_all([pod(i) for i in range(pods)] + [service(i) for i in range(services)]
                      + [endpoint_slice(i) for i in range(services)])
    return time.perf_counter() - started


async def time_ksr(api_url: str, etcd_endpoint: str, prefix: str, log_file: Path) -> tuple[float, float]:
    """Seconds from process start to ready, and from first /healthz answer to ready."""
    port = free_port()
    command = [str(KSR), "--server", api_url, "--etcd-endpoints", etcd_endpoint, "--prefix", prefix,
               "--metrics-port", str(port), "--metrics-address", "127.0.0.1", "--identity", "bench",
               "--log-level", "warning"]
    started = time.perf_counter()
    with open(log_file, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    serving = None
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"contiv-ksr exited with {process.returncode}; see {log_file}")
                try:
                    reply = await client.get(f"http://127.0.0.1:{port}/readyz")
                    serving = serving or time.perf_counter()
                    body = reply.json()
                    if body["role"] == "leader" and body["ready"]:
                        done = time.perf_counter()
                        return done - started, done - serving
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.01)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def raw_puts(store: KVStore, values: dict[str, bytes], prefix: str) -> float:
    items = [(prefix + key, value) for key, value in values.items()]
    batch = MAX_TXN_OPS - 1
    with Stopwatch() as sw:
        for start in range(0, len(items), batch):
            await store.txn([], [Op.put(k, v) for k, v in items[start:start + batch]])
    return sw.seconds


async def run(pods: int, services: int, rounds: int) -> None:
    objects = pods + 2 * services
    with private_etcd() as api_etcd, private_etcd() as ksr_etcd, \
            tempfile.TemporaryDirectory(prefix="bench-ksr-") as tmp, \
            ApiServerProcess(api_etcd.endpoint, log_file=Path(tmp) / "apiserver.log") as api:
        took = await populate(api.url, pods, services)
        print(f"created {objects} objects through the stand-in in {took:.1f}s ({objects / took:,.0f}/s)")
        ksr_total: list[float] = []
        ksr_ready: list[float] = []
        raw: list[float] = []
        async with KVStore(EtcdConfig(endpoints=[ksr_etcd.endpoint])) as store:
            for r in range(rounds):
                prefix = f"/bench-{r}"
                total, after_start = await time_ksr(api.url, ksr_etcd.endpoint, prefix, Path(tmp) / "ksr.log")
                ksr_total.append(total)
                ksr_ready.append(after_start)
                written = {kv.key[len(prefix):]: kv.value
                           for kv in (await store.range_raw(f"{prefix}/k8s/")).kvs}
                # One slice per service merges into one Endpoints key; namespaces come on top.
                if len(written) < objects:
                    raise RuntimeError(f"the KSR wrote {len(written)} keys, expected at least {objects}")
                raw.append(await raw_puts(store, written, f"/raw-{r}"))
    t_total, t_ready, t_raw = median(ksr_total), median(ksr_ready), median(raw)
    keys = len(written)
    print_table(
        f"KSR initial sync: {pods} pods, {services} services, {services} EndpointSlices; median of {rounds} rounds",
        ["measure", "seconds", "objects/s", "ratio to raw puts"],
        [["KSR, process start to ready", f"{t_total:.2f}", f"{objects / t_total:,.0f}", f"{t_total / t_raw:.2f}"],
         ["KSR, HTTP up to ready", f"{t_ready:.2f}", f"{objects / t_ready:,.0f}", f"{t_ready / t_raw:.2f}"],
         [f"raw kvstore puts of the same {keys} values", f"{t_raw:.2f}", f"{keys / t_raw:,.0f} keys/s", "1.00"]])


@click.command()
@click.option("--pods", default=10_000, show_default=True)
@click.option("--services", default=2_000, show_default=True)
@click.option("--rounds", default=3, show_default=True)
def main(pods: int, services: int, rounds: int) -> None:
    asyncio.run(run(pods, services, rounds))


if __name__ == "__main__":
    main()
