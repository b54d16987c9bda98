"""Discovery documents, in the unaggregated form every client understands
(kubectl asks for aggregated discovery first and falls back to these when
the answer is plain JSON), and the OpenAPI v3 index kubectl reads to learn
that the server validates fields itself."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from lab.apiserver.resources import Registry, ResourceType, verbs

Obj = dict[str, Any]

# The Kubernetes release whose API this server follows.
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-contiv-lab", "gitCommit": "", "gitTreeState": "clean",
           "buildDate": "2024-12-11T00:00:00Z", "goVersion": "python", "compiler": "cpython",
           "platform": "linux/amd64"}


def version() -> Obj:
    return dict(VERSION)


def core_versions(server_address: str) -> Obj:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name: str, versions: list[str]) -> Obj:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def group_list(registry: Registry) -> Obj:
    groups = [_group(name, versions) for name, versions in sorted(registry.group_versions().items()) if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def group(registry: Registry, name: str) -> Obj | None:
    versions = registry.group_versions().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def resource_list(registry: Registry, group_name: str, version_name: str) -> Obj | None:
    types = registry.resources(group_name, version_name)
    if not types:
        return None
    resources: list[Obj] = []
    for r in sorted(types, key=lambda t: t.plural):
        entry: Obj = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                      "verbs": verbs(), "storageVersionHash": _hash(r)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        resources.append(entry)
        for sub in sorted(r.subresources):
            resources.append({"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                              "kind": r.kind, "verbs": ["get", "patch", "update"]})
    group_version = f"{group_name}/{version_name}" if group_name else version_name
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


def _hash(r: ResourceType) -> str:
    return hashlib.sha256(f"{r.group}/{r.version}/{r.kind}".encode()).hexdigest()[:12]


# --- OpenAPI v3 -------------------------------------------------------------------------------

def _gv_path(group_name: str, version_name: str) -> str:
    return f"apis/{group_name}/{version_name}" if group_name else f"api/{version_name}"


def openapi_root(registry: Registry) -> Obj:
    paths = {}
    for group_name, versions in registry.group_versions().items():
        for v in versions:
            path = _gv_path(group_name, v)
            doc = openapi_group_version(registry, group_name, v) or {}
            digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


_QUERY = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
          {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
          {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}}]


def openapi_group_version(registry: Registry, group_name: str, version_name: str) -> Obj | None:
    """The operations of one group version, with the GVK extension and the
    fieldValidation parameter kubectl looks for before it leaves validation
    to the server. Schemas are left open: this server checks what
    validation.py checks and stores the rest as sent."""
    types = registry.resources(group_name, version_name)
    if not types:
        return None
    base = "/" + _gv_path(group_name, version_name)
    paths: Obj = {}
    schemas: Obj = {}
    for r in types:
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        scope = f"{base}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{base}/{r.plural}"
        item = {op: {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": op, "parameters": _QUERY,
                     "responses": {"200": {"description": "OK"}}} for op in ("get", "put", "patch", "delete")}
        collection = {op: {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": action,
                           "parameters": _QUERY, "responses": {"200": {"description": "OK"}}}
                      for op, action in (("get", "list"), ("post", "post"))}
        paths[scope] = collection
        paths[f"{scope}/{{name}}"] = item
        schema_name = ".".join(filter(None, ["io.contiv.lab", r.group, r.version, r.kind]))
        schemas[schema_name] = {"type": "object", "x-kubernetes-group-version-kind": [gvk],
                                "x-kubernetes-preserve-unknown-fields": True}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": schemas}}
