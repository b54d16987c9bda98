"""`contiv-stn`: the Steal-The-NIC daemon (implemented with its issue)."""

import click


@click.group(help="Steal-The-NIC daemon. In progress.")
def main() -> None:
    pass
