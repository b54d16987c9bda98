"""`contiv-lab apiserver`: the Kubernetes API stand-in as a process."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from kvstore import EtcdConfig
from lab.apiserver.allocator import SERVICE_CIDR
from lab.apiserver.server import ApiServer


@click.command(help="Serve a Kubernetes API stand-in (core/v1, discovery, networking, CRDs) over etcd.")
@click.option("--port", type=int, default=6443, show_default=True, help="HTTP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--etcd-endpoints", default="127.0.0.1:2379", show_default=True, help="host:port[,host:port...]")
@click.option("--etcd-ca-file", type=click.Path(path_type=Path, exists=True), default=None)
@click.option("--etcd-cert-file", type=click.Path(path_type=Path, exists=True), default=None)
@click.option("--etcd-key-file", type=click.Path(path_type=Path, exists=True), default=None)
@click.option("--prefix", default="/registry", show_default=True, help="etcd key prefix of every object.")
@click.option("--bookmark-interval", type=float, default=1.0, show_default=True,
              help="Seconds between BOOKMARK events on watches that allow them.")
@click.option("--min-request-timeout", type=float, default=1800.0, show_default=True,
              help="A watch without timeoutSeconds ends after this many to twice as many seconds.")
@click.option("--service-cluster-ip-range", default=SERVICE_CIDR, show_default=True)
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
def apiserver(port: int, host: str, etcd_endpoints: str, etcd_ca_file: Path | None, etcd_cert_file: Path | None,
              etcd_key_file: Path | None, prefix: str, bookmark_interval: float, min_request_timeout: float,
              service_cluster_ip_range: str, log_level: str) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    etcd = EtcdConfig(endpoints=etcd_endpoints, ca_file=etcd_ca_file, cert_file=etcd_cert_file,
                      key_file=etcd_key_file)
    server = ApiServer(etcd, host=host, port=port, prefix=prefix, bookmark_interval=bookmark_interval,
                       min_request_timeout=min_request_timeout, service_cidr=service_cluster_ip_range)
    click.echo(f"Kubernetes API stand-in on {server.url}, objects in etcd {etcd_endpoints} under {prefix}")
    asyncio.run(server.serve())
