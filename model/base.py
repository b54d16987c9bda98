"""The base of every value stored in etcd."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict


class StoredModel(BaseModel):
    """A value as stored in etcd: JSON, immutable, tolerant of other versions.

    extra="ignore": a value written by a newer version with more fields still
    reads; missing optional fields take their defaults, so an older writer's
    value reads too. frozen: values are compared and cached, never edited in
    place; sequences are tuples for the same reason.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Self:
        return cls.model_validate_json(data)
