"""stn plugin calls (steal-the-NIC rules)."""

from __future__ import annotations

import ipaddress

from ..codec import Request
from .base import HandlerContext, Reply, handles, ok
from .convert import to_int


@handles("stn_add_del_rule")
def stn_add_del_rule(ctx: HandlerContext, req: Request) -> list[Reply]:
    address = ipaddress.ip_address(req.get("ip_address"))
    ctx.state.stn_rule_add_del(bool(req.get("is_add")), address, to_int(req.get("sw_if_index")))
    return ok(ctx, req)


@handles("stn_rules_dump")
def stn_rules_dump(ctx: HandlerContext, req: Request) -> list[Reply]:
    return [Reply("stn_rules_details", {"ip_address": address, "sw_if_index": sw_if_index})
            for address, sw_if_index in ctx.state.stn_rules.items()]
