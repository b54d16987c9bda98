"""Per kind: where it is in the API, and how its objects become etcd values.

A `Reflection` holds the desired etcd content of one kind (key → encoded
value) as the API's objects dictate it, and updates it object by object. It
does no I/O: the reflector feeds it from list and watch, the writer copies
its `desired` map into etcd.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ksr import projection
from ksr.projection import RawObject, SliceProjection
from model import ENDPOINTS, NAMESPACE, NODE, POD, POLICY, SERVICE, KeyKind, KeySpace, StoredModel

log = logging.getLogger(__name__)

SkipHook = Callable[[str, str, str], None]  # kind name, object identity, reason


class Reflection(Protocol):
    kind: KeyKind
    desired: dict[str, bytes]

    def reset(self, objects: Iterable[RawObject]) -> None:
        """Replace everything with the objects of a fresh list."""

    def upsert(self, obj: RawObject) -> set[str]:
        """An object was added or changed; returns the keys whose desired value may have changed."""

    def remove(self, obj: RawObject) -> set[str]:
        """An object was deleted; returns the keys whose desired value may have changed."""


def identity(obj: RawObject) -> tuple[str, str]:
    """(namespace, name) of a raw object, as far as it can be read at all."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return "", ""
    namespace, name = meta.get("namespace"), meta.get("name")
    return (namespace if isinstance(namespace, str) else ""), (name if isinstance(name, str) else "")


def _describe(obj: RawObject) -> str:
    namespace, name = identity(obj)
    return f"{namespace}/{name}" if namespace else (name or "<unnamed>")


def _skip_reason(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


class ObjectReflection:
    """A kind whose objects map one to one onto keys: the key's parts are the
    object's namespace (if namespaced) and name."""

    def __init__(self, kind: KeyKind, keys: KeySpace, project: Callable[[RawObject], StoredModel],
                 on_skip: SkipHook) -> None:
        self.kind = kind
        self.keys = keys
        self.project = project
        self.on_skip = on_skip
        self.namespaced = len(kind.parts) == 2
        self.desired: dict[str, bytes] = {}

    def _key(self, obj: RawObject) -> str | None:
        namespace, name = identity(obj)
        if not name or (self.namespaced and not namespace):
            return None
        try:
            return self.keys.key(self.kind, namespace, name) if self.namespaced else self.keys.key(self.kind, name)
        except ValueError:
            return None

    def _value(self, obj: RawObject) -> bytes | None:
        try:
            return self.project(obj).to_json()
        except ValueError as exc:
            self.on_skip(self.kind.name, _describe(obj), _skip_reason(exc))
            return None

    def reset(self, objects: Iterable[RawObject]) -> None:
        desired: dict[str, bytes] = {}
        for obj in objects:
            key = self._key(obj)
            value = self._value(obj)
            if key is not None and value is not None:
                desired[key] = value
        self.desired = desired

    def upsert(self, obj: RawObject) -> set[str]:
        key = self._key(obj)
        value = self._value(obj)
        if key is None:
            return set()
        if value is None:
            # What a relist would do: an object that does not parse is not
            # reflected, so a value it had before goes away.
            return {key} if self.desired.pop(key, None) is not None else set()
        self.desired[key] = value
        return {key}

    def remove(self, obj: RawObject) -> set[str]:
        key = self._key(obj)
        if key is None or self.desired.pop(key, None) is None:
            return set()
        return {key}


class EndpointsReflection:
    """EndpointSlices merged per service: many slices feed one Endpoints key,
    named after the slice label `kubernetes.io/service-name`."""

    kind = ENDPOINTS

    def __init__(self, keys: KeySpace, on_skip: SkipHook) -> None:
        self.keys = keys
        self.on_skip = on_skip
        self.slices: dict[tuple[str, str], SliceProjection] = {}
        self.by_service: dict[tuple[str, str], set[str]] = {}
        self.desired: dict[str, bytes] = {}

    def _project(self, obj: RawObject) -> SliceProjection | None:
        try:
            return projection.project_endpoint_slice(obj)
        except ValueError as exc:
            self.on_skip("endpointslice", _describe(obj), _skip_reason(exc))
            return None

    def _service_key(self, namespace: str, service: str) -> str | None:
        try:
            return self.keys.key(ENDPOINTS, namespace, service)
        except ValueError:
            return None

    def _refresh(self, namespace: str, service: str) -> str | None:
        if not service:
            return None
        key = self._service_key(namespace, service)
        if key is None:
            return None
        names = self.by_service.get((namespace, service))
        if not names:
            self.desired.pop(key, None)
            return key
        merged = projection.merge_endpoints(namespace, service, (self.slices[(namespace, n)] for n in names))
        self.desired[key] = merged.to_json()
        return key

    def _drop(self, namespace: str, name: str) -> SliceProjection | None:
        old = self.slices.pop((namespace, name), None)
        if old is not None and old.service:
            names = self.by_service.get((namespace, old.service))
            if names is not None:
                names.discard(name)
                if not names:
                    del self.by_service[(namespace, old.service)]
        return old

    def _add(self, new: SliceProjection) -> None:
        self.slices[(new.namespace, new.name)] = new
        if new.service:
            self.by_service.setdefault((new.namespace, new.service), set()).add(new.name)

    def reset(self, objects: Iterable[RawObject]) -> None:
        self.slices, self.by_service, self.desired = {}, {}, {}
        for obj in objects:
            new = self._project(obj)
            if new is not None:
                self._add(new)
        for namespace, service in list(self.by_service):
            self._refresh(namespace, service)

    def upsert(self, obj: RawObject) -> set[str]:
        namespace, name = identity(obj)
        new = self._project(obj)
        old = self._drop(namespace, name)
        if new is not None:
            self._add(new)
        touched = {(s.namespace, s.service) for s in (old, new) if s is not None}
        return {key for ns, svc in touched if (key := self._refresh(ns, svc)) is not None}

    def remove(self, obj: RawObject) -> set[str]:
        namespace, name = identity(obj)
        old = self._drop(namespace, name)
        if old is None:
            return set()
        key = self._refresh(old.namespace, old.service)
        return {key} if key is not None else set()


@dataclass(frozen=True)
class KindSpec:
    """One Kubernetes resource the KSR reflects."""

    name: str  # for logs and metric labels
    api_path: str  # the cluster-wide collection
    kind: KeyKind
    make: Callable[[KeySpace, SkipHook], Reflection]


def _objects(kind: KeyKind, project: Callable[[RawObject], Any]) -> Callable[[KeySpace, SkipHook], Reflection]:
    return lambda keys, on_skip: ObjectReflection(kind, keys, project, on_skip)


KINDS: tuple[KindSpec, ...] = (
    KindSpec("namespace", "/api/v1/namespaces", NAMESPACE, _objects(NAMESPACE, projection.project_namespace)),
    KindSpec("node", "/api/v1/nodes", NODE, _objects(NODE, projection.project_node)),
    KindSpec("pod", "/api/v1/pods", POD, _objects(POD, projection.project_pod)),
    KindSpec("service", "/api/v1/services", SERVICE, _objects(SERVICE, projection.project_service)),
    KindSpec("endpoints", "/apis/discovery.k8s.io/v1/endpointslices", ENDPOINTS,
             lambda keys, on_skip: EndpointsReflection(keys, on_skip)),
    KindSpec("policy", "/apis/networking.k8s.io/v1/networkpolicies", POLICY,
             _objects(POLICY, projection.project_network_policy)),
)
