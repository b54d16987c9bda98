"""`contiv-ksr`: the Kubernetes State Reflector.

Exits with a message only for unusable options; an unreachable API server or
etcd is retried with backoff for as long as it takes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click
from prometheus_client import disable_created_metrics
from pydantic import ValidationError

from ksr.config import KsrConfig, default_identity
from ksr.connection import ConnectionConfigError, resolve
from ksr.service import Ksr
from kvstore import EtcdConfig
from model import DEFAULT_PREFIX

log = logging.getLogger("ksr")

_existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())


@click.command(help="Kubernetes State Reflector: reflects namespaces, pods, services, EndpointSlices, nodes and "
                    "NetworkPolicies into etcd. Several may run; one leads and writes, the others stand by.")
@click.option("--kubeconfig", type=_existing_file, help="kubeconfig file of the cluster.")
@click.option("--server", metavar="URL", help="API server URL (overrides the kubeconfig's; alone: no credentials).")
@click.option("--etcd-endpoints", default="127.0.0.1:2379", show_default=True, envvar="ETCD_ENDPOINTS",
              help="Comma-separated host:port list.")
@click.option("--etcd-ca", type=_existing_file, help="CA certificate that etcd's server certificate chains to.")
@click.option("--etcd-cert", type=_existing_file, help="Client certificate for etcd.")
@click.option("--etcd-key", type=_existing_file, help="Key of the client certificate.")
@click.option("--prefix", default=DEFAULT_PREFIX, show_default=True, help="etcd key prefix.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=9191, show_default=True,
              help="Port of /metrics, /healthz and /readyz (0: none).")
@click.option("--metrics-address", default="0.0.0.0", show_default=True, help="Address to serve them on.")
@click.option("--lease-ttl", type=click.IntRange(1, 3600), default=10, show_default=True,
              help="Leader lease TTL in seconds: a dead leader is replaced within it.")
@click.option("--identity", default=None, help="Name of this instance in the election [default: host-pid].")
@click.option("--list-chunk-size", type=click.IntRange(0), default=0, show_default=True,
              help="Objects per list request (0: each collection in one request).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
def main(kubeconfig: Path | None, server: str | None, etcd_endpoints: str, etcd_ca: Path | None,
         etcd_cert: Path | None, etcd_key: Path | None, prefix: str, metrics_port: int, metrics_address: str,
         lease_ttl: int, identity: str | None, list_chunk_size: int, log_level: str) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per HTTP request (every watch reopened) drowns what matters.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    # Creation timestamps of every labelled series are noise to a scraper.
    disable_created_metrics()
    try:
        api = resolve(kubeconfig, server)
    except ConnectionConfigError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        etcd = EtcdConfig(endpoints=etcd_endpoints, ca_file=etcd_ca, cert_file=etcd_cert, key_file=etcd_key)
    except ValidationError as exc:
        raise click.UsageError(f"etcd options: {_errors(exc)}") from None
    try:
        config = KsrConfig(api=api, etcd=etcd, prefix=prefix, metrics_port=metrics_port,
                           metrics_address=metrics_address, lease_ttl=lease_ttl,
                           identity=identity or default_identity(), list_chunk_size=list_chunk_size)
    except ValidationError as exc:
        raise click.UsageError(_errors(exc)) from None
    log.info("reflecting %s (%s) into etcd %s under %s as %s", api.host, api.source, ",".join(etcd.endpoints),
             config.prefix, config.identity)
    asyncio.run(_run(config))


async def _run(config: KsrConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await Ksr(config).run(stop)
