"""Client registration and the always-present housekeeping calls."""

from __future__ import annotations

from ..codec import Request
from .base import HandlerContext, Reply, handles, ok


@handles("sockclnt_create")
def sockclnt_create(ctx: HandlerContext, req: Request) -> list[Reply]:
    ctx.session.name = str(req.get("name", ""))
    table = ctx.defs.message_table()
    return [
        Reply(
            "sockclnt_create_reply",
            {
                "client_index": 0,
                "response": 0,
                "index": ctx.session.handle,
                "count": len(table),
                "message_table": table,
            },
        )
    ]


@handles("sockclnt_delete")
def sockclnt_delete(ctx: HandlerContext, req: Request) -> list[Reply]:
    target = ctx.sessions.session(int(req.get("index", 0)))
    if target is None:
        return [Reply("sockclnt_delete_reply", {"response": -1})]
    # VPP answers first, then tears the registration and its socket down.
    target.close_after_reply = True
    return [Reply("sockclnt_delete_reply", {"response": 1})]


@handles("control_ping")
def control_ping(ctx: HandlerContext, req: Request) -> list[Reply]:
    return ok(ctx, req, client_index=req.client_index or 0, vpe_pid=ctx.pid)


@handles("memclnt_keepalive")
def memclnt_keepalive(ctx: HandlerContext, req: Request) -> list[Reply]:
    return ok(ctx, req)


@handles("get_first_msg_id")
def get_first_msg_id(ctx: HandlerContext, req: Request) -> list[Reply]:
    module = ctx.defs.module_by_range_name(str(req.get("name", "")))
    if module is None:
        return [Reply("get_first_msg_id_reply", {"retval": -7, "first_msg_id": 0xFFFF})]
    return ok(ctx, req, first_msg_id=module.first_msg_id)


@handles("api_versions")
def api_versions(ctx: HandlerContext, req: Request) -> list[Reply]:
    versions = [
        {"major": m.version[0], "minor": m.version[1], "patch": m.version[2], "name": m.name}
        for m in ctx.defs.modules
    ]
    return ok(ctx, req, count=len(versions), api_versions=versions)


@handles("get_api_json")
def get_api_json(ctx: HandlerContext, req: Request) -> list[Reply]:
    return ok(ctx, req, json=ctx.defs.json_array)


@handles("show_version")
def show_version(ctx: HandlerContext, req: Request) -> list[Reply]:
    config = ctx.state.config
    return ok(
        ctx,
        req,
        program="vpe",
        version=config.version,
        build_date=config.build_date,
        build_directory=config.build_directory,
    )
