"""`contiv-stn`: run the Steal-The-NIC daemon, or talk to a running one."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from pydantic import ValidationError

from stn import render
from stn.client import DEFAULT_SOCKET, StnClient, StnClientError
from stn.models import DaemonConfig, StolenInterface
from stn.server import StartupError, serve

T = TypeVar("T")

_socket_option = click.option(
    "--socket", "socket_path", default=DEFAULT_SOCKET, show_default=True, envvar="CONTIV_STN_SOCKET",
    help="Unix socket of the daemon.",
)
_output_option = click.option(
    "-o", "--output", type=click.Choice(["table", "json"]), default="table", show_default=True,
    help="Output format.",
)


@click.group(help="Steal-The-NIC: hand the node's NIC to the dataplane and give it back to Linux.")
def main() -> None:
    pass


@main.command("serve", help="Run the daemon.")
@_socket_option
@click.option("--state-dir", default=DaemonConfig().state_dir, show_default=True,
              help="Directory of the saved interface records.")
@click.option("--agent-liveness", "agent_liveness_url", default=DaemonConfig().agent_liveness_url,
              show_default=True, help="Liveness URL of the node agent.")
@click.option("--grace-period", type=float, default=DaemonConfig().grace_period, show_default=True,
              help="Seconds after start and after each steal before the agent is probed.")
@click.option("--dead-after", type=float, default=DaemonConfig().dead_after, show_default=True,
              help="Seconds without a good probe after which stolen interfaces are restored.")
@click.option("--probe-interval", type=float, default=DaemonConfig().probe_interval, show_default=True,
              help="Seconds between liveness probes.")
@click.option("--netns", default=None, help="Operate on the links of this named network namespace.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
def serve_command(socket_path: str, state_dir: str, agent_liveness_url: str, grace_period: float,
                  dead_after: float, probe_interval: float, netns: str | None, log_level: str) -> None:
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = DaemonConfig(
            socket_path=socket_path, state_dir=state_dir, agent_liveness_url=agent_liveness_url,
            grace_period=grace_period, dead_after=dead_after, probe_interval=probe_interval, netns=netns,
        )
    except ValidationError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        asyncio.run(serve(config))
    except StartupError as exc:
        raise click.ClickException(f"cannot start: {exc}") from None



def _run(socket_path: str, call: Callable[[StnClient], Awaitable[T]]) -> T:
    async def go() -> T:
        async with StnClient(socket_path) as client:
            return await call(client)

    try:
        return asyncio.run(go())
    except StnClientError as exc:
        raise click.ClickException(f"{exc.details} ({exc.code.name})") from None


@main.command(help="Save IFACE's configuration and strip it from Linux.")
@click.argument("iface")
@click.option("--dhcp", is_flag=True, help="The interface's addresses come from DHCP.")
@_socket_option
@_output_option
def steal(iface: str, dhcp: bool, socket_path: str, output: str) -> None:
    record = _run(socket_path, lambda c: c.steal(iface, dhcp))
    click.echo(render.as_json(record) if output == "json" else render.detail(record))


@main.command(help="Restore IFACE's saved configuration to Linux.")
@click.argument("iface")
@_socket_option
def release(iface: str, socket_path: str) -> None:
    record = _run(socket_path, lambda c: c.release(iface))
    click.echo(f"released {iface}: restored {len(record.addresses)} addresses and {len(record.routes)} routes")


@main.command(help="Show one stolen interface, or all of them.")
@click.argument("iface", required=False)
@_socket_option
@_output_option
def show(iface: str | None, socket_path: str, output: str) -> None:
    if iface is not None:
        record: StolenInterface = _run(socket_path, lambda c: c.info(iface))
        click.echo(render.as_json(record) if output == "json" else render.detail(record))
        return
    records = _run(socket_path, lambda c: c.list())
    click.echo(render.as_json(records) if output == "json" else render.summary(records))
