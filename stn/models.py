"""Pydantic models of what STN saves, stores on disk and replies with.

The on-disk record of a stolen interface is `StolenInterface` serialised with
`model_dump_json`; the gRPC replies are converted from the same models
(`stn.convert`), so disk, wire and the agent's client all agree.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Linux IFNAMSIZ is 16 including the terminating NUL.
MAX_IFNAME_LEN = 15
FOREVER = 0xFFFFFFFF

# Scopes, protocols and route types by kernel number, for display only.
SCOPE_NAMES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
PROTOCOL_NAMES = {
    0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 9: "ra",
    16: "dhcp", 42: "babel", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip",
}
ROUTE_TYPE_NAMES = {
    1: "unicast", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast",
    6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat",
}
TABLE_NAMES = {253: "default", 254: "main", 255: "local"}

_IFNAME = re.compile(r"^[^\s/:]+$")


class Family(StrEnum):
    INET = "inet"
    INET6 = "inet6"


class Phase(StrEnum):
    """Where a record is in its life; every crash point maps to one phase.

    STEALING: saved to disk, Linux may be partly stripped. A restart rolls it
    back (restores and forgets) because the caller never got a reply.
    STOLEN: stripped; the dataplane may own the NIC. Kept across restarts.
    RESTORING: a restore began; a restart finishes it, then forgets it.
    """

    STEALING = "stealing"
    STOLEN = "stolen"
    RESTORING = "restoring"


def validate_interface_name(name: str) -> str:
    """The kernel's rules for a link name; raises ValueError with the reason."""
    if not name:
        raise ValueError("interface name is empty")
    if len(name) > MAX_IFNAME_LEN:
        raise ValueError(f"interface name {name!r} is longer than {MAX_IFNAME_LEN} characters")
    if name in (".", "..") or not _IFNAME.match(name):
        raise ValueError(f"interface name {name!r} contains characters Linux does not allow")
    return name


InterfaceName = Annotated[str, Field(min_length=1, max_length=MAX_IFNAME_LEN)]


class _Model(BaseModel):
    # Records written by a newer STN must still load after a downgrade.
    model_config = ConfigDict(extra="ignore", frozen=True)


class LinkInfo(_Model):
    name: InterfaceName
    index: int = Field(ge=0)
    mac_address: str = ""
    mtu: int = Field(ge=0)
    admin_up: bool
    oper_state: str = ""
    pci_address: str | None = None
    driver: str | None = None


class SavedAddress(_Model):
    family: Family
    address: str
    prefix_len: int = Field(ge=0, le=128)
    peer: str | None = None
    broadcast: str | None = None
    label: str | None = None
    scope: int = Field(default=0, ge=0, le=255)
    flags: int = Field(default=0, ge=0)
    valid_lifetime: int = Field(default=FOREVER, ge=0, le=FOREVER)
    preferred_lifetime: int = Field(default=FOREVER, ge=0, le=FOREVER)
    protocol: int = Field(default=0, ge=0, le=255)

    @field_validator("address", "peer", "broadcast")
    @classmethod
    def _is_ip(cls, value: str | None) -> str | None:
        return None if value is None else str(ipaddress.ip_address(value))

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix_len}"


class SavedRoute(_Model):
    family: Family
    # None for a default route (dst_len 0).
    destination: str | None = None
    dst_len: int = Field(default=0, ge=0, le=128)
    gateway: str | None = None
    metric: int | None = Field(default=None, ge=0)
    scope: int = Field(default=0, ge=0, le=255)
    table: int = Field(default=254, ge=0)
    protocol: int = Field(default=0, ge=0, le=255)
    type: int = Field(default=1, ge=0, le=255)
    preferred_source: str | None = None
    source: str | None = None
    src_len: int = Field(default=0, ge=0, le=128)
    tos: int = Field(default=0, ge=0, le=255)
    flags: int = Field(default=0, ge=0)
    metrics: dict[str, int] = Field(default_factory=dict)
    ipv6_preference: int = Field(default=0, ge=0, le=255)

    @field_validator("destination", "gateway", "preferred_source", "source")
    @classmethod
    def _is_ip(cls, value: str | None) -> str | None:
        return None if value is None else str(ipaddress.ip_address(value))

    @property
    def is_default(self) -> bool:
        return self.dst_len == 0 and self.source is None

    @property
    def prefix(self) -> str:
        if self.destination is None:
            return "default"
        return f"{self.destination}/{self.dst_len}"

    @property
    def derived_from_address(self) -> bool:
        """Local/broadcast/anycast routes the kernel adds and removes with an address.

        A restore never adds these itself: for an IPv6 address still in
        duplicate address detection the kernel inserts its own copy later,
        and a second, user-added copy would outlive the address.
        """
        return self.protocol == 2 and self.type in (2, 3, 4)


class StolenInterface(_Model):
    """The saved configuration of one stolen interface (also its on-disk record)."""

    interface_name: InterfaceName
    dhcp_enabled: bool = False
    phase: Phase
    link: LinkInfo
    addresses: tuple[SavedAddress, ...] = ()
    routes: tuple[SavedRoute, ...] = ()
    netns: str | None = None
    stolen_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @field_validator("interface_name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return validate_interface_name(value)

    @model_validator(mode="after")
    def _link_matches(self) -> Self:
        if self.link.name != self.interface_name:
            raise ValueError(f"link {self.link.name!r} saved under {self.interface_name!r}")
        return self

    def in_phase(self, phase: Phase) -> StolenInterface:
        return self.model_copy(update={"phase": phase})

    @property
    def default_routes(self) -> tuple[SavedRoute, ...]:
        return tuple(r for r in self.routes if r.is_default)


class StealRequest(_Model):
    interface_name: str
    dhcp_enabled: bool = False


class DaemonConfig(_Model):
    """Options of `contiv-stn serve`."""

    socket_path: str = "/var/run/contiv/stn.sock"
    state_dir: str = "/var/lib/contiv/stn"
    agent_liveness_url: str = "http://127.0.0.1:9999/liveness"
    # Time the agent gets after STN starts, and after each steal, to come up.
    grace_period: float = Field(default=30.0, ge=0)
    # How long the agent must have been unreachable before NICs are restored.
    dead_after: float = Field(default=15.0, gt=0)
    probe_interval: float = Field(default=2.0, gt=0)
    netns: str | None = None

    @field_validator("agent_liveness_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"agent liveness URL {value!r} is not an http(s) URL")
        return value
