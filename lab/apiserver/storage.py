"""Objects in etcd, as kube-apiserver keeps them: one key per object under
/registry, the JSON of the object without its resourceVersion, which is the
key's mod revision and is put back on every read. Every write is one etcd
transaction whose comparisons carry the optimistic-concurrency checks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aetcd import rpc

from kvstore import KeyValue, KVStore, KVStoreError, TxnResult
from lab.apiserver.errors import ApiError, gone, internal
from lab.apiserver.resources import ResourceType

Obj = dict[str, Any]


@dataclass
class Stored:
    """An object as read, with the revisions writes compare against."""

    key: str
    obj: Obj
    mod_revision: int
    create_revision: int


def encode(obj: Obj) -> bytes:
    meta = dict(obj.get("metadata") or {})
    meta.pop("resourceVersion", None)
    return json.dumps({**obj, "metadata": meta}, separators=(",", ":")).encode()


def decode(value: bytes, mod_revision: int) -> Obj:
    obj = json.loads(value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(mod_revision)
    return obj


def revision_error(exc: KVStoreError, revision: int) -> ApiError | None:
    """The Kubernetes error for a read at a revision etcd cannot serve."""
    text = str(exc)
    if "compacted" in text:
        return gone(f"The resourceVersion for the provided list is too old. (requested {revision})")
    if "future revision" in text:
        return ApiError(504, "Timeout", f"Too large resource version: {revision}",
                        {"causes": [{"reason": "ResourceVersionTooLarge",
                                     "message": "Too large resource version"}], "retryAfterSeconds": 1})
    return None


class Storage:
    def __init__(self, kv: KVStore, prefix: str = "/registry") -> None:
        self.kv = kv
        self.prefix = prefix.rstrip("/")

    # --- keys -------------------------------------------------------------------------

    def collection(self, resource: ResourceType, namespace: str | None = None) -> str:
        """The key prefix of every object of a resource, or of those in one namespace."""
        base = f"{self.prefix}/{resource.storage_segment}/"
        return f"{base}{namespace}/" if resource.namespaced and namespace else base

    def key(self, resource: ResourceType, namespace: str | None, name: str) -> str:
        if resource.namespaced:
            return f"{self.prefix}/{resource.storage_segment}/{namespace}/{name}"
        return f"{self.prefix}/{resource.storage_segment}/{name}"

    def claim_key(self, kind: str, value: str) -> str:
        """Allocation records (service IPs, node ports), one key per value
        taken, so that two creates racing for one value cannot both commit."""
        return f"{self.prefix}/ranges/{kind}/{value}"

    # --- reads ------------------------------------------------------------------------

    async def read(self, key: str) -> Stored | None:
        kv = await self.kv.get_raw(key)
        return _stored(kv) if kv is not None else None

    async def list(self, prefix: str, revision: int = 0) -> tuple[int, list[Stored]]:
        try:
            raw = await self.kv.range_raw(prefix, revision)
        except KVStoreError as exc:
            error = revision_error(exc, revision)
            if error is not None:
                raise error from None
            raise
        return raw.revision, [_stored(kv) for kv in raw.kvs]

    async def check_revision(self, prefix: str, revision: int) -> None:
        """Raise 410 if etcd has compacted `revision` away (a client's resume
        point that no longer exists), or 504 if it is in the future."""
        try:
            await self.kv.range_raw(prefix, revision, keys_only=True)
        except KVStoreError as exc:
            error = revision_error(exc, revision)
            if error is not None:
                raise error from None
            raise

    async def revision(self) -> int:
        return await self.kv.revision()

    # --- writes -----------------------------------------------------------------------

    async def commit(self, compare: Sequence[rpc.Compare], success: Sequence[rpc.RequestOp]) -> TxnResult:
        try:
            return await self.kv.txn(compare, success)
        except KVStoreError as exc:
            if "too many operations" in str(exc):
                raise internal(f"the change needs more operations than etcd allows in one transaction: {exc}") \
                    from None
            raise


def _stored(kv: KeyValue) -> Stored:
    return Stored(kv.key, decode(kv.value, kv.mod_revision), kv.mod_revision, kv.create_revision)
