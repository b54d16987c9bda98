"""Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks
for, with the columns the real server prints for each kind (custom
resources: Name, Age and the CRD's additionalPrinterColumns)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from lab.apiserver.resources import Registry, ResourceType

Obj = dict[str, Any]
Column = tuple[str, str, int, Callable[[Obj], Any]]  # name, type, priority (1: -o wide only), cell

TABLE_MEDIA = "as=Table"


def wants_table(accept: str) -> bool:
    return any(TABLE_MEDIA in part and "g=meta.k8s.io" in part for part in accept.split(","))


def age(obj: Obj) -> str:
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    if not created:
        return "<unknown>"
    seconds = int((datetime.now(timezone.utc) - datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
                   .replace(tzinfo=timezone.utc)).total_seconds())
    seconds = max(seconds, 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * 2 or (unit == "m" and seconds >= 120):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _get(obj: Obj, path: str) -> Any:
    current: Any = obj
    for part in path.strip(".").split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def _name(obj: Obj) -> str:
    return obj["metadata"]["name"]


def _pod_ready(obj: Obj) -> str:
    containers = (obj.get("spec") or {}).get("containers") or []
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(containers)}"


def _ports(obj: Obj) -> str:
    ports = (obj.get("spec") or {}).get("ports") or []
    return ",".join(f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
                    for p in ports) or "<none>"


def _node_status(obj: Obj) -> str:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return "Ready" if condition.get("status") == "True" else "NotReady"
    return "Unknown"


def _selector(obj: Obj) -> str:
    labels = ((obj.get("spec") or {}).get("podSelector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"


def _or_none(value: Any) -> Any:
    return "<none>" if value in (None, "", []) else value


_COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "Pod"): [("Ready", "string", 0, _pod_ready),
                  ("Status", "string", 0, lambda o: _get(o, "status.phase") or "Unknown"),
                  ("Restarts", "string", 0, lambda o: "0"), ("Age", "string", 0, age),
                  ("IP", "string", 1, lambda o: _or_none(_get(o, "status.podIP"))),
                  ("Node", "string", 1, lambda o: _or_none(_get(o, "spec.nodeName")))],
    ("", "Service"): [("Type", "string", 0, lambda o: _get(o, "spec.type")),
                      ("Cluster-IP", "string", 0, lambda o: _or_none(_get(o, "spec.clusterIP"))),
                      ("External-IP", "string", 0, lambda o: "<none>"), ("Port(s)", "string", 0, _ports),
                      ("Age", "string", 0, age),
                      ("Selector", "string", 1, lambda o: ",".join(
                          f"{k}={v}" for k, v in sorted((_get(o, "spec.selector") or {}).items())) or "<none>")],
    ("", "Node"): [("Status", "string", 0, _node_status), ("Roles", "string", 0, lambda o: "<none>"),
                   ("Age", "string", 0, age),
                   ("Version", "string", 0, lambda o: _or_none(_get(o, "status.nodeInfo.kubeletVersion")))],
    ("", "Namespace"): [("Status", "string", 0, lambda o: _get(o, "status.phase") or "Active"),
                        ("Age", "string", 0, age)],
    ("discovery.k8s.io", "EndpointSlice"): [
        ("AddressType", "string", 0, lambda o: o.get("addressType")),
        ("Ports", "string", 0, lambda o: ",".join(str(p.get("port")) for p in o.get("ports") or []) or "<unset>"),
        ("Endpoints", "string", 0, lambda o: ",".join(
            a for e in o.get("endpoints") or [] for a in e.get("addresses") or []) or "<unset>"),
        ("Age", "string", 0, age)],
    ("networking.k8s.io", "NetworkPolicy"): [("Pod-Selector", "string", 0, _selector), ("Age", "string", 0, age)],
    ("apiextensions.k8s.io", "CustomResourceDefinition"): [
        ("Created At", "date", 0, lambda o: o["metadata"].get("creationTimestamp"))],
}


def _custom_columns(registry: Registry, resource: ResourceType) -> list[Column]:
    crd = registry.crd_object(resource.crd) if resource.crd else None
    columns: list[Column] = []
    for version in ((crd or {}).get("spec") or {}).get("versions") or []:
        if version.get("name") != resource.version:
            continue
        for column in version.get("additionalPrinterColumns") or []:
            path = column.get("jsonPath", "")
            columns.append((column.get("name", path), column.get("type", "string"), column.get("priority", 0),
                            lambda o, p=path: _or_none(_get(o, p))))
    return columns + [("Age", "string", 0, age)]


def table(registry: Registry, resource: ResourceType, objects: list[Obj], list_meta: Obj) -> Obj:
    columns = _COLUMNS.get((resource.group, resource.kind)) or _custom_columns(registry, resource)
    definitions = [{"name": "Name", "type": "string", "format": "name", "description": "Name of the object",
                    "priority": 0}]
    definitions += [{"name": name, "type": kind, "format": "", "description": name, "priority": priority}
                    for name, kind, priority, _ in columns]
    rows = [{"cells": [_name(obj), *(cell(obj) for _, _, _, cell in columns)],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj.get("metadata", {})}} for obj in objects]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": definitions, "rows": rows}
