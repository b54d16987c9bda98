"""Protobuf wire encoding of the contiv.cni.v1 messages, as plain dicts.

Why not `cni.api.cni_pb2`: importing google.protobuf costs about 35 ms on top
of the ~110 ms `import grpc` floor, which alone breaks the plugin's start-up
budget (1.2x the floor), and the plugin runs for every pod. The messages are
small and flat, so this module encodes and decodes exactly the fields of
cni/api/cni.proto. The proto stays the contract: tests/cni/test_wire.py
compares SCHEMAS with the generated descriptors field by field and round-trips
every message through cni_pb2, so a change to the proto fails the tests until
this table follows it.
"""

from __future__ import annotations

from typing import Any

# A field is (number, name, kind, repeated, submessage name or "").
# Kinds are the proto3 scalar names this contract uses, "message", and "map"
# (map<string, string>, encoded as repeated entries {1: key, 2: value}).
Field = tuple[int, str, str, bool, str]
Message = dict[str, Any]

SCHEMAS: dict[str, tuple[Field, ...]] = {
    "CNIRequest": (
        (1, "cni_version", "string", False, ""),
        (2, "container_id", "string", False, ""),
        (3, "netns", "string", False, ""),
        (4, "ifname", "string", False, ""),
        (5, "pod_namespace", "string", False, ""),
        (6, "pod_name", "string", False, ""),
        (7, "pod_uid", "string", False, ""),
        (8, "extra_args", "map", False, ""),
        (9, "network_name", "string", False, ""),
        (10, "mtu", "uint32", False, ""),
        (11, "network_config", "bytes", False, ""),
    ),
    "Interface": (
        (1, "name", "string", False, ""),
        (2, "mac", "string", False, ""),
        (3, "sandbox", "string", False, ""),
        (4, "mtu", "uint32", False, ""),
    ),
    "IPConfig": (
        (1, "address", "string", False, ""),
        (2, "gateway", "string", False, ""),
        (3, "interface", "int32", False, ""),
    ),
    "Route": (
        (1, "dst", "string", False, ""),
        (2, "gw", "string", False, ""),
    ),
    "DNS": (
        (1, "nameservers", "string", True, ""),
        (2, "domain", "string", False, ""),
        (3, "search", "string", True, ""),
        (4, "options", "string", True, ""),
    ),
    "CNIReply": (
        (1, "error_code", "uint32", False, ""),
        (2, "error_msg", "string", False, ""),
        (3, "error_details", "string", False, ""),
        (4, "interfaces", "message", True, "Interface"),
        (5, "ips", "message", True, "IPConfig"),
        (6, "routes", "message", True, "Route"),
        (7, "dns", "message", False, "DNS"),
        (8, "agent_micros", "uint64", False, ""),
    ),
    "StatusRequest": (
        (1, "cni_version", "string", False, ""),
    ),
    "StatusReply": (
        (1, "ready", "bool", False, ""),
        (2, "message", "string", False, ""),
    ),
    "Attachment": (
        (1, "container_id", "string", False, ""),
        (2, "ifname", "string", False, ""),
    ),
    "GCRequest": (
        (1, "cni_version", "string", False, ""),
        (2, "network_name", "string", False, ""),
        (3, "valid_attachments", "message", True, "Attachment"),
    ),
    "GCReply": (
        (1, "error_code", "uint32", False, ""),
        (2, "error_msg", "string", False, ""),
        (3, "removed", "uint32", False, ""),
    ),
}

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_VARINT_KINDS = frozenset({"uint32", "uint64", "int32", "bool"})
_SCALAR_DEFAULTS: dict[str, Any] = {"string": "", "bytes": b"", "uint32": 0, "uint64": 0, "int32": 0, "bool": False}


class WireError(ValueError):
    """The bytes are not a valid encoding of the expected message."""


def _varint(value: int) -> bytes:
    if value < 0:
        # proto3 int32/int64 negatives are 10-byte two's complement varints.
        value += 1 << 64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint((number << 3) | wire_type)


