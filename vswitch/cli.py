"""`contiv-agent`: the node agent (implemented with its issue)."""

import click


@click.group(help="Node agent: watches etcd and programs the node's dataplane. In progress.")
def main() -> None:
    pass
