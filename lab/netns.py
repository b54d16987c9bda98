"""Network namespaces as lab hosts: a node or a pod sandbox on this machine.

Development tooling: drives iproute2 with argument lists (never a shell).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

NETNS_DIR = Path("/var/run/netns")


class LabCommandError(RuntimeError):
    pass


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise LabCommandError(f"{' '.join(args)}: {result.stderr.strip() or result.returncode}")
    return result


def ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    prefix = ["ip", "-n", netns] if netns else ["ip"]
    return run(*prefix, *args, check=check)


def add_netns(name: str) -> Path:
    ip("netns", "add", name)
    ip("link", "set", "lo", "up", netns=name)
    return NETNS_DIR / name


def delete_netns(name: str) -> None:
    ip("netns", "delete", name, check=False)


def list_netns(prefix: str) -> list[str]:
    listed = ip("netns", "list", check=False).stdout.split("\n")
    return [line.split()[0] for line in listed if line.strip() and line.split()[0].startswith(prefix)]


def link_to_host(netns: str, host_ifname: str, host_cidr: str, node_cidr: str, gateway: str | None = None,
                 node_ifname: str = "eth0") -> None:
    """A veth from the host into `netns`: the namespace's "NIC", with the
    host end as its default gateway."""
    ip("link", "add", host_ifname, "type", "veth", "peer", "name", node_ifname, "netns", netns)
    ip("addr", "add", host_cidr, "dev", host_ifname)
    ip("link", "set", host_ifname, "up")
    ip("addr", "add", node_cidr, "dev", node_ifname, netns=netns)
    ip("link", "set", node_ifname, "up", netns=netns)
    if gateway:
        ip("route", "add", "default", "via", gateway, netns=netns)


def exec_in(netns: str, *command: str) -> list[str]:
    """The argument list that runs `command` inside `netns`."""
    return ["ip", "netns", "exec", netns, *command]


def netns_pids(name: str) -> list[int]:
    """Processes whose network namespace is `name`."""
    listed = ip("netns", "pids", name, check=False).stdout.split()
    return [int(pid) for pid in listed if pid.isdigit()]


def list_links(prefix: str, netns: str | None = None) -> list[str]:
    """Names of the links (in the host namespace, or `netns`) starting with `prefix`."""
    listed = json.loads(ip("-j", "link", "show", netns=netns, check=False).stdout or "[]")
    return [link["ifname"] for link in listed if link.get("ifname", "").startswith(prefix)]
