"""`netctl`: the debugging CLI.

Only the command's help exists so far; its subcommands come with their own issue.
"""

import click


@click.group(help="Debugging CLI for nodes, pods, IPAM, services, policies and dataplane dumps. "
                  "Not implemented yet: this command only documents itself.")
def main() -> None:
    pass
