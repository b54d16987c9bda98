"""Decode requests and encode replies with vpp_papi's own message classes."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from .apidefs import ApiDefinitions
from .serializer import serializer

_MSG_ID = struct.Struct(">H")


class MalformedMessage(Exception):
    """A message VPP would drop: unknown id, or shorter than its definition."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


@dataclass(frozen=True)
class Request:
    name: str
    msg_id: int
    fields: Any  # the namedtuple vpp_papi's unpack builds
    client_index: int | None
    context: int | None

    def get(self, field: str, default: Any = None) -> Any:
        return getattr(self.fields, field, default)


class Codec:
    def __init__(self, defs: ApiDefinitions) -> None:
        self.defs = defs

    def decode(self, payload: bytes) -> Request:
        if len(payload) < _MSG_ID.size:
            raise MalformedMessage("truncated", f"{len(payload)} bytes, no message id")
        (msg_id,) = _MSG_ID.unpack_from(payload)
        name = self.defs.by_id.get(msg_id)
        if name is None:
            raise MalformedMessage("unknown_id", f"message id {msg_id}")
        msgdef = self.defs.messages[name]
        try:
            fields, size = msgdef.unpack(payload)
        except (struct.error, serializer.VPPSerializerValueError, ValueError, IndexError, TypeError) as exc:
            raise MalformedMessage("truncated", f"{name}: {exc}") from exc
        if size > len(payload):
            raise MalformedMessage("truncated", f"{name}: needs {size} bytes, got {len(payload)}")
        return Request(
            name=name,
            msg_id=msg_id,
            fields=fields,
            client_index=getattr(fields, "client_index", None),
            context=getattr(fields, "context", None),
        )

    def encode(self, name: str, fields: dict[str, Any]) -> bytes:
        msgdef = self.defs.messages[name]
        data = dict(fields)
        data["_vl_msg_id"] = self.defs.ids[name]
        return bytes(msgdef.pack(data))

    def reply_has(self, name: str, field: str) -> bool:
        return field in self.defs.messages[name].field_by_name
