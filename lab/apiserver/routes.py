"""HTTP: Kubernetes API paths to verbs, query parameters to options, results
and failures to JSON responses. One catch-all route, because the resources
served change at run time (CRDs) and Kubernetes paths do not fit a fixed
route table (/api/v1/namespaces/x is a namespace, /api/v1/namespaces/x/pods
a collection)."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from kvstore import EtcdUnavailable, KVStoreError
from lab.apiserver import discovery, protobuf, tables
from lab.apiserver.errors import ApiError, bad_request, method_not_allowed, unavailable
from lab.apiserver.operations import parse_resource_version
from lab.apiserver.resources import ResourceType
from lab.apiserver.selectors import matcher, parse_field_selector, parse_label_selector
from lab.apiserver.watch import WatchSpec, watch_events

if TYPE_CHECKING:
    from lab.apiserver.server import ApiServer

log = logging.getLogger(__name__)

Obj = dict[str, Any]

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _no_such_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


@dataclass
class Target:
    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None
    watch_path: bool


def json_response(body: Obj, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json")


def error_response(error: ApiError) -> Response:
    return json_response(error.status(), error.code)


def build_app(server: ApiServer) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.api_route("/{path:path}", methods=_METHODS)
    async def dispatch(request: Request, path: str) -> Response:
        try:
            return await _dispatch(server, request)
        except ApiError as exc:
            return error_response(exc)
        except EtcdUnavailable as exc:
            return error_response(unavailable(str(exc)))
        except KVStoreError as exc:
            log.warning("etcd refused a request for %s: %s", request.url.path, exc)
            return error_response(ApiError(500, "InternalError", str(exc)))

    return app


async def _dispatch(server: ApiServer, request: Request) -> Response:
    parts = [p for p in request.url.path.split("/") if p]
    method = request.method
    if not parts:
        return json_response({"paths": ["/api", "/api/v1", "/apis", "/openapi/v3", "/version", "/healthz"]})
    if parts[0] in ("healthz", "livez", "readyz"):
        return PlainTextResponse("ok")
    if method == "GET" and parts == ["version"]:
        return json_response(discovery.version())
    if parts[0] == "openapi":
        return _openapi(server, parts[1:], method)
    if parts[0] == "api":
        group, rest = "", parts[1:]
        if not rest:
            return _get_only(method, discovery.core_versions(_server_address(request)))
    elif parts[0] == "apis":
        if len(parts) == 1:
            return _get_only(method, discovery.group_list(server.registry))
        group, rest = parts[1], parts[2:]
        if not rest:
            doc = discovery.group(server.registry, group)
            if doc is None:
                raise _no_such_path()
            return _get_only(method, doc)
    else:
        raise _no_such_path()
    version, rest = rest[0], rest[1:]
    if not rest:
        doc = discovery.resource_list(server.registry, group, version)
        if doc is None:
            raise _no_such_path()
        return _get_only(method, doc)
    target = _target(server, group, version, rest)
    return await _serve(server, request, target)


def _get_only(method: str, body: Obj) -> Response:
    if method != "GET":
        raise method_not_allowed(f"the server does not allow this method on the requested resource")
    return json_response(body)


def _server_address(request: Request) -> str:
    host = request.url.hostname or "127.0.0.1"
    return f"{host}:{request.url.port}" if request.url.port else host


def _openapi(server: ApiServer, parts: list[str], method: str) -> Response:
    if method != "GET" or not parts or parts[0] != "v3":
        raise _no_such_path()
    if len(parts) == 1:
        return json_response(discovery.openapi_root(server.registry))
    rest = parts[1:]
    doc = None
    if rest[0] == "api" and len(rest) == 2:
        doc = discovery.openapi_group_version(server.registry, "", rest[1])
    elif rest[0] == "apis" and len(rest) == 3:
        doc = discovery.openapi_group_version(server.registry, rest[1], rest[2])
    if doc is None:
        raise _no_such_path()
    return json_response(doc)


def _target(server: ApiServer, group: str, version: str, rest: list[str]) -> Target:
    watch_path = False
    if rest[0] == "watch":
        # The deprecated /watch/ paths that old clients still use.
        watch_path, rest = True, rest[1:]
        if not rest:
            raise _no_such_path()
    namespace = None
    namespace_subresource = len(rest) == 3 and rest[0] == "namespaces" and rest[2] == "status"
    if rest[0] == "namespaces" and len(rest) >= 3 and not namespace_subresource:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise _no_such_path()
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    resource = server.registry.lookup(group, version, plural)
    if resource is None or (namespace is not None and not resource.namespaced):
        raise _no_such_path()
    if subresource is not None and subresource not in resource.subresources:
        raise _no_such_path()
    return Target(resource, namespace, name, subresource, watch_path)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise bad_request("the request has no body")
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    try:
        if content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
            return yaml.safe_load(raw)
        if content_type == "application/vnd.kubernetes.protobuf":
            return protobuf.decode_object(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"the body of the request could not be decoded: {exc}") from None


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "yes")


async def _serve(server: ApiServer, request: Request, target: Target) -> Response:
    ops = server.operations
    query = request.query_params
    method = request.method
    resource, namespace, name = target.resource, target.namespace, target.name
    dry_run = bool(query.getlist("dryRun"))
    watching = target.watch_path or _flag(query.get("watch"))
    if method == "GET" and (watching or name is None):
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), resource)
        if watching:
            if name is not None:
                fields = parse_field_selector(
                    ",".join(filter(None, [query.get("fieldSelector"), f"metadata.name={name}"])), resource)
            return await _watch(server, request, resource, namespace, labels, fields)
        limit = _int(query.get("limit"), "limit")
        listed = await ops.list(resource, namespace, labels, fields, query.get("resourceVersion", ""),
                                query.get("resourceVersionMatch", ""), limit, query.get("continue", ""))
        if tables.wants_table(request.headers.get("accept", "")):
            return json_response(tables.table(server.registry, resource, listed["items"], listed["metadata"]))
        return json_response(listed)
    if name is None:
        if method == "POST":
            if resource.namespaced and namespace is None:
                raise method_not_allowed("a namespaced resource is created in a namespace: "
                                         f"POST /.../namespaces/<namespace>/{resource.plural}")
            return json_response(await ops.create(resource, namespace, await _body(request), dry_run), 201)
        if method == "DELETE":
            labels = parse_label_selector(query.get("labelSelector"))
            fields = parse_field_selector(query.get("fieldSelector"), resource)
            return json_response(await ops.delete_collection(resource, namespace, labels, fields, dry_run))
        raise method_not_allowed(f"{method} is not supported on a collection of {resource.plural}")
    if resource.namespaced and namespace is None:
        raise _no_such_path()
    if method == "GET":
        obj = await ops.get(resource, namespace, name)
        if tables.wants_table(request.headers.get("accept", "")) and target.subresource is None:
            meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            return json_response(tables.table(server.registry, resource, [obj], meta))
        return json_response(obj)
    if method == "PUT":
        return json_response(await ops.update(resource, namespace, name, await _body(request),
                                              target.subresource, dry_run))
    if method == "PATCH":
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip() == "application/apply-patch+yaml":
            raise ApiError(415, "UnsupportedMediaType", "server-side apply is not supported by this server; "
                           "use kubectl apply without --server-side")
        raw = await request.body()
        try:
            patch = json.loads(raw)
        except ValueError as exc:
            raise bad_request(f"the patch could not be decoded as JSON: {exc}") from None
        return json_response(await ops.patch(resource, namespace, name, content_type, patch,
                                             target.subresource, dry_run))
    if method == "DELETE":
        if target.subresource is not None:
            raise method_not_allowed(f"DELETE is not supported on {resource.plural}/{target.subresource}")
        raw = await request.body()
        options = None
        if raw.strip():
            try:
                options = json.loads(raw)
            except ValueError as exc:
                raise bad_request(f"the delete options could not be decoded: {exc}") from None
        if query.get("gracePeriodSeconds") is not None:
            _int(query.get("gracePeriodSeconds"), "gracePeriodSeconds")
        return json_response(await ops.delete(resource, namespace, name, options, dry_run))
    raise method_not_allowed(f"{method} is not supported on {resource.plural}")


def _int(value: str | None, what: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"{what} must be an integer, not {value!r}") from None


async def _watch(server: ApiServer, request: Request, resource: ResourceType, namespace: str | None,
                 labels: Any, fields: Any) -> Response:
    query = request.query_params
    match = matcher(labels, fields)
    start = parse_resource_version(query.get("resourceVersion", ""))
    prefix = server.storage.collection(resource, namespace)
    initial: list[Obj] = []
    if start == 0:
        # No resourceVersion (or "0"): the current state first, as ADDED events.
        revision, items = await server.storage.list(prefix)
        initial = [s.obj for s in items if match(s.obj)]
        start = revision
    timeout = float(_int(query.get("timeoutSeconds"), "timeoutSeconds"))
    if timeout <= 0:
        # Like kube-apiserver: an unbounded watch is closed after a random
        # time between the minimum request timeout and twice that.
        timeout = server.min_request_timeout * (1 + random.random())
    spec = WatchSpec(resource=resource, prefix=prefix, start_revision=start + 1, match=match, timeout=timeout,
                     bookmarks=_flag(query.get("allowWatchBookmarks")),
                     bookmark_interval=server.bookmark_interval, initial=initial)
    if tables.wants_table(request.headers.get("accept", "")):
        spec.render = lambda obj: tables.table(server.registry, resource, [obj], {
            "resourceVersion": obj["metadata"].get("resourceVersion", "")})
    return StreamingResponse(watch_events(server.kv, spec), media_type="application/json")
