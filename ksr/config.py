"""The KSR's settings, validated once at the boundary (the command line)."""

from __future__ import annotations

import os
import socket

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, field_validator

from ksr.connection import ApiConnection
from kvstore import EtcdConfig
from model import DEFAULT_PREFIX, KeySpace


def default_identity() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class KsrConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    # Checked by connection.resolve; a plain instance check here keeps
    # pydantic from resolving the client's Configuration type it refers to.
    api: InstanceOf[ApiConnection]
    etcd: EtcdConfig
    prefix: str = DEFAULT_PREFIX
    metrics_address: str = "0.0.0.0"
    # 0: no HTTP server (no health, no metrics).
    metrics_port: int = Field(default=9191, ge=0, le=65535)
    lease_ttl: int = Field(default=10, ge=1, le=3600)
    identity: str = Field(default_factory=default_identity, min_length=1)
    # How often etcd is checked for lost data and reachability.
    probe_interval: float = Field(default=1.0, gt=0)
    watch_timeout: int = Field(default=300, ge=1)
    # Objects per list request; 0 lists each collection in one request.
    list_chunk_size: int = Field(default=0, ge=0)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return KeySpace(value).prefix

    @property
    def keys(self) -> KeySpace:
        return KeySpace(self.prefix)
