"""How to reach etcd: one pydantic model shared by every process's options."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class EtcdConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoints: tuple[str, ...] = ("127.0.0.1:2379",)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    # Connecting, and each request, give up after these many seconds with a
    # clear EtcdUnavailable instead of hanging while etcd is away.
    dial_timeout: float = Field(default=5.0, gt=0)
    request_timeout: float = Field(default=5.0, gt=0)

    @field_validator("endpoints", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        # "a:2379,b:2379" from a flag or environment variable.
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        if isinstance(value, (list, tuple)):
            return tuple(_strip_scheme(str(v).strip()) for v in value)
        return value

    @field_validator("endpoints")
    @classmethod
    def _host_port(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one etcd endpoint is needed")
        for endpoint in value:
            host, sep, port = endpoint.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"etcd endpoint {endpoint!r} is not host:port")
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> EtcdConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a client certificate needs its key, and a key its certificate")
        return self

    @property
    def tls(self) -> bool:
        return self.ca_file is not None or self.cert_file is not None


def _strip_scheme(endpoint: str) -> str:
    for scheme in ("http://", "https://"):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme):].rstrip("/")
    return endpoint
