"""The etcd key layout: every key is built and parsed here, nowhere else.

A key is `<prefix>/<path...>/<part...>`: the path names the kind, the parts
identify one value (`/contiv/k8s/pod/default/web-0`). Parts may not contain
"/" or be empty, so a key always parses back to exactly one kind and parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from model.base import StoredModel
from model.kubernetes import Endpoints, Namespace, NetworkPolicy, Node, Pod, Service
from model.node import IpamAllocation, NodeRecord
from model.nodeconfig import NodeConfig
from model.status import ComponentHealth, ValidationReport

M = TypeVar("M", bound=StoredModel)

DEFAULT_PREFIX = "/contiv"


@dataclass(frozen=True)
class KeyKind(Generic[M]):
    name: str
    path: tuple[str, ...]
    parts: tuple[str, ...]
    model: type[M]


NAMESPACE = KeyKind("namespace", ("k8s", "namespace"), ("name",), Namespace)
POD = KeyKind("pod", ("k8s", "pod"), ("namespace", "name"), Pod)
SERVICE = KeyKind("service", ("k8s", "service"), ("namespace", "name"), Service)
ENDPOINTS = KeyKind("endpoints", ("k8s", "endpoints"), ("namespace", "service"), Endpoints)
NODE = KeyKind("node", ("k8s", "node"), ("name",), Node)
POLICY = KeyKind("policy", ("k8s", "policy"), ("namespace", "name"), NetworkPolicy)
NODECONFIG = KeyKind("nodeconfig", ("config", "nodeconfig"), ("node",), NodeConfig)
NODE_RECORD = KeyKind("node-record", ("nodes",), ("id",), NodeRecord)
IPAM = KeyKind("ipam", ("ipam",), ("node_id", "pod_ip"), IpamAllocation)
HEALTH = KeyKind("health", ("status", "health"), ("component", "instance"), ComponentHealth)
VALIDATION = KeyKind("validation", ("status", "validation"), ("name",), ValidationReport)

ALL_KINDS: tuple[KeyKind, ...] = (
    NAMESPACE, POD, SERVICE, ENDPOINTS, NODE, POLICY, NODECONFIG, NODE_RECORD, IPAM, HEALTH, VALIDATION,
)
KUBERNETES_KINDS: tuple[KeyKind, ...] = (NAMESPACE, POD, SERVICE, ENDPOINTS, NODE, POLICY)


@dataclass(frozen=True)
class ParsedKey:
    kind: KeyKind
    parts: tuple[str, ...]


class InvalidKey(ValueError):
    """A key or key part that does not fit the layout."""


def _check_part(part: object) -> str:
    text = str(part)
    if not text or "/" in text:
        raise InvalidKey(f"invalid key part {text!r}: must be non-empty and contain no '/'")
    return text


class KeySpace:
    """The key layout under one prefix (default `/contiv`)."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        prefix = "/" + prefix.strip("/")
        if prefix == "/":
            raise InvalidKey("the key prefix may not be empty")
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"KeySpace({self.prefix!r})"

    def key(self, kind: KeyKind, *parts: object) -> str:
        if len(parts) != len(kind.parts):
            raise InvalidKey(f"a {kind.name} key takes {len(kind.parts)} parts {kind.parts}, got {parts!r}")
        return "/".join((self.prefix, *kind.path, *(_check_part(p) for p in parts)))

    def kind_prefix(self, kind: KeyKind, *leading_parts: object) -> str:
        """The prefix of every key of `kind`, narrowed by its first parts
        (`kind_prefix(IPAM, 3)` is every allocation of node 3). Ends with "/"
        so that node 1 never matches node 10."""
        if len(leading_parts) >= len(kind.parts):
            raise InvalidKey(f"a {kind.name} prefix takes fewer than {len(kind.parts)} parts")
        return "/".join((self.prefix, *kind.path, *(_check_part(p) for p in leading_parts))) + "/"

    def parse(self, key: str | bytes) -> ParsedKey | None:
        """The kind and parts of a key, or None for a key outside the layout."""
        if isinstance(key, bytes):
            key = key.decode()
        if not key.startswith(self.prefix + "/"):
            return None
        segments = tuple(key[len(self.prefix) + 1:].split("/"))
        for kind in ALL_KINDS:
            depth = len(kind.path)
            if segments[:depth] == kind.path and len(segments) == depth + len(kind.parts):
                parts = segments[depth:]
                if all(parts):
                    return ParsedKey(kind, parts)
        return None
