"""The verbs: get, list, create, update, patch, delete, each as the real
server performs it (server-owned metadata, defaults, validation, optimistic
concurrency, side effects such as a namespace taking its objects with it),
on top of storage.py. Nothing here knows about HTTP."""

from __future__ import annotations

import base64
import copy
import json
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from aetcd import rpc

from kvstore import Compare, Op
from lab.apiserver.allocator import Claims, ServiceAllocator
from lab.apiserver.defaults import apply_defaults
from lab.apiserver.errors import (ApiError, already_exists, bad_request, conflict, gone, internal, invalid,
                                  not_found)
from lab.apiserver.patch import apply_patch
from lab.apiserver.resources import CRD_GROUP, Registry, ResourceType
from lab.apiserver.selectors import FieldSelector, LabelSelector
from lab.apiserver.storage import Storage, Stored, encode
from lab.apiserver.validation import validate, validate_namespace_name

Obj = dict[str, Any]

NAMESPACES = ResourceType("", "v1", "Namespace", "namespaces", "namespace", False)
# How often a write is retried after losing a race it can recover from (an
# update without a resourceVersion, a generated name or an address taken).
_RETRIES = 16
# Characters of generated name suffixes: no vowels, so no words (as in Kubernetes).
_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def present(resource: ResourceType, obj: Obj) -> Obj:
    """An object as served at `resource`'s version (custom resources are
    stored in the version they were written in and served in any)."""
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    return {"apiVersion": resource.api_version, "kind": resource.kind, **rest}


