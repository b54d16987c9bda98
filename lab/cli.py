"""`contiv-lab`: the single-machine lab.

`demo` is the README's main job. Until the lab can run nodes, it exercises
what exists for real: an etcd server, the data contract and the kvstore layer.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import click

from kvstore import EtcdConfig, KVStore, mark_and_sweep
from lab.apiserver.cli import apiserver
from lab.etcd import EtcdServer
from model import NODE_RECORD, POD, KeySpace, NodeRecord, Pod


@click.group(help="Single-machine lab: etcd, the Kubernetes API stand-in, the KSR, and nodes as network namespaces.")
def main() -> None:
    pass


main.add_command(apiserver)


@main.command(help="Start a private etcd, store node and pod records through kvstore, watch them, sweep, stop.")
def demo() -> None:
    with tempfile.TemporaryDirectory(prefix="contiv-lab-") as tmp:
        server = EtcdServer(Path(tmp) / "etcd")
        server.start()
        click.echo(f"etcd running at {server.endpoint}")
        try:
            asyncio.run(_demo(server.endpoint))
        finally:
            server.stop()
            click.echo("etcd stopped")


async def _demo(endpoint: str) -> None:
    keys = KeySpace()
    async with KVStore(EtcdConfig(endpoints=[endpoint])) as store:
        start = await store.revision() + 1
        for node_id, name in ((1, "node-a"), (2, "node-b")):
            claimed = await store.create_if_absent(
                keys.key(NODE_RECORD, node_id),
                NodeRecord(id=node_id, name=name, node_ip=f"192.168.16.{node_id}/24",
                           vxlan_ip=f"192.168.30.{node_id}"))
            click.echo(f"node {name} claimed ID {node_id}: {claimed.succeeded}")
        desired = {keys.key(POD, "default", f"web-{i}"): Pod(namespace="default", name=f"web-{i}",
                                                              pod_ips=(f"10.1.1.{i + 2}",)) for i in range(3)}
        result = await mark_and_sweep(store, keys.kind_prefix(POD), desired)
        click.echo(f"pods swept in: {result.put} put, {result.deleted} deleted, {result.unchanged} unchanged")
        seen = 0
        async for event in store.watch_prefix(keys.prefix + "/", start):
            parsed = keys.parse(event.key)
            click.echo(f"  watch: rev {event.mod_revision} {parsed.kind.name if parsed else '?'} {event.key}")
            seen += 1
            if seen == 5:
                break
        again = await mark_and_sweep(store, keys.kind_prefix(POD), desired)
        click.echo(f"second sweep changed nothing: {not again.changed}")
