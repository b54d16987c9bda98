"""`contiv-crd`: the NodeConfig CRD controller.

Only the command's help exists so far: the controller itself (NodeConfig CRs to
validated node config in etcd, status written back, topology validation) comes
with its own issue.
"""

import click


@click.group(help="NodeConfig CRD controller: NodeConfig custom resources become node config in etcd. "
                  "Not implemented yet: this command only documents itself.")
def main() -> None:
    pass
