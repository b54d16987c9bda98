"""FIB entries VPP creates by itself, so dumps look like a real VPP's.

Every table gets drop entries for the default route and the special IPv4
ranges; an interface address adds its attached subnet and a local /32 (/128),
and for IPv4 subnets shorter than /31 drop entries for the network and
broadcast addresses.
"""

from __future__ import annotations

import ipaddress

from .model import NO_INDEX, FibPath, Interface, MplsLabel, Route, RouteOrigin

PATH_TYPE_NORMAL = 0
PATH_TYPE_LOCAL = 1
PATH_TYPE_DROP = 2
NH_PROTO_IP4 = 0
NH_PROTO_IP6 = 1

_EMPTY_LABELS = tuple(MplsLabel() for _ in range(16))

_SPECIAL_V4 = ("0.0.0.0/0", "0.0.0.0/32", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32")
_SPECIAL_V6 = ("::/0",)
_LINK_LOCAL_V6 = "fe80::/10"


def make_path(path_type: int, is_ip6: bool, sw_if_index: int = NO_INDEX) -> FibPath:
    return FibPath(
        sw_if_index=sw_if_index,
        table_id=0,
        rpf_id=0,
        weight=1,
        preference=0,
        type=path_type,
        flags=0,
        proto=NH_PROTO_IP6 if is_ip6 else NH_PROTO_IP4,
        nh_address=None,
        via_label=0,
        obj_id=0,
        classify_table_index=NO_INDEX,
        n_labels=0,
        label_stack=_EMPTY_LABELS,
    )


def special_routes(table_id: int, is_ip6: bool) -> list[Route]:
    drop = make_path(PATH_TYPE_DROP, is_ip6)
    prefixes = _SPECIAL_V6 if is_ip6 else _SPECIAL_V4
    routes = [
        Route(table_id, ipaddress.ip_network(p), [drop], origin=RouteOrigin.SPECIAL) for p in prefixes
    ]
    if is_ip6:
        routes.append(
            Route(table_id, ipaddress.ip_network(_LINK_LOCAL_V6), [make_path(PATH_TYPE_LOCAL, True)], origin=RouteOrigin.SPECIAL)
        )
    return routes


def interface_routes(interface: Interface, is_ip6: bool) -> list[Route]:
    routes: list[Route] = []
    version = 6 if is_ip6 else 4
    host_len = 128 if is_ip6 else 32
    for address in interface.addresses:
        if address.version != version:
            continue
        table_id = interface.table(is_ip6)
        network = address.network
        if network.prefixlen < host_len:
            routes.append(
                Route(table_id, network, [make_path(PATH_TYPE_NORMAL, is_ip6, interface.sw_if_index)], origin=RouteOrigin.INTERFACE)
            )
        if not is_ip6 and network.prefixlen < 31:
            drop = make_path(PATH_TYPE_DROP, False)
            for edge in (network.network_address, network.broadcast_address):
                routes.append(
                    Route(table_id, ipaddress.ip_network(f"{edge}/32"), [drop], origin=RouteOrigin.INTERFACE)
                )
        routes.append(
            Route(
                table_id,
                ipaddress.ip_network(f"{address.ip}/{host_len}"),
                [make_path(PATH_TYPE_LOCAL, is_ip6, interface.sw_if_index)],
                origin=RouteOrigin.INTERFACE,
            )
        )
    return routes
