"""The key layout: every kind's keys build and parse back, under any prefix."""

from __future__ import annotations

import pytest

import model
from model import KeySpace

PARTS = {
    model.NAMESPACE: ("prod",),
    model.POD: ("prod", "web-0"),
    model.SERVICE: ("prod", "web"),
    model.ENDPOINTS: ("prod", "web"),
    model.NODE: ("n1",),
    model.POLICY: ("prod", "deny-all"),
    model.NODECONFIG: ("n1",),
    model.NODE_RECORD: ("3",),
    model.IPAM: ("3", "10.1.3.7"),
    model.HEALTH: ("ksr", "ksr-0"),
    model.VALIDATION: ("topology",),
}


def test_every_kind_is_covered() -> None:
    assert set(PARTS) == set(model.ALL_KINDS)


@pytest.mark.parametrize("prefix", ["/contiv", "contiv/", "/deep/custom/prefix"])
@pytest.mark.parametrize("kind", model.ALL_KINDS, ids=lambda k: k.name)
def test_build_and_parse(kind: model.KeyKind, prefix: str) -> None:
    keys = KeySpace(prefix)
    key = keys.key(kind, *PARTS[kind])
    assert key.startswith("/" + prefix.strip("/") + "/")
    parsed = keys.parse(key)
    assert parsed is not None and parsed.kind is kind and parsed.parts == PARTS[kind]
    assert key.startswith(keys.kind_prefix(kind))


def test_documented_layout() -> None:
    keys = KeySpace()
    assert keys.key(model.POD, "default", "web") == "/contiv/k8s/pod/default/web"
    assert keys.key(model.ENDPOINTS, "default", "web") == "/contiv/k8s/endpoints/default/web"
    assert keys.key(model.NODECONFIG, "n1") == "/contiv/config/nodeconfig/n1"
    assert keys.key(model.NODE_RECORD, 1) == "/contiv/nodes/1"
    assert keys.key(model.IPAM, 1, "10.1.1.2") == "/contiv/ipam/1/10.1.1.2"


def test_narrowed_prefix_does_not_match_a_longer_sibling() -> None:
    keys = KeySpace()
    node1 = keys.kind_prefix(model.IPAM, 1)
    assert not keys.key(model.IPAM, 10, "10.1.10.2").startswith(node1)
    assert keys.key(model.IPAM, 1, "10.1.1.2").startswith(node1)


@pytest.mark.parametrize("parts", [("", "x"), ("a/b", "x"), ("a",), ("a", "b", "c")])
def test_bad_parts_are_rejected(parts: tuple[str, ...]) -> None:
    with pytest.raises(model.InvalidKey):
        KeySpace().key(model.POD, *parts)


@pytest.mark.parametrize("key", [
    "/other/k8s/pod/a/b", "/contiv/k8s/pod/a", "/contiv/k8s/pod/a/b/c", "/contiv/unknown/x", "/contiv/k8s/pod//b",
    "/contivX/k8s/pod/a/b",
])
def test_foreign_keys_do_not_parse(key: str) -> None:
    assert KeySpace().parse(key) is None


def test_empty_prefix_is_rejected() -> None:
    with pytest.raises(model.InvalidKey):
        KeySpace("/")
