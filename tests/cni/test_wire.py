"""cni.wire (the plugin's protobuf-free codec) against the generated cni_pb2."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import FieldDescriptor

from cni import wire
from cni.api import cni_pb2

_KINDS = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_MESSAGE: "message",
}


def _expected_schema(descriptor: object) -> tuple[wire.Field, ...]:
    fields = []
    for f in descriptor.fields:  # type: ignore[attr-defined]
        is_map = f.message_type is not None and f.message_type.GetOptions().map_entry
        repeated = f.is_repeated and not is_map
        kind = "map" if is_map else _KINDS[f.type]
        sub = f.message_type.name if kind == "message" else ""
        fields.append((f.number, f.name, kind, repeated, sub))
    return tuple(fields)


def test_schemas_cover_every_message_of_the_proto_exactly() -> None:
    top_level = dict(cni_pb2.DESCRIPTOR.message_types_by_name)
    assert set(wire.SCHEMAS) == set(top_level)
    for name, descriptor in top_level.items():
        assert wire.SCHEMAS[name] == _expected_schema(descriptor), name


def test_map_fields_are_string_to_string() -> None:
    entry = cni_pb2.CNIRequest.DESCRIPTOR.fields_by_name["extra_args"].message_type
    assert [f.type for f in entry.fields] == [FieldDescriptor.TYPE_STRING] * 2


REQUEST = {
    "cni_version": "1.1.0", "container_id": "abc", "netns": "/var/run/netns/x", "ifname": "eth0",
    "pod_namespace": "default", "pod_name": "web-0", "pod_uid": "u-1",
    "extra_args": {"IgnoreUnknown": "1", "K8S_POD_INFRA_CONTAINER_ID": "abc", "é": "ü"},
    "network_name": "contiv-net", "mtu": 1450, "network_config": b'{"name":"x"}\x00\xff',
}


def test_request_encoding_parses_with_protobuf() -> None:
    parsed = cni_pb2.CNIRequest.FromString(wire.encode("CNIRequest", REQUEST))
    assert {f: getattr(parsed, f) for f in REQUEST if f != "extra_args"} == \
        {f: v for f, v in REQUEST.items() if f != "extra_args"}
    assert dict(parsed.extra_args) == REQUEST["extra_args"]


def test_request_round_trips_through_protobuf() -> None:
    data = cni_pb2.CNIRequest(**REQUEST).SerializeToString()
    assert wire.decode("CNIRequest", data) == REQUEST


def test_reply_decoding_matches_protobuf() -> None:
    reply = cni_pb2.CNIReply(
        error_code=3, error_msg="unknown", error_details="d",
        interfaces=[cni_pb2.Interface(name="eth0", mac="m", sandbox="/ns", mtu=9000)],
        ips=[cni_pb2.IPConfig(address="10.1.1.2/32", gateway="10.1.1.1", interface=-1),
             cni_pb2.IPConfig(address="fd00::2/128", interface=2147483647)],
        routes=[cni_pb2.Route(dst="0.0.0.0/0", gw="10.1.1.1")],
        dns=cni_pb2.DNS(nameservers=["a", "b"], domain="d", search=["s"], options=["o"]),
        agent_micros=2**63 + 5,
    )
    decoded = wire.decode("CNIReply", reply.SerializeToString())
    assert decoded["ips"][0]["interface"] == -1
    assert decoded["ips"][1]["interface"] == 2147483647
    assert decoded["agent_micros"] == 2**63 + 5
    assert decoded["dns"] == {"nameservers": ["a", "b"], "domain": "d", "search": ["s"], "options": ["o"]}
    assert decoded["interfaces"] == [{"name": "eth0", "mac": "m", "sandbox": "/ns", "mtu": 9000}]
    # and back: our encoding of the decoded dict is what protobuf reads
    assert cni_pb2.CNIReply.FromString(wire.encode("CNIReply", decoded)) == reply


def test_defaults_and_absent_submessage() -> None:
    decoded = wire.decode("CNIReply", b"")
    assert decoded["error_code"] == 0 and decoded["interfaces"] == [] and decoded["dns"] is None
    assert wire.decode("StatusReply", cni_pb2.StatusReply(ready=True).SerializeToString())["ready"] is True


@pytest.mark.parametrize("schema,message", [
    ("StatusRequest", {"cni_version": "1.1.0"}),
    ("GCRequest", {"cni_version": "1.1.0", "network_name": "n",
                   "valid_attachments": [{"container_id": "a", "ifname": "eth0"},
                                         {"container_id": "b", "ifname": "net1"}]}),
    ("GCReply", {"error_code": 0, "error_msg": "", "removed": 7}),
])
def test_other_messages_round_trip(schema: str, message: dict) -> None:
    cls = getattr(cni_pb2, schema)
    assert cls.FromString(wire.encode(schema, message)) == cls(**message)
    assert wire.decode(schema, cls(**message).SerializeToString()) == message


def test_unknown_fields_are_skipped() -> None:
    # field 99 as varint, fixed64, length-delimited and fixed32, then a known one
    data = (bytes([0x98, 0x06, 0x01]) + bytes([0x99, 0x06]) + b"\0" * 8 + bytes([0x9A, 0x06, 0x02]) + b"hi"
            + bytes([0x9D, 0x06]) + b"\0" * 4 + cni_pb2.StatusReply(message="ok").SerializeToString())
    assert wire.decode("StatusReply", data) == {"ready": False, "message": "ok"}


@pytest.mark.parametrize("data", [b"\x0a\x05ab", b"\x80", b"\x0b", b"\x08" + b"\xff" * 11])
def test_malformed_input_raises(data: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode("StatusReply", data)
