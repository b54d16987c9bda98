"""The underlay: one bridge in the host namespace (the lab's "switch"), and
per node a network namespace whose eth0 (the node's NIC) is plugged into it.

The bridge holds an address of the underlay too, so processes of the host
namespace (etcd, the API stand-in) are reachable from every node on it.
"""

from __future__ import annotations

import ipaddress
import json

from lab import netns as labns
from lab.netns import ip, run


def bridge_name(prefix: str) -> str:
    return f"{prefix}-br"


def bridge_address(underlay: ipaddress.IPv4Network) -> ipaddress.IPv4Interface:
    # The last usable address, so nodes can take .1, .2, ... in order.
    return ipaddress.IPv4Interface((int(underlay.broadcast_address) - 1, underlay.prefixlen))


def node_address(underlay: ipaddress.IPv4Network, index: int) -> ipaddress.IPv4Interface:
    if not 1 <= index < underlay.num_addresses - 2:
        raise ValueError(f"node {index} does not fit in the underlay {underlay}")
    return ipaddress.IPv4Interface((int(underlay.network_address) + index, underlay.prefixlen))


def node_netns(prefix: str, node: str) -> str:
    return f"{prefix}-{node}"


def node_link(prefix: str, index: int) -> str:
    return f"{prefix}-n{index}"


class UnderlayConflict(RuntimeError):
    pass


def check_free(underlay: ipaddress.IPv4Network) -> None:
    """Refuse an underlay that overlaps an address already on this host: the
    lab's routes would shadow (or be shadowed by) the host's own."""
    listed = json.loads(ip("-j", "-4", "addr", "show").stdout or "[]")
    for link in listed:
        for info in link.get("addr_info", []):
            network = ipaddress.IPv4Interface(f"{info['local']}/{info['prefixlen']}").network
            if network.overlaps(underlay):
                raise UnderlayConflict(f"the underlay {underlay} overlaps {network} on {link['ifname']}; "
                                       "pick another with --underlay")


def create_bridge(name: str, address: ipaddress.IPv4Interface) -> None:
    ip("link", "add", name, "type", "bridge")
    # With br_netfilter loaded, bridged node-to-node frames would cross the
    # host's iptables/nftables forward chains (Docker's DROP policy among
    # them); the lab's switch must forward like a plain switch.
    ip("link", "set", name, "type", "bridge", "nf_call_iptables", "0", "nf_call_arptables", "0", check=False)
    ip("addr", "add", str(address), "dev", name)
    ip("link", "set", name, "up")


def attach_node(netns: str, host_link: str, bridge: str, address: ipaddress.IPv4Interface,
                gateway: ipaddress.IPv4Address) -> None:
    labns.add_netns(netns)
    ip("link", "add", host_link, "type", "veth", "peer", "name", "eth0", "netns", netns)
    ip("link", "set", host_link, "master", bridge)
    ip("link", "set", host_link, "up")
    ip("addr", "add", str(address), "dev", "eth0", netns=netns)
    ip("link", "set", "eth0", "up", netns=netns)
    ip("route", "add", "default", "via", str(gateway), netns=netns)


def remove_by_prefix(prefix: str) -> list[str]:
    """Delete every namespace, link and nft table whose name carries the lab
    prefix; returns what was removed. Processes inside a namespace must be
    gone first (see cleanup)."""
    removed: list[str] = []
    owned = f"{prefix}-"
    for name in labns.list_netns(owned):
        labns.delete_netns(name)
        removed.append(f"netns {name}")
    # Deleting a node namespace removed its veth peer too; what is left is
    # the bridge and any host end whose namespace was already gone.
    for name in labns.list_links(owned):
        ip("link", "del", name, check=False)
        removed.append(f"link {name}")
    for family, table in nft_tables(owned):
        run("nft", "delete", "table", family, table, check=False)
        removed.append(f"nft table {family} {table}")
    return removed


def nft_tables(prefix: str) -> list[tuple[str, str]]:
    try:
        listed = json.loads(run("nft", "-j", "list", "tables", check=False).stdout or "{}")
    except (ValueError, FileNotFoundError):
        return []
    tables = [entry["table"] for entry in listed.get("nftables", []) if "table" in entry]
    return [(t["family"], t["name"]) for t in tables if t.get("name", "").startswith(prefix)]
