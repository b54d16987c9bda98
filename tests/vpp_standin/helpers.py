"""Building blocks for the messages the tests send."""

from __future__ import annotations

import ipaddress
from typing import Any

NO_INDEX = 0xFFFFFFFF
EMPTY_LABELS = [{"is_uniform": 0, "label": 0, "ttl": 0, "exp": 0}] * 16


def labels(*values: int) -> list[dict[str, int]]:
    stack = [{"is_uniform": 0, "label": v, "ttl": 64, "exp": 0} for v in values]
    return stack + EMPTY_LABELS[len(stack) :]


def ip4_path(next_hop: str | None = None, sw_if_index: int = NO_INDEX, table_id: int = 0, **extra: Any) -> dict[str, Any]:
    nh = {"address": {"ip4": ipaddress.IPv4Address(next_hop)}} if next_hop else {}
    path: dict[str, Any] = {
        "sw_if_index": sw_if_index,
        "table_id": table_id,
        "proto": 0,
        "nh": nh,
        "label_stack": EMPTY_LABELS,
    }
    path.update(extra)
    return path


def route(prefix: str, paths: list[dict[str, Any]], table_id: int = 0) -> dict[str, Any]:
    return {"table_id": table_id, "prefix": prefix, "n_paths": len(paths), "paths": paths}


def routes_by_prefix(details: list[Any]) -> dict[str, Any]:
    return {str(d.route.prefix): d.route for d in details}
