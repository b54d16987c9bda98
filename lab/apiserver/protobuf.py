"""Just enough of Kubernetes' protobuf encoding for the requests kubectl
sends that way: its typed commands (`kubectl create namespace x`) post
protobuf, and the real server accepts it. Decoded: the envelope (the magic
"k8s\\0" and a runtime.Unknown carrying apiVersion and kind), and objects
made only of ObjectMeta and fields of our table below. Anything else is a
415, so that no field is ever silently dropped."""

from __future__ import annotations

from typing import Any

from lab.apiserver.errors import ApiError

MAGIC = b"k8s\x00"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) in order; length-delimited values stay bytes."""
    out = []
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _string_map(entries: list[bytes]) -> dict[str, str]:
    result = {}
    for entry in entries:
        parts = {n: v for n, _, v in _fields(entry)}
        result[parts.get(1, b"").decode()] = parts.get(2, b"").decode()
    return result


_META_STRINGS = {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion"}


def _object_meta(data: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    labels, annotations, finalizers = [], [], []
    for number, _, value in _fields(data):
        if number in _META_STRINGS:
            # gogo-protobuf writes every string field, empty ones too.
            if value:
                meta[_META_STRINGS[number]] = value.decode()
        elif number == 11:
            labels.append(value)
        elif number == 12:
            annotations.append(value)
        elif number == 14:
            finalizers.append(value.decode())
        elif number in (4, 7, 8, 10, 17):
            continue  # server-owned or empty in a request: selfLink, generation, timestamps, managedFields
        else:
            raise _unsupported(f"ObjectMeta field {number}")
    if labels:
        meta["labels"] = _string_map(labels)
    if annotations:
        meta["annotations"] = _string_map(annotations)
    if finalizers:
        meta["finalizers"] = finalizers
    return meta


def _namespace_spec(data: bytes) -> dict[str, Any]:
    finalizers = [value.decode() for number, _, value in _fields(data) if number == 1]
    return {"finalizers": finalizers} if finalizers else {}


# Kinds whose whole body this module understands: field 2's decoder (spec).
_SPECS = {("v1", "Namespace"): _namespace_spec}


def _unsupported(what: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f"this server decodes protobuf only for simple objects ({what} is not one); "
                    "send JSON (kubectl create -f / apply -f do)")


def decode_object(body: bytes) -> dict[str, Any]:
    if not body.startswith(MAGIC):
        raise ApiError(400, "BadRequest", "a protobuf body must start with the k8s magic number")
    try:
        unknown = {n: v for n, _, v in _fields(body[len(MAGIC):])}
        type_meta = {n: v.decode() for n, _, v in _fields(unknown.get(1, b""))}
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        spec_decoder = _SPECS.get((api_version, kind))
        if spec_decoder is None:
            raise _unsupported(f"{api_version} {kind}")
        obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
        for number, _, value in _fields(unknown.get(2, b"")):
            if number == 1:
                obj["metadata"] = _object_meta(value)
            elif number == 2:
                obj["spec"] = spec_decoder(value)
            elif number == 3:
                continue  # status is the server's to set
            else:
                raise _unsupported(f"{kind} field {number}")
        return obj
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "BadRequest", f"the protobuf body could not be decoded: {exc}") from None
