"""Label and field selectors, parsed from query strings and matched against
objects (plain dicts, as stored)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.apiserver.errors import ApiError, bad_request
from lab.apiserver.resources import ResourceType

_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            # As in Kubernetes: a missing label satisfies `!=` and `notin`.
            return not present or value not in self.values
        if self.op in ("gt", "lt"):
            try:
                have, want = int(value or ""), int(self.values[0])
            except ValueError:
                return False
            return have > want if self.op == "gt" else have < want
        return False


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside the parentheses of an in/notin set."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


_SET = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")
_BINARY = re.compile(r"^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$")


def parse_label_selector(text: str | None) -> LabelSelector:
    if not text or not text.strip():
        return LabelSelector()
    requirements = []
    for part in _split_top_level(text):
        requirements.append(_parse_requirement(part, text))
    return LabelSelector(tuple(requirements))


def _parse_requirement(part: str, whole: str) -> Requirement:
    if match := _SET.match(part):
        key, op, values = match.group(1), match.group(2), match.group(3)
        items = tuple(v.strip() for v in values.split(",") if v.strip())
        _check_key(key, whole)
        for v in items:
            _check_value(v, whole)
        return Requirement(key, op, items)
    if part.startswith("!"):
        key = part[1:].strip()
        _check_key(key, whole)
        return Requirement(key, "!exists")
    if match := _BINARY.match(part):
        key, op, value = match.group(1), match.group(2), match.group(3).strip()
        _check_key(key, whole)
        if op in (">", "<"):
            if not value.lstrip("-").isdigit():
                raise bad_request(f"unable to parse requirement: for 'gt', 'lt' operators, the value must be an integer: {whole}")
            return Requirement(key, "gt" if op == ">" else "lt", (value,))
        _check_value(value, whole)
        return Requirement(key, "!=" if op == "!=" else "=", (value,))
    _check_key(part, whole)
    return Requirement(part, "exists")


def _check_key(key: str, whole: str) -> None:
    name = key.rpartition("/")[2]
    if not _LABEL_KEY.match(key) or len(name) > 63:
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in selector {whole!r}")


def _check_value(value: str, whole: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise bad_request(f"unable to parse requirement: invalid label value {value!r} in selector {whole!r}")


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    equal: bool
    value: str

    def matches(self, obj: dict[str, Any]) -> bool:
        return (field_value(obj, self.path) == self.value) == self.equal


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: dict[str, Any]) -> bool:
        return all(r.matches(obj) for r in self.requirements)

    def exact_name(self) -> str | None:
        """The name a `metadata.name=x` selector pins (a client-go single-object watch)."""
        for r in self.requirements:
            if r.path == "metadata.name" and r.equal:
                return r.value
        return None


def field_value(obj: dict[str, Any], path: str) -> str:
    """A field rendered as field selectors compare it: strings as they are,
    booleans lowercase, missing fields as the empty string."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def parse_field_selector(text: str | None, resource: ResourceType) -> FieldSelector:
    if not text or not text.strip():
        return FieldSelector()
    requirements = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        for op in ("!=", "==", "="):
            if op in part:
                path, _, value = part.partition(op)
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        path = path.strip()
        if not resource.supports_field(path):
            raise _unsupported_field(path, resource)
        requirements.append(FieldRequirement(path, op != "!=", value.strip()))
    return FieldSelector(tuple(requirements))


def _unsupported_field(path: str, resource: ResourceType) -> ApiError:
    return bad_request(f'"{path}" is not a known field selector: only "metadata.name", "metadata.namespace"'
                       + "".join(f', "{f}"' for f in resource.field_labels))


Matcher = Callable[[dict[str, Any]], bool]


def matcher(labels: LabelSelector, fields: FieldSelector) -> Matcher:
    return lambda obj: labels.matches(obj) and fields.matches(obj)
