"""`contiv-ui`: the authenticated REST proxy and web page.

Only the command's help exists so far; the proxy comes with its own issue.
"""

import click


@click.group(help="Authenticated REST proxy over etcd and the node agents, with a web page. "
                  "Not implemented yet: this command only documents itself.")
def main() -> None:
    pass
