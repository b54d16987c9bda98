"""The agent's REST API for debugging, health probes and metrics."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vswitch.controller import Controller
from vswitch.metrics import AgentMetrics


def create_app(controller: Controller, metrics: AgentMetrics,
               dataplane_health: Callable[[], dict[str, object]] | None = None) -> FastAPI:
    """`dataplane_health` reports a dataplane the agent depends on (VPP); its
    "ready" key is part of the agent's readiness."""
    app = FastAPI(title="contiv-agent", docs_url=None, redoc_url=None)
    engine = controller.engine

    @app.get("/liveness")
    async def liveness() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readiness")
    async def readiness(response: Response) -> dict[str, object]:
        ready = controller.synced.is_set()
        report: dict[str, object] = {"pending": len(engine.pending), "failed": len(engine.failures)}
        if dataplane_health is not None:
            dataplane = dataplane_health()
            report["dataplane"] = dataplane
            ready = ready and bool(dataplane.get("ready"))
        if not ready:
            response.status_code = 503
        return {"ready": ready, **report}

    @app.get("/contiv/v1/ipam")
    async def ipam() -> dict[str, object]:
        node = controller.view.node
        return {
            "nodeId": node.record.id,
            "nodeName": node.record.name,
            "podSubnet": str(node.pod_subnet),
            "podGateway": str(node.pod_gateway),
            "free": controller.ipam.free,
            "allocations": [a.value.model_dump() for a in controller.ipam.allocations.values()],
        }

    @app.get("/contiv/v1/pods")
    async def pods() -> list[dict[str, object]]:
        return [p.model_dump(mode="json") for p in controller.view.pods.values()]

    @app.get("/scheduler/dump")
    async def dump() -> dict[str, object]:
        def items(source: dict) -> dict[str, object]:
            return {key: {"kind": item.kind, **item.model_dump()} for key, item in sorted(source.items())}
        return {
            "desired": items(engine.desired),
            "applied": items(engine.applied),
            "pending": engine.pending,
            "failed": {k: {"error": f.error, "attempts": f.attempts} for k, f in engine.failures.items()},
        }

    @app.get("/controller/event-history")
    async def history(limit: int = Query(default=50, ge=1, le=1000)) -> list[dict[str, object]]:
        return [t.model_dump(mode="json") for t in engine.history.recent(limit)]

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
