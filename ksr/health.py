"""/healthz, /readyz and /metrics on one port.

/healthz: the process's event loop answers (the server runs on it, so a
  wedged loop fails the probe).
/readyz: 200 when the leader has made every kind's etcd prefix equal to the
  API (synced), or when a standby can reach etcd (healthy and able to take
  over); 503 otherwise (starting, a leader still syncing or resyncing after
  etcd lost data, a standby without etcd). A standby counts as ready so that
  a two-replica Deployment reports both replicas available.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ksr.metrics import Metrics

StatusSource = Callable[[], dict[str, object]]


def make_app(status: StatusSource, metrics: Metrics) -> FastAPI:
    app = FastAPI(title="contiv-ksr", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"ok": True, **status()})

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        current = status()
        return JSONResponse(current, status_code=200 if current["ready"] else 503)

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


class _Server(uvicorn.Server):
    # The KSR handles SIGTERM itself (it resigns leadership first); uvicorn
    # must not take the signal handlers over.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(status: StatusSource, metrics: Metrics, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(make_app(status, metrics), host=host, port=port, log_level="warning",
                            access_log=False, lifespan="off")
    return _Server(config)
