"""`contiv-lab`: the single-machine lab (implemented with its issue)."""

import click


@click.group(help="Single-machine lab: etcd, API stand-in, KSR and nodes as network namespaces. In progress.")
def main() -> None:
    pass
