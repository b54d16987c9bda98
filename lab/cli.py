"""`contiv-lab`: the single-machine lab.

`up` makes a cluster of network namespaces on one machine (etcd, the API
stand-in, the KSR, per node an agent and a kubelet stand-in, a scheduler),
`status` shows it, `apply` feeds it objects, `down` removes every trace of
it; `demo` (the README's `./dev lab`) runs it end to end.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import sys
from pathlib import Path

import click

from lab.apiserver.cli import apiserver
from lab.state import DEFAULT_PREFIX, DEFAULT_UNDERLAY, LabState, check_prefix, default_dir, load


@click.group(help="Single-machine lab: etcd, the Kubernetes API stand-in, the KSR, and nodes as network namespaces.")
def main() -> None:
    pass


main.add_command(apiserver)


def _dir_option(function):  # type: ignore[no-untyped-def]
    return click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
                        envvar="CONTIV_LAB_DIR", show_envvar=True,
                        help="Lab state directory [default: /var/lib/contiv-lab as root, else ./lab-state].")(function)


def _prefix(value: str) -> str:
    try:
        return check_prefix(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _underlay(value: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if network.prefixlen > 28:
        raise click.BadParameter(f"{network} is too small for a lab")
    return network


def _lab_options(function):  # type: ignore[no-untyped-def]
    function = click.option("--prefix", default=DEFAULT_PREFIX, show_default=True,
                            callback=lambda _c, _p, v: _prefix(v),
                            help="Prefix of every namespace, link and process marker of this lab.")(function)
    function = click.option("--underlay", default=str(DEFAULT_UNDERLAY), show_default=True,
                            callback=lambda _c, _p, v: _underlay(v),
                            help="Node network: node i gets its i-th address, the bridge the last one.")(function)
    return _dir_option(function)


def _state(directory: Path | None) -> LabState:
    directory = directory or default_dir()
    state = load(directory)
    if state is None:
        raise click.ClickException(f"no lab in {directory} (start one with `contiv-lab up`)")
    return state


def _log_setup() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command(help="Start a lab: underlay bridge, etcd, API stand-in, KSR, and N nodes with agents and kubelets.")
@click.option("--nodes", type=click.IntRange(1, 50), default=2, show_default=True)
@_lab_options
def up(nodes: int, prefix: str, underlay: ipaddress.IPv4Network, directory: Path | None) -> None:
    from lab.up import LabError
    from lab.up import up as bring_up
    directory = directory or default_dir()
    try:
        state = bring_up(directory, nodes, prefix, underlay, say=click.echo)
    except (LabError, ValueError, OSError, RuntimeError) as exc:
        click.echo(f"contiv-lab up failed: {exc}", err=True)
        click.echo(f"(whatever was made is recorded; `contiv-lab down --dir {directory}` removes it)", err=True)
        sys.exit(1)
    click.echo(f"lab {state.prefix} is up: kubectl --server {state.api_url} get nodes,pods -o wide")


@main.command(help="Stop every process of the lab and remove its namespaces, links, bridge, tables and files.")
@click.option("--prefix", default=DEFAULT_PREFIX, show_default=True, callback=lambda _c, _p, v: _prefix(v),
              help="Used when the state file is missing (a crashed lab): leftovers are found by it.")
@_dir_option
def down(prefix: str, directory: Path | None) -> None:
    from lab.down import down as tear_down
    removed = tear_down(directory or default_dir(), prefix)
    processes = sum(1 for r in removed if r.startswith("process"))
    others = [r for r in removed if not r.startswith("process")]
    click.echo(f"stopped {processes} processes; removed {len(others)} objects")
    for item in others:
        click.echo(f"  {item}")


@main.command(help="Components, nodes and pods of the lab.")
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_dir_option
def status(output: str, directory: Path | None) -> None:
    from lab.status import collect, render
    report = asyncio.run(collect(_state(directory)))
    click.echo(json.dumps(report, indent=2) if output == "json" else render(report))


@main.command(help="Create or update the objects of YAML files (multi-document) through the lab's API.")
@click.option("-f", "--filename", "files", multiple=True, required=True, type=click.File("r"),
              help="YAML file ('-' for stdin); may be repeated.")
@click.option("--server", default=None, help="API URL [default: the lab's].")
@click.option("-n", "--namespace", default="default", show_default=True, help="For objects that name none.")
@_dir_option
def apply(files: tuple, server: str | None, namespace: str, directory: Path | None) -> None:
    from lab.apply import apply as apply_objects
    from lab.kubeapi import ApiError
    url = server or _state(directory).api_url
    failed = False
    for file in files:
        try:
            for line in asyncio.run(apply_objects(url, file.read(), namespace)):
                click.echo(line)
        except (ApiError, ValueError) as exc:
            click.echo(f"contiv-lab apply: {file.name}: {exc}", err=True)
            failed = True
    if failed:
        sys.exit(1)


@main.command(help="The kubelet stand-in of one node (started by `up`).")
@click.option("--node", required=True)
@_dir_option
def kubelet(node: str, directory: Path | None) -> None:
    from lab.kubelet import run_kubelet
    _log_setup()
    asyncio.run(run_kubelet(_state(directory), node))


@main.command(help="The lab's scheduler (started by `up`): binds pods to nodes round-robin.")
@_dir_option
def scheduler(directory: Path | None) -> None:
    from lab.scheduler import run_scheduler
    _log_setup()
    asyncio.run(run_scheduler(_state(directory)))


@main.command(help="Run the lab end to end: up with 2 nodes, echo pods on both, TCP between them, then down.")
@click.option("--keep", is_flag=True, help="Leave the lab running at the end.")
@click.option("--nodes", type=click.IntRange(1, 50), default=2, show_default=True)
@_lab_options
def demo(keep: bool, nodes: int, prefix: str, underlay: ipaddress.IPv4Network, directory: Path | None) -> None:
    from lab.demo import run_demo
    from lab.down import down as tear_down
    from lab.up import LabError, LabExists
    from lab.up import up as bring_up
    directory = (directory or default_dir()).resolve()
    all_ok = False
    try:
        try:
            state = bring_up(directory, nodes, prefix, underlay, say=click.echo)
        except LabExists as exc:
            click.echo(f"contiv-lab demo: {exc}", err=True)
            keep = True  # nothing of this run to remove, and the lab found is not ours to remove
            sys.exit(1)
        except LabError as exc:
            click.echo(f"contiv-lab demo: {exc}", err=True)
            sys.exit(1)
        click.echo("")
        all_ok = asyncio.run(run_demo(state, click.echo))
        first = state.nodes[0]
        click.echo("")
        click.echo("Look around:")
        click.echo(f"  kubectl --server {state.api_url} get nodes,pods -o wide")
        click.echo(f"  contiv-lab status --dir {directory}            (-o json for JSON)")
        click.echo(f"  curl {first.rest_url}/readiness                  (each agent's REST, <nodeIP>:9999)")
        click.echo(f"  ip netns exec {first.netns} ip route             (a node; pods are {state.prefix}-* netns)")
        click.echo(f"  contiv-lab apply --dir {directory} -f pods.yaml  (pods land on the nodes round-robin)")
        click.echo(f"  logs: {state.logs}")
        click.echo(f"Tear down: contiv-lab down --dir {directory}")
    finally:
        if not keep:
            click.echo("")
            click.echo("tearing the lab down (pass --keep to leave it running)")
            removed = tear_down(directory, prefix)
            click.echo(f"lab removed ({len(removed)} processes and objects)")
        else:
            click.echo("")
            click.echo("the lab keeps running (--keep)")
    if not all_ok:
        sys.exit(1)