class Operations:
    def __init__(self, storage: Storage, registry: Registry, allocator: ServiceAllocator) -> None:
        self.storage = storage
        self.registry = registry
        self.allocator = allocator

    # --- reads ------------------------------------------------------------------------

    async def get(self, resource: ResourceType, namespace: str | None, name: str) -> Obj:
        stored = await self.storage.read(self.storage.key(resource, namespace, name))
        if stored is None:
            raise not_found(resource.plural, resource.group, name)
        return present(resource, stored.obj)

    async def list(self, resource: ResourceType, namespace: str | None, labels: LabelSelector,
                   fields: FieldSelector, resource_version: str = "", match: str = "",
                   limit: int = 0, continue_token: str = "") -> Obj:
        prefix = self.storage.collection(resource, namespace)
        start = ""
        if continue_token:
            revision, start = _decode_continue(continue_token)
            try:
                revision, items = await self.storage.list(prefix, revision)
            except ApiError as exc:
                if exc.code == 410:
                    raise gone("The provided continue parameter is too old to display a consistent list result. "
                               "You can start a new list without the continue parameter.") from None
                raise
        else:
            at = _parse_rv(resource_version)
            if at and match == "Exact":
                revision, items = await self.storage.list(prefix, at)
            else:
                if at:
                    # NotOlderThan: anything at least as new will do, but a
                    # resourceVersion etcd has compacted away is a 410, so that
                    # a client resuming from it relists from scratch.
                    await self.storage.check_revision(prefix, at)
                revision, items = await self.storage.list(prefix)
        selected = [s for s in items if s.key >= start and labels.matches(s.obj) and fields.matches(s.obj)]
        meta: Obj = {"resourceVersion": str(revision)}
        if limit and len(selected) > limit:
            last = selected[limit - 1]
            meta["continue"] = _encode_continue(revision, last.key + "\0")
            if labels.empty and not fields.requirements:
                meta["remainingItemCount"] = len(selected) - limit
            selected = selected[:limit]
        return {"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": meta,
                "items": [present(resource, s.obj) for s in selected]}

    # --- create -----------------------------------------------------------------------

    async def create(self, resource: ResourceType, namespace: str | None, body: Any, dry_run: bool = False) -> Obj:
        obj = self._check_body(resource, namespace, body)
        meta = obj["metadata"]
        for owned in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "selfLink",
                      "generation", "managedFields"):
            meta.pop(owned, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        meta["generation"] = 1
        if resource.crd and "status" in resource.subresources:
            # As for built-in kinds: with a status subresource, status is not
            # the creator's to set.
            obj.pop("status", None)
        generated = not meta.get("name") and bool(meta.get("generateName"))
        for _ in range(_RETRIES):
            candidate = copy.deepcopy(obj)
            if generated:
                candidate["metadata"]["name"] = candidate["metadata"]["generateName"] + "".join(
                    random.choice(_SUFFIX_CHARS) for _ in range(5))
            apply_defaults(resource, candidate, creating=True)
            validate(resource, candidate)
            result = await self._try_create(resource, candidate, dry_run, generated)
            if result is not None:
                return result
            if not generated and resource.kind != "Service":
                break
        raise internal(f"could not create {resource.plural} {obj['metadata'].get('name', '')!r}: "
                       "lost too many races for a name or an address; try again")

    async def _try_create(self, resource: ResourceType, obj: Obj, dry_run: bool, generated: bool) -> Obj | None:
        """Commit one create; None when a generated value lost a race and
        the caller should generate another."""
        name = obj["metadata"]["name"]
        namespace = obj["metadata"].get("namespace")
        key = self.storage.key(resource, namespace, name)
        compare: list[rpc.Compare] = [Compare.absent(key)]
        ops: list[rpc.RequestOp] = []
        if resource.namespaced:
            ns = await self.storage.read(self.storage.key(NAMESPACES, None, namespace or ""))
            if ns is None:
                raise not_found("namespaces", "", namespace or "")
            compare.append(Compare.created_at(ns.key, ns.create_revision))
        claims = Claims()
        if resource.group == "" and resource.kind == "Service":
            claims = await self.allocator.allocate(obj, key, None)
        if resource.group == CRD_GROUP and resource.kind == "CustomResourceDefinition":
            self._check_crd_names(obj)
        if dry_run:
            if await self.storage.read(key) is not None:
                raise already_exists(resource.plural, resource.group, name)
            return present(resource, obj)
        result = await self.storage.commit([*compare, *claims.compare], [Op.put(key, encode(obj)), *claims.ops])
        if not result.succeeded:
            if await self.storage.read(key) is not None:
                if generated:
                    return None
                raise already_exists(resource.plural, resource.group, name)
            if resource.namespaced and await self.storage.read(
                    self.storage.key(NAMESPACES, None, namespace or "")) is None:
                raise not_found("namespaces", "", namespace or "")
            return None
        obj["metadata"]["resourceVersion"] = str(result.revision)
        if resource.group == CRD_GROUP and resource.kind == "CustomResourceDefinition":
            self.registry.set_crd(obj)
        return present(resource, obj)

    def _check_crd_names(self, crd: Obj) -> None:
        spec = crd.get("spec", {})
        group, plural = spec.get("group"), spec.get("names", {}).get("plural")
        taken = any(r.group == group and r.plural == plural and r.crd != crd["metadata"]["name"]
                    for versions in self.registry.group_versions().get(group, [])
                    for r in self.registry.resources(group, versions))
        if taken:
            raise invalid("CustomResourceDefinition", CRD_GROUP, crd["metadata"]["name"],
                          [("spec.names.plural", "FieldValueInvalid", f'Invalid value: "{plural}": '
                            "is already served by another resource")])

    def _check_body(self, resource: ResourceType, namespace: str | None, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON or YAML object")
        obj = copy.deepcopy(body)
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != resource.api_version:
            raise bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                              f"version ({resource.api_version})")
        if kind and kind != resource.kind:
            raise bad_request(f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})")
        obj = present(resource, obj)
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if resource.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise bad_request("the namespace of the provided object does not match the namespace sent on "
                                  "the request")
            meta["namespace"] = namespace or meta.get("namespace") or "default"
            causes = validate_namespace_name(meta["namespace"])
            if causes:
                raise invalid(resource.kind, resource.group, meta.get("name", ""), causes)
        else:
            meta.pop("namespace", None)
        return obj

    # --- update and patch -------------------------------------------------------------

    async def update(self, resource: ResourceType, namespace: str | None, name: str, body: Any,
                     subresource: str | None = None, dry_run: bool = False) -> Obj:
        obj = self._check_body(resource, namespace, body)
        body_name = obj["metadata"].get("name")
        if body_name and body_name != name:
            raise bad_request(f"the name of the object ({body_name}) does not match the name on the URL ({name})")
        obj["metadata"]["name"] = name
        return await self._update(resource, namespace, name, lambda _: copy.deepcopy(obj), subresource, dry_run)

    async def patch(self, resource: ResourceType, namespace: str | None, name: str, content_type: str,
                    patch: Any, subresource: str | None = None, dry_run: bool = False) -> Obj:
        def patched(current: Stored) -> Obj:
            result = apply_patch(content_type, current.obj, patch)
            if not isinstance(result, dict):
                raise bad_request("the patch did not produce an object")
            return self._check_body(resource, namespace, result)

        return await self._update(resource, namespace, name, patched, subresource, dry_run)

    async def _update(self, resource: ResourceType, namespace: str | None, name: str,
                      make_body: Callable[[Stored], Obj], subresource: str | None, dry_run: bool) -> Obj:
        key = self.storage.key(resource, namespace, name)
        for _ in range(_RETRIES):
            current = await self.storage.read(key)
            if current is None:
                raise not_found(resource.plural, resource.group, name)
            body = make_body(current)
            wanted_rv = (body.get("metadata") or {}).get("resourceVersion") or ""
            if wanted_rv and wanted_rv != str(current.mod_revision):
                raise conflict(resource.plural, resource.group, name)
            if (body.get("metadata") or {}).get("name", name) != name:
                raise bad_request(f"the name of the object ({body['metadata']['name']}) does not match the name "
                                  f"on the URL ({name})")
            new = self._next_version(resource, current.obj, body, subresource)
            claims = Claims()
            if resource.group == "" and resource.kind == "Service":
                claims = await self.allocator.allocate(new, key, current.obj)
            if _same(new, current.obj) or dry_run:
                # A no-op write is not written, so it neither bumps the
                # resourceVersion nor wakes every watcher.
                return present(resource, new if dry_run else current.obj)
            result = await self.storage.commit(
                [Compare.mod_revision_is(key, current.mod_revision), *claims.compare],
                [Op.put(key, encode(new)), *claims.ops])
            if result.succeeded:
                new["metadata"]["resourceVersion"] = str(result.revision)
                if resource.group == CRD_GROUP and resource.kind == "CustomResourceDefinition":
                    self.registry.set_crd(new)
                return present(resource, new)
            # Lost a race: with a resourceVersion in the body the next round
            # reports the conflict; without one the update applies to the newer object.
        raise conflict(resource.plural, resource.group, name, "too many concurrent writers; try again")

    def _next_version(self, resource: ResourceType, old: Obj, body: Obj, subresource: str | None) -> Obj:
        if subresource == "status":
            # Only status changes through the status subresource.
            new = copy.deepcopy(old)
            if "status" in body:
                new["status"] = body["status"]
            else:
                new.pop("status", None)
            return new
        new = copy.deepcopy(body)
        meta = new["metadata"]
        old_meta = old.get("metadata", {})
        for owned in ("uid", "creationTimestamp", "namespace"):
            if owned in old_meta:
                meta[owned] = old_meta[owned]
            else:
                meta.pop(owned, None)
        meta.pop("resourceVersion", None)
        if "status" in resource.subresources:
            # ...and not through the main resource, where it keeps its value.
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        apply_defaults(resource, new, creating=False)
        if resource.group == CRD_GROUP and resource.kind == "CustomResourceDefinition":
            self._check_crd_update(old, new)
        validate(resource, new)
        changed = {k: v for k, v in new.items() if k not in ("metadata", "status")} != \
            {k: v for k, v in old.items() if k not in ("metadata", "status")}
        meta["generation"] = old_meta.get("generation", 1) + (1 if changed else 0)
        return new

    def _check_crd_update(self, old: Obj, new: Obj) -> None:
        for path in (("spec", "group"), ("spec", "names", "plural"), ("spec", "scope")):
            before, after = old, new
            for part in path:
                before, after = (before or {}).get(part), (after or {}).get(part)
            if before != after:
                raise invalid("CustomResourceDefinition", CRD_GROUP, new["metadata"]["name"],
                              [(".".join(path), "FieldValueInvalid", f"Invalid value: {after!r}: field is immutable")])

    # --- delete -----------------------------------------------------------------------

    async def delete(self, resource: ResourceType, namespace: str | None, name: str,
                     options: Obj | None = None, dry_run: bool = False) -> Obj:
        key = self.storage.key(resource, namespace, name)
        preconditions = (options or {}).get("preconditions") or {}
        for _ in range(_RETRIES):
            current = await self.storage.read(key)
            if current is None:
                raise not_found(resource.plural, resource.group, name)
            meta = current.obj.get("metadata", {})
            if preconditions.get("uid") and preconditions["uid"] != meta.get("uid"):
                raise conflict(resource.plural, resource.group, name,
                               f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                               f"UID in object meta: {meta.get('uid')}")
            if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != meta["resourceVersion"]:
                raise conflict(resource.plural, resource.group, name,
                               f"Precondition failed: ResourceVersion in precondition: "
                               f"{preconditions['resourceVersion']}, ResourceVersion in object meta: "
                               f"{meta['resourceVersion']}")
            if dry_run:
                return present(resource, current.obj)
            ops = [Op.delete(key), *(await self._cascade(resource, current.obj))]
            result = await self.storage.commit([Compare.mod_revision_is(key, current.mod_revision)], ops)
            if result.succeeded:
                if resource.group == CRD_GROUP and resource.kind == "CustomResourceDefinition":
                    self.registry.remove_crd(name)
                return present(resource, current.obj)
        raise conflict(resource.plural, resource.group, name, "too many concurrent writers; try again")

    async def _cascade(self, resource: ResourceType, obj: Obj) -> list[rpc.RequestOp]:
        """What goes with a deleted object, in the same transaction."""
        if resource.group == "" and resource.kind == "Service":
            return self.allocator.release(obj)
        if resource.group == "" and resource.kind == "Namespace":
            # The namespace controller's job in a real cluster, done at once:
            # every namespaced object in it goes too, and its services' addresses are freed.
            name = obj["metadata"]["name"]
            namespaced = [r for group, versions in self.registry.group_versions().items() for v in versions
                          for r in self.registry.resources(group, v) if r.namespaced]
            prefixes = sorted({self.storage.collection(r, name) for r in namespaced})
            ops = [Op.delete_prefix(prefix) for prefix in prefixes]
            services = self.registry.lookup("", "v1", "services")
            if services is not None:
                _, items = await self.storage.list(self.storage.collection(services, name))
                for item in items:
                    ops.extend(self.allocator.release(item.obj))
            return ops
        if resource.group == CRD_GROUP and resource.kind == "CustomResourceDefinition":
            spec = obj.get("spec", {})
            plural = spec.get("names", {}).get("plural")
            return [Op.delete_prefix(f"{self.storage.prefix}/{spec.get('group')}/{plural}/")]
        return []

    async def delete_collection(self, resource: ResourceType, namespace: str | None, labels: LabelSelector,
                                fields: FieldSelector, dry_run: bool = False) -> Obj:
        listed = await self.list(resource, namespace, labels, fields)
        deleted = []
        for item in listed["items"]:
            meta = item["metadata"]
            try:
                deleted.append(await self.delete(resource, meta.get("namespace"), meta["name"], None, dry_run))
            except ApiError as exc:
                if exc.code != 404:
                    raise
        listed["items"] = deleted
        return listed


def _same(a: Obj, b: Obj) -> bool:
    strip = lambda o: {**o, "metadata": {k: v for k, v in o.get("metadata", {}).items()  # noqa: E731
                                         if k not in ("resourceVersion", "generation")}}
    return strip(a) == strip(b)


def _parse_rv(text: str) -> int:
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"invalid resourceVersion {text!r}: must be an integer") from None
    if value < 0:
        raise bad_request(f"invalid resourceVersion {text!r}")
    return value


def parse_resource_version(text: str) -> int:
    return _parse_rv(text)


def _encode_continue(revision: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError):
        raise bad_request("continue key is not valid: malformed continue token") from None
