"""`python -m lab.vpp_standin --socket PATH --apidir DIR`: run the stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import click

from .config import StandinConfig
from .control import ControlServer
from .server import VppStandin

_VHOST_CHOICES = {"auto": None, "yes": True, "no": False}


async def run_standin(socket_path: Path, apidir: Path, config: StandinConfig, control_path: Path | None) -> None:
    standin = VppStandin(socket_path, apidir, config=config)
    await standin.start()
    control = ControlServer(standin, control_path) if control_path else None
    if control is not None:
        await control.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        if control is not None:
            await control.stop()
        await standin.stop()


@click.command(help="Serve VPP's binary API on a unix socket from an in-memory dataplane model.")
@click.option("--socket", "socket_path", required=True, type=click.Path(path_type=Path), help="API socket to listen on.")
@click.option(
    "--apidir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of VPP .api.json files (searched recursively).",
)
@click.option("--control", "control_path", type=click.Path(path_type=Path), default=None, help="JSON-lines control socket for tests.")
@click.option(
    "--vhost-net",
    type=click.Choice(sorted(_VHOST_CHOICES)),
    default="auto",
    show_default=True,
    help="Whether tap_create_v3 finds /dev/vhost-net; auto looks at this host.",
)
@click.option("--check-host-interfaces", is_flag=True, help="af_packet_create_v3 fails (-71) for host interfaces that do not exist.")
@click.option("--check-host-namespaces", is_flag=True, help="tap_create_v3 fails (-12) for netns that do not exist.")
@click.option("--special-routes/--no-special-routes", default=True, show_default=True, help="Dump VPP's own FIB entries too.")
@click.option("--log-level", default="WARNING", show_default=True)
def main(
    socket_path: Path,
    apidir: Path,
    control_path: Path | None,
    vhost_net: str,
    check_host_interfaces: bool,
    check_host_namespaces: bool,
    special_routes: bool,
    log_level: str,
) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = StandinConfig(
        vhost_net=_VHOST_CHOICES[vhost_net],
        check_host_interfaces=check_host_interfaces,
        check_host_namespaces=check_host_namespaces,
        special_routes=special_routes,
    )
    asyncio.run(run_standin(socket_path, apidir, config, control_path))
