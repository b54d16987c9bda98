"""Programming routes through the VPP backend, against the VPP stand-in.

    .venv/bin/python bench/vpp_routes.py [--count N] [--window W] [--rounds R]

The stand-in runs as a child process (its own CPU, as VPP would be). Each
round programs N /32 routes into a fresh VRF, through:

- the backend's RouteHandler alone, with the sync client (one call at a time
  on the connection's worker thread);
- the same with the asyncio client, one call at a time (as the engine
  drives it) and with W calls in flight;
- the transaction engine with each client (one transaction of N items).

Reported: routes/s, async over sync, and the engine's time over the
backend's alone with the same client (1.0 = no engine overhead). Rounds
alternate the variants; the median round is reported.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Stopwatch, median, print_table  # noqa: E402
from lab.vpp_standin import StandinConfig, StandinProcess  # noqa: E402
from vswitch.dataplane.vpp.connection import AsyncVppConnection, SyncVppConnection, VppConnection  # noqa: E402
from vswitch.dataplane.vpp.ifconfig import InterfaceStateHandler  # noqa: E402
from vswitch.dataplane.vpp.ifindex import InterfaceIndex  # noqa: E402
from vswitch.dataplane.vpp.interfaces import LoopbackHandler  # noqa: E402
from vswitch.dataplane.vpp.items import InterfaceState, Loopback, VppRoute, VrfTable  # noqa: E402
from vswitch.dataplane.vpp.routing import RouteHandler, TableHandler  # noqa: E402
from vswitch.engine import Engine  # noqa: E402

APIDIR = Path("/work/shared/vpp-api")
LOOP = "contiv-loop-bench"
LOOPBACK = Loopback(tag=LOOP, mac="02:00:00:00:be:01")


def routes(table_id: int, count: int) -> list[VppRoute]:
    base = int(ipaddress.IPv4Address("10.128.0.0"))
    return [VppRoute(table_id=table_id, dst=f"{ipaddress.IPv4Address(base + i)}/32", tag=LOOP) for i in range(count)]


class Target:
    """One connection with its handlers, set up for route programming."""

    def __init__(self, vpp: VppConnection) -> None:
        self.vpp = vpp
        self.ifindex = InterfaceIndex(vpp)
        self.routes = RouteHandler(vpp, self.ifindex)
        self.tables = TableHandler(vpp)

    async def prepare(self, table_id: int) -> None:
        await self.tables.create(VrfTable(table_id=table_id, name=f"contiv-bench-{table_id}"))
        await self.ifindex.index(LOOP)


async def sequential(target: Target, items: list[VppRoute]) -> None:
    for item in items:
        await target.routes.create(item)


async def windowed(target: Target, items: list[VppRoute], window: int) -> None:
    for start in range(0, len(items), window):
        await asyncio.gather(*(target.routes.create(item) for item in items[start:start + window]))


async def through_engine(target: Target, items: list[VppRoute]) -> None:
    # The table and loopback are in VPP already: the engine starts out
    # knowing them, so its one transaction holds only the routes.
    table = VrfTable(table_id=items[0].table_id, name=f"contiv-bench-{items[0].table_id}")
    engine = Engine([target.routes, target.tables, LoopbackHandler(target.vpp, target.ifindex)])
    engine.applied = {table.key(): table, LOOPBACK.key(): LOOPBACK}
    desired = {table.key(): table, LOOPBACK.key(): LOOPBACK, **{item.key(): item for item in items}}
    txn = await engine.apply(desired, cause="bench")
    if txn.failed or engine.pending:
        raise RuntimeError(f"engine left {len(engine.pending)} routes pending: {txn.failed[:1]}")


async def run(socket: Path, count: int, window: int, rounds: int) -> None:
    sync_vpp = SyncVppConnection(socket, APIDIR, client_name="bench-sync", timeout=30)
    async_vpp = AsyncVppConnection(socket, client_name="bench-async", timeout=30)
    await sync_vpp.connect()
    await async_vpp.connect()
    setup = InterfaceIndex(async_vpp)
    await LoopbackHandler(async_vpp, setup).create(LOOPBACK)
    await InterfaceStateHandler(async_vpp, setup).create(InterfaceState(tag=LOOP))
    sync_t, async_t = Target(sync_vpp), Target(async_vpp)

    variants: dict[str, Callable[[list[VppRoute]], Awaitable[None]]] = {
        "backend, sync client": lambda items: sequential(sync_t, items),
        "backend, async client": lambda items: sequential(async_t, items),
        f"backend, async client, {window} in flight": lambda items: windowed(async_t, items, window),
        "engine, sync client": lambda items: through_engine(sync_t, items),
        "engine, async client": lambda items: through_engine(async_t, items),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    table_id = 100
    for _ in range(rounds):
        for name, variant in variants.items():
            table_id += 1
            items = routes(table_id, count)
            target = async_t if "async client" in name else sync_t
            await target.prepare(table_id)
            with Stopwatch() as watch:
                await variant(items)
            times[name].append(watch.seconds)

    # The same clients on the cheapest call there is, so what the stand-in
    # spends decoding a 16-label route message is out of the picture.
    pings: dict[str, list[float]] = {"sync": [], "async": []}
    for _ in range(rounds):
        for name, target in (("sync", sync_t), ("async", async_t)):
            with Stopwatch() as watch:
                for _ in range(count):
                    await target.vpp.call("show_version")
            pings[name].append(watch.seconds)
    await sync_vpp.close()
    await async_vpp.close()

    med = {name: median(samples) for name, samples in times.items()}
    rows = [[name, f"{med[name]:.3f}", f"{count / med[name]:,.0f}"] for name in variants]
    print_table(f"{count} routes, median of {rounds} rounds (stand-in in a child process)",
                ["variant", "seconds", "routes/s"], rows)
    w = f"backend, async client, {window} in flight"
    ratios = [
        ["async / sync (backend, one at a time)", f"{med['backend, sync client'] / med['backend, async client']:.2f}x faster"],
        [f"async / sync (backend, {window} in flight)", f"{med['backend, sync client'] / med[w]:.2f}x faster"],
        ["engine / backend (sync client)", f"{med['engine, sync client'] / med['backend, sync client']:.2f}"],
        ["engine / backend (async client)", f"{med['engine, async client'] / med['backend, async client']:.2f}"],
    ]
    ping = {name: median(samples) for name, samples in pings.items()}
    ratios.append(["async / sync (show_version, one at a time)",
                   f"{ping['sync'] / ping['async']:.2f}x faster ({count / ping['sync']:,.0f} vs "
                   f"{count / ping['async']:,.0f} calls/s)"])
    print_table("ratios", ["comparison", "ratio"], ratios)


@click.command()
@click.option("--count", default=10_000, show_default=True)
@click.option("--window", default=128, show_default=True, help="async calls in flight")
@click.option("--rounds", default=3, show_default=True)
def main(count: int, window: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-vpp-", dir="/tmp") as tmp:
        socket = Path(tmp) / "api.sock"
        with StandinProcess(socket, APIDIR, StandinConfig(vhost_net=False)):
            asyncio.run(run(socket, count, window, rounds))


if __name__ == "__main__":
    main()
