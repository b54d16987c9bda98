"""`contiv-cni`: the CNI plugin executable (implemented with its issue)."""

import sys


def main() -> int:
    sys.stdout.write('{"cniVersion":"1.1.0","code":4,"msg":"contiv-cni is not implemented yet"}\n')
    return 4