def _len_field(number: int, payload: bytes) -> bytes:
    return _key(number, _LEN) + _varint(len(payload)) + payload


def _encode_scalar(number: int, kind: str, value: Any) -> bytes:
    if kind == "string":
        return _len_field(number, value.encode("utf-8"))
    if kind == "bytes":
        return _len_field(number, bytes(value))
    if kind == "bool":
        return _key(number, _VARINT) + (b"\x01" if value else b"\x00")
    return _key(number, _VARINT) + _varint(int(value))


def encode(schema: str, message: Message) -> bytes:
    """Encode a dict (missing keys and proto3 defaults are left out)."""
    out = bytearray()
    for number, name, kind, repeated, sub in SCHEMAS[schema]:
        value = message.get(name)
        if value is None:
            continue
        if kind == "map":
            for key, item in value.items():
                entry = _encode_scalar(1, "string", key) + _encode_scalar(2, "string", item)
                out += _len_field(number, entry)
        elif kind == "message":
            for item in value if repeated else (value,):
                out += _len_field(number, encode(sub, item))
        elif repeated:
            for item in value:
                out += _encode_scalar(number, kind, item)
        elif value != _SCALAR_DEFAULTS[kind]:
            out += _encode_scalar(number, kind, value)
    return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint too long")


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """Split a message into (number, wire type, raw value), skipping nothing."""
    fields: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, pos = _read_varint(data, pos)
        elif wire_type == _LEN:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise WireError("truncated length-delimited field")
            value, pos = data[pos:pos + size], pos + size
        elif wire_type in (_FIXED64, _FIXED32):
            width = 8 if wire_type == _FIXED64 else 4
            value, pos = data[pos:pos + width], pos + width
        else:
            raise WireError(f"unsupported wire type {wire_type}")
        fields.append((number, wire_type, value))
    if pos != len(data):
        raise WireError("truncated fixed-width field")
    return fields


def _decode_scalar(kind: str, wire_type: int, raw: Any) -> Any:
    if kind in _VARINT_KINDS:
        if wire_type != _VARINT:
            raise WireError(f"{kind} field with wire type {wire_type}")
        if kind == "bool":
            return raw != 0
        if kind == "int32":
            raw &= 0xFFFFFFFF
            return raw - (1 << 32) if raw & 0x80000000 else raw
        return raw & 0xFFFFFFFF if kind == "uint32" else raw & 0xFFFFFFFFFFFFFFFF
    if wire_type != _LEN:
        raise WireError(f"{kind} field with wire type {wire_type}")
    if kind == "string":
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireError("string field is not UTF-8") from exc
    return bytes(raw)


def decode(schema: str, data: bytes) -> Message:
    """Decode into a dict holding every field, defaults included.

    Unknown field numbers are ignored, as protobuf does, so an agent built
    from a newer compatible proto still talks to this plugin."""
    by_number = {f[0]: f for f in SCHEMAS[schema]}
    message: Message = {}
    for _number, name, kind, repeated, _sub in SCHEMAS[schema]:
        if kind == "map":
            message[name] = {}
        elif repeated:
            message[name] = []
        elif kind == "message":
            message[name] = None
        else:
            message[name] = _SCALAR_DEFAULTS[kind]
    for number, wire_type, raw in _fields(data):
        field = by_number.get(number)
        if field is None:
            continue
        _, name, kind, repeated, sub = field
        if kind == "map":
            entry = {1: "", 2: ""}
            for entry_number, entry_type, entry_raw in _fields(raw):
                if entry_number in entry:
                    entry[entry_number] = _decode_scalar("string", entry_type, entry_raw)
            message[name][entry[1]] = entry[2]
        elif kind == "message":
            if wire_type != _LEN:
                raise WireError(f"message field {name} with wire type {wire_type}")
            value = decode(sub, raw)
            if repeated:
                message[name].append(value)
            else:
                message[name] = value
        elif repeated:
            message[name].append(_decode_scalar(kind, wire_type, raw))
        else:
            message[name] = _decode_scalar(kind, wire_type, raw)
    return message
