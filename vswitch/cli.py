"""`contiv-agent`: the node agent."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from kvstore import EtcdUnavailable
from vswitch.config import ConfigError, load_config


@click.command(help="Node agent: serves CNI requests, watches etcd and programs the node's dataplane.")
@click.option("--node", "node_name", help="This node's name (as in Kubernetes).")
@click.option("--etcd-endpoints", help="Comma-separated etcd host:port list.")
@click.option("--dataplane", type=click.Choice(["linux", "vpp"]), help="Dataplane backend.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML configuration file.")
@click.option("--cni-socket", type=click.Path(path_type=Path), help="Unix socket of the CNI gRPC server.")
@click.option("--rest-address", help="host:port of the REST API.")
@click.option("--state-dir", type=click.Path(path_type=Path), help="Directory of the agent's durable state.")
@click.option("--prefix", help="etcd key prefix.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
def main(node_name: str | None, etcd_endpoints: str | None, dataplane: str | None, config_file: Path | None,
         cni_socket: Path | None, rest_address: str | None, state_dir: Path | None, prefix: str | None,
         log_level: str) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {"node_name": node_name, "dataplane": dataplane, "cni_socket": cni_socket,
                 "rest_address": rest_address, "state_dir": state_dir, "prefix": prefix,
                 "etcd": {"endpoints": etcd_endpoints} if etcd_endpoints else None}
    try:
        config = load_config(config_file, overrides)
    except ConfigError as exc:
        click.echo(f"contiv-agent: {exc}", err=True)
        sys.exit(2)
    from stn.client import StnClientError
    from vswitch.agent import run_agent
    from vswitch.dataplane.vpp.connection import VppUnavailable
    from vswitch.dataplane.vpp.supervisor import VppStartFailed
    from vswitch.uplink import StealFailed
    from vswitch.vpp_runtime import VppGone
    try:
        asyncio.run(run_agent(config))
    except (EtcdUnavailable, VppUnavailable, VppStartFailed, VppGone, StealFailed, StnClientError) as exc:
        click.echo(f"contiv-agent: {exc}", err=True)
        sys.exit(1)
