"""Building blocks of etcd transactions: comparisons and operations.

Thin, typed constructors of etcd's own protobuf messages, so that callers
never touch protobuf and every transaction reads like what it checks.
"""

from __future__ import annotations

from aetcd import rpc

from model.base import StoredModel

Target = rpc.Compare.CompareTarget
Result = rpc.Compare.CompareResult


def _b(text: str) -> bytes:
    return text.encode()


def prefix_range_end(prefix: bytes) -> bytes:
    """The first key after every key that starts with `prefix`."""
    end = bytearray(prefix)
    for i in reversed(range(len(end))):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"


def encode_value(value: bytes | StoredModel) -> bytes:
    return value if isinstance(value, bytes) else value.to_json()


class Compare:
    """Conditions a transaction checks before it applies its operations."""

    @staticmethod
    def mod_revision_is(key: str, revision: int) -> rpc.Compare:
        """The key was last written at `revision`; 0 means the key must not exist."""
        return rpc.Compare(result=Result.EQUAL, target=Target.MOD, key=_b(key), mod_revision=revision)

    @staticmethod
    def absent(key: str) -> rpc.Compare:
        return rpc.Compare(result=Result.EQUAL, target=Target.CREATE, key=_b(key), create_revision=0)

    @staticmethod
    def created_at(key: str, revision: int) -> rpc.Compare:
        """The key still exists as the very instance created at `revision`
        (a deleted and re-created key has a new create revision)."""
        return rpc.Compare(result=Result.EQUAL, target=Target.CREATE, key=_b(key), create_revision=revision)

    @staticmethod
    def value_is(key: str, value: bytes) -> rpc.Compare:
        return rpc.Compare(result=Result.EQUAL, target=Target.VALUE, key=_b(key), value=value)


class Op:
    """Operations a transaction applies."""

    @staticmethod
    def put(key: str, value: bytes | StoredModel, lease: int = 0) -> rpc.RequestOp:
        return rpc.RequestOp(request_put=rpc.PutRequest(key=_b(key), value=encode_value(value), lease=lease))

    @staticmethod
    def delete(key: str) -> rpc.RequestOp:
        return rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=_b(key)))

    @staticmethod
    def delete_prefix(prefix: str) -> rpc.RequestOp:
        key = _b(prefix)
        return rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key, range_end=prefix_range_end(key)))

    @staticmethod
    def get(key: str) -> rpc.RequestOp:
        return rpc.RequestOp(request_range=rpc.RangeRequest(key=_b(key)))
