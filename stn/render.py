"""Text output of `contiv-stn show`: a summary table and a per-interface view."""

from __future__ import annotations

import json
from collections.abc import Sequence

from stn.models import (
    FOREVER,
    PROTOCOL_NAMES,
    ROUTE_TYPE_NAMES,
    SCOPE_NAMES,
    TABLE_NAMES,
    SavedRoute,
    StolenInterface,
)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _name(names: dict[int, str], value: int) -> str:
    return names.get(value, str(value))


def _lifetime(seconds: int) -> str:
    return "forever" if seconds == FOREVER else f"{seconds}s"


def _gateways(record: StolenInterface) -> str:
    return ",".join(r.gateway for r in record.default_routes if r.gateway) or "-"


def summary(records: Sequence[StolenInterface]) -> str:
    if not records:
        return "no stolen interfaces"
    rows = [
        [
            r.interface_name,
            r.phase.value,
            "yes" if r.dhcp_enabled else "no",
            r.link.mac_address or "-",
            str(r.link.mtu),
            ",".join(a.cidr for a in r.addresses if a.scope != 253) or "-",
            _gateways(r),
            str(len(r.routes)),
            r.stolen_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ]
        for r in records
    ]
    return _table(["NAME", "PHASE", "DHCP", "MAC", "MTU", "ADDRESSES", "GATEWAY", "ROUTES", "STOLEN-AT"], rows)


def _route_row(route: SavedRoute) -> list[str]:
    return [
        route.family.value,
        route.prefix,
        route.gateway or "-",
        "-" if route.metric is None else str(route.metric),
        _name(SCOPE_NAMES, route.scope),
        _name(TABLE_NAMES, route.table),
        _name(PROTOCOL_NAMES, route.protocol),
        _name(ROUTE_TYPE_NAMES, route.type),
        route.preferred_source or "-",
    ]


def detail(record: StolenInterface) -> str:
    link = record.link
    head = [
        f"interface:  {record.interface_name}",
        f"phase:      {record.phase.value}",
        f"dhcp:       {'yes' if record.dhcp_enabled else 'no'}",
        f"netns:      {record.netns or '-'}",
        f"stolen at:  {record.stolen_at.isoformat()}",
        f"link:       index {link.index}, mac {link.mac_address or '-'}, mtu {link.mtu}, "
        f"{'up' if link.admin_up else 'down'} (oper {link.oper_state or '-'})",
        f"device:     driver {link.driver or '-'}, pci {link.pci_address or '-'}",
        "",
        "addresses:",
    ]
    addresses = _table(
        ["FAMILY", "ADDRESS", "PEER", "SCOPE", "LABEL", "VALID", "PREFERRED"],
        [
            [a.family.value, a.cidr, a.peer or "-", _name(SCOPE_NAMES, a.scope), a.label or "-",
             _lifetime(a.valid_lifetime), _lifetime(a.preferred_lifetime)]
            for a in record.addresses
        ],
    )
    routes = _table(
        ["FAMILY", "DESTINATION", "GATEWAY", "METRIC", "SCOPE", "TABLE", "PROTOCOL", "TYPE", "SRC"],
        [_route_row(r) for r in record.routes],
    )
    return "\n".join([*head, addresses, "", "routes:", routes])


def as_json(value: StolenInterface | Sequence[StolenInterface]) -> str:
    if isinstance(value, StolenInterface):
        return value.model_dump_json(indent=2)
    return json.dumps([r.model_dump(mode="json") for r in value], indent=2)
