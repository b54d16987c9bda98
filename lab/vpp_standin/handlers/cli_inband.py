"""A few read-only CLI commands over cli_inband, enough for smoke checks."""

from __future__ import annotations

from ..codec import Request
from .base import HandlerContext, Reply, handles, ok


def _show_interface(ctx: HandlerContext) -> str:
    lines = [f"{'Name':<28}{'Idx':>6}  {'State':<6}{'MTU (L3/IP4/IP6/MPLS)':>24}"]
    for i in sorted(ctx.state.interfaces.values(), key=lambda i: i.sw_if_index):
        state = "up" if i.admin_up else "down"
        mtu = "/".join(str(m) for m in i.mtu)
        lines.append(f"{i.name:<28}{i.sw_if_index:>6}  {state:<6}{mtu:>24}")
    return "\n".join(lines) + "\n"


@handles("cli_inband")
def cli_inband(ctx: HandlerContext, req: Request) -> list[Reply]:
    words = str(req.get("cmd", "")).split()
    if words[:2] == ["show", "version"] or words[:3] == ["sh", "ver"]:
        return ok(ctx, req, reply=f"vpp v{ctx.state.config.version} built by standin\n")
    if words[:2] in (["show", "interface"], ["sh", "int"]):
        return ok(ctx, req, reply=_show_interface(ctx))
    if not words:
        return ok(ctx, req, reply="")
    return [Reply("cli_inband_reply", {"retval": -1, "reply": f"unknown input `{' '.join(words)}'\n"})]
