"""Puts of model values through kvstore against raw aetcd, in the same run.

    .venv/bin/python bench/kvstore_puts.py [--count N] [--batch B] [--rounds R]

Both sides write the same pre-encoded Pod values to a private etcd, first one
put at a time, then B puts per transaction. The ratio is kvstore's time over
aetcd's (1.0 = no overhead; lower is faster). Rounds alternate the two sides
so a noisy neighbour hurts both alike; the median round is reported.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aetcd
import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Stopwatch, median, print_table, private_etcd  # noqa: E402
from kvstore import EtcdConfig, KVStore, Op  # noqa: E402
from model import ContainerPort, Pod  # noqa: E402


def make_pods(count: int) -> list[Pod]:
    return [Pod(namespace="bench", name=f"pod-{i}", uid=f"uid-{i}", labels={"app": f"a{i % 10}"}, node_name="n1",
                pod_ips=(f"10.1.{i // 250}.{i % 250 + 2}",), phase="Running",
                container_ports=(ContainerPort(name="http", container_port=8080),)) for i in range(count)]


async def kvstore_sequential(store: KVStore, prefix: str, pods: list[Pod]) -> None:
    for pod in pods:
        await store.put(f"{prefix}/{pod.name}", pod)


async def kvstore_batched(store: KVStore, prefix: str, pods: list[Pod], batch: int) -> None:
    for start in range(0, len(pods), batch):
        await store.txn([], [Op.put(f"{prefix}/{p.name}", p) for p in pods[start:start + batch]])


async def aetcd_sequential(client: aetcd.Client, prefix: str, pods: list[Pod]) -> None:
    for pod in pods:
        await client.put(f"{prefix}/{pod.name}".encode(), pod.to_json())


async def aetcd_batched(client: aetcd.Client, prefix: str, pods: list[Pod], batch: int) -> None:
    for start in range(0, len(pods), batch):
        ops = [client.transactions.put(f"{prefix}/{p.name}".encode(), p.to_json()) for p in pods[start:start + batch]]
        await client.transaction(compare=[], success=ops, failure=[])


async def run(count: int, batch: int, rounds: int) -> None:
    pods = make_pods(count)
    with private_etcd() as server:
        host, port = server.endpoint.rsplit(":", 1)
        async with KVStore(EtcdConfig(endpoints=[server.endpoint])) as store, \
                aetcd.Client(host=host, port=int(port)) as client:
            times: dict[str, list[float]] = {k: [] for k in ("kv-seq", "raw-seq", "kv-batch", "raw-batch")}
            for r in range(rounds):
                for name, job in (
                    ("raw-seq", lambda: aetcd_sequential(client, f"/raw/{r}", pods)),
                    ("kv-seq", lambda: kvstore_sequential(store, f"/kv/{r}", pods)),
                    ("raw-batch", lambda: aetcd_batched(client, f"/rawb/{r}", pods, batch)),
                    ("kv-batch", lambda: kvstore_batched(store, f"/kvb/{r}", pods, batch)),
                ):
                    with Stopwatch() as sw:
                        await job()
                    times[name].append(sw.seconds)
    rows = []
    for mode, ours, raw in (("sequential", "kv-seq", "raw-seq"), (f"batched x{batch}", "kv-batch", "raw-batch")):
        t_ours, t_raw = median(times[ours]), median(times[raw])
        rows.append([mode, f"{count / t_ours:,.0f}", f"{count / t_raw:,.0f}", f"{t_ours / t_raw:.2f}"])
    print_table(f"{count} Pod puts, median of {rounds} rounds", ["mode", "kvstore puts/s", "aetcd puts/s",
                                                                "time ratio kvstore/aetcd"], rows)


@click.command()
@click.option("--count", default=2000, show_default=True)
@click.option("--batch", default=100, show_default=True)
@click.option("--rounds", default=3, show_default=True)
def main(count: int, batch: int, rounds: int) -> None:
    asyncio.run(run(count, batch, rounds))


if __name__ == "__main__":
    main()
