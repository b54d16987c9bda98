"""`contiv-ksr`: the Kubernetes State Reflector (implemented with its issue)."""

import click


@click.group(help="Kubernetes State Reflector: reflects Kubernetes objects into etcd. In progress.")
def main() -> None:
    pass
