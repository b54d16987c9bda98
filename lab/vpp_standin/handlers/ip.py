"""IP tables and routes (ip.api: tables v1/v2, routes v1/v2, dumps)."""

from __future__ import annotations

from typing import Any

from ..codec import Request
from ..model import FibPath, MplsLabel, Route
from .base import HandlerContext, Reply, handles, ok
from .convert import to_int

NH_PROTO_IP6 = 1
LABEL_STACK_SIZE = 16


def decode_path(p: Any) -> FibPath:
    proto = to_int(p.proto)
    union = p.nh.address
    labels = tuple(
        MplsLabel(is_uniform=int(l.is_uniform), label=int(l.label), ttl=int(l.ttl), exp=int(l.exp))
        for l in p.label_stack
    )
    return FibPath(
        sw_if_index=to_int(p.sw_if_index),
        table_id=to_int(p.table_id),
        rpf_id=to_int(p.rpf_id),
        # VPP turns an unset weight into 1.
        weight=to_int(p.weight) or 1,
        preference=to_int(p.preference),
        type=to_int(p.type),
        flags=to_int(p.flags),
        proto=proto,
        nh_address=union.ip6 if proto == NH_PROTO_IP6 else union.ip4,
        via_label=to_int(p.nh.via_label),
        obj_id=to_int(p.nh.obj_id),
        classify_table_index=to_int(p.nh.classify_table_index),
        n_labels=min(to_int(p.n_labels), LABEL_STACK_SIZE),
        label_stack=labels,
    )


def encode_path(path: FibPath) -> dict[str, Any]:
    if path.nh_address is None:
        address: dict[str, Any] = {}
    else:
        address = {"ip6" if path.nh_address.version == 6 else "ip4": path.nh_address}
    return {
        "sw_if_index": path.sw_if_index,
        "table_id": path.table_id,
        "rpf_id": path.rpf_id,
        "weight": path.weight,
        "preference": path.preference,
        "type": path.type,
        "flags": path.flags,
        "proto": path.proto,
        "nh": {
            "address": address,
            "via_label": path.via_label,
            "obj_id": path.obj_id,
            "classify_table_index": path.classify_table_index,
        },
        "n_labels": path.n_labels,
        "label_stack": [
            {"is_uniform": l.is_uniform, "label": l.label, "ttl": l.ttl, "exp": l.exp} for l in path.label_stack
        ],
    }


def decode_route(r: Any, with_src: bool) -> Route:
    paths = [decode_path(p) for p in r.paths]
    return Route(
        table_id=to_int(r.table_id),
        prefix=r.prefix,
        paths=paths,
        src=to_int(getattr(r, "src", 0)) if with_src else 0,
    )


def encode_route(route: Route, with_src: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "table_id": route.table_id,
        "stats_index": route.stats_index,
        "prefix": route.prefix,
        "n_paths": len(route.paths),
        "paths": [encode_path(p) for p in route.paths],
    }
    if with_src:
        fields["src"] = route.src
    return fields


def _table_add_del(ctx: HandlerContext, req: Request) -> list[Reply]:
    table = req.get("table")
    ctx.state.table_add_del(to_int(table.table_id), bool(table.is_ip6), str(table.name), bool(req.get("is_add")))
    return ok(ctx, req)


handles("ip_table_add_del", "ip_table_add_del_v2")(_table_add_del)


@handles("ip_table_dump")
def ip_table_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    tables = sorted(ctx.state.tables.values(), key=lambda t: (t.is_ip6, t.table_id))
    return [
        Reply("ip_table_details", {"table": {"table_id": t.table_id, "is_ip6": t.is_ip6, "name": t.name}})
        for t in tables
    ]


@handles("ip_route_add_del", "ip_route_add_del_v2")
def ip_route_add_del(ctx: HandlerContext, req: Request) -> list[Reply]:
    route = decode_route(req.get("route"), with_src=req.name.endswith("_v2"))
    stats_index = ctx.state.route_add_del(bool(req.get("is_add")), bool(req.get("is_multipath")), route)
    return ok(ctx, req, stats_index=stats_index)


def _dump_routes(ctx: HandlerContext, req: Request, details: str, with_src: bool) -> list[Reply]:
    table = req.get("table")
    key = (bool(table.is_ip6), to_int(table.table_id))
    # VPP sends nothing at all for a table that does not exist.
    if key not in ctx.state.tables:
        return []
    routes = ctx.state.routes(key[1], key[0])
    src = to_int(req.get("src", 0)) if with_src else 0
    if src:
        routes = [r for r in routes if r.src == src]
    return [Reply(details, {"route": encode_route(r, with_src)}) for r in routes]


@handles("ip_route_dump")
def ip_route_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    return _dump_routes(ctx, req, "ip_route_details", with_src=False)


@handles("ip_route_v2_dump")
def ip_route_v2_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    return _dump_routes(ctx, req, "ip_route_v2_details", with_src=True)
