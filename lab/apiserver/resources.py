"""What the server serves: each resource's group, version, kind, plural name,
scope and subresources, the built-in ones and those that CRDs define."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Field selectors the real server accepts beyond metadata.name and
# metadata.namespace (each kind registers its own; anything else is a 400).
_POD_FIELDS = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
               "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    categories: tuple[str, ...] = ()
    field_labels: tuple[str, ...] = ()
    # The CRD that defines this resource, for custom resources.
    crd: str | None = None
    # Versions the CRD serves besides this one (custom resources are stored
    # as written and served in any of them, like conversion strategy None).
    served_versions: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def storage_segment(self) -> str:
        """Where this resource lives under the registry prefix; core resources
        sit at the top as in the real server (/registry/pods/<ns>/<name>)."""
        return f"{self.group}/{self.plural}" if self.group else self.plural

    def supports_field(self, label: str) -> bool:
        if label in ("metadata.name", "metadata.namespace"):
            return True
        return label in self.field_labels

    def for_version(self, version: str) -> ResourceType:
        if version == self.version:
            return self
        return ResourceType(self.group, version, self.kind, self.plural, self.singular, self.namespaced,
                            self.short_names, self.subresources, self.categories, self.field_labels,
                            self.crd, self.served_versions)


_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

BUILTIN: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "Namespace", "namespaces", "namespace", False, ("ns",), frozenset({"status"}),
                 field_labels=("status.phase",)),
    ResourceType("", "v1", "Pod", "pods", "pod", True, ("po",), frozenset({"status"}), ("all",), _POD_FIELDS),
    ResourceType("", "v1", "Service", "services", "service", True, ("svc",), frozenset({"status"}), ("all",),
                 ("spec.clusterIP", "spec.type")),
    ResourceType("", "v1", "Node", "nodes", "node", False, ("no",), frozenset({"status"}),
                 field_labels=("spec.unschedulable",)),
    ResourceType("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", True,
                 field_labels=("addressType",)),
    ResourceType("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", True,
                 ("netpol",)),
    ResourceType("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
                 "customresourcedefinition", False, ("crd", "crds"), frozenset({"status"}),
                 ("api-extensions",)),
)

CRD_GROUP = "apiextensions.k8s.io"


def verbs() -> list[str]:
    return list(_VERBS)


@dataclass
class _Group:
    versions: dict[str, dict[str, ResourceType]] = field(default_factory=dict)


class Registry:
    """Resource types by group, version and plural. CRDs come and go while the
    server runs (from its own writes and from its watch on the CRD prefix);
    everything runs on one event loop, so no lock is needed."""

    def __init__(self) -> None:
        self._builtin: dict[tuple[str, str, str], ResourceType] = {
            (r.group, r.version, r.plural): r for r in BUILTIN}
        self._custom: dict[str, list[ResourceType]] = {}
        self._crds: dict[str, dict[str, Any]] = {}

    def _all(self) -> list[ResourceType]:
        custom = [r for types in self._custom.values() for r in types]
        return [*self._builtin.values(), *custom]

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        found = self._builtin.get((group, version, plural))
        if found is not None:
            return found
        for types in self._custom.values():
            for r in types:
                if (r.group, r.version, r.plural) == (group, version, plural):
                    return r
        return None

    def by_crd(self, crd_name: str) -> list[ResourceType]:
        return list(self._custom.get(crd_name, ()))

    def group_versions(self) -> dict[str, list[str]]:
        """Group -> served versions, preferred first; "" is the core group."""
        result: dict[str, list[str]] = {}
        for r in self._all():
            versions = result.setdefault(r.group, [])
            if r.version not in versions:
                versions.append(r.version)
        return result

    def resources(self, group: str, version: str) -> list[ResourceType]:
        return [r for r in self._all() if r.group == group and r.version == version]

    def set_crd(self, crd: dict[str, Any]) -> None:
        """Serve what a CRD defines (replacing what an older copy of it defined)."""
        types = list(types_of_crd(crd))
        name = crd.get("metadata", {}).get("name", "")
        self._crds[name] = crd
        if types:
            self._custom[name] = types
        else:
            self._custom.pop(name, None)

    def remove_crd(self, name: str) -> None:
        self._custom.pop(name, None)
        self._crds.pop(name, None)

    def crd_object(self, name: str) -> dict[str, Any] | None:
        return self._crds.get(name)

    def replace_crds(self, crds: Iterable[dict[str, Any]]) -> None:
        crds = list(crds)
        self._crds = {crd["metadata"]["name"]: crd for crd in crds}
        fresh = {crd["metadata"]["name"]: list(types_of_crd(crd)) for crd in crds}
        self._custom = {name: types for name, types in fresh.items() if types}


def types_of_crd(crd: dict[str, Any]) -> Iterable[ResourceType]:
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    served = [v for v in spec.get("versions", []) if v.get("served", True)]
    served_names = tuple(v["name"] for v in served)
    for version in served:
        subresources = frozenset(k for k in (version.get("subresources") or {}) if k in ("status",))
        yield ResourceType(
            group=spec["group"], version=version["name"], kind=names["kind"], plural=names["plural"],
            singular=names.get("singular") or names["kind"].lower(),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()), subresources=subresources,
            categories=tuple(names.get("categories") or ()), crd=crd["metadata"]["name"],
            served_versions=served_names)
