"""What the real server rejects with 422 Invalid, for the kinds served here:
object names, labels, and the fields a network plugin's clients get wrong."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from lab.apiserver.errors import invalid
from lab.apiserver.resources import ResourceType

Cause = tuple[str, str, str]  # field, reason type, message

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")

SUBDOMAIN_MESSAGE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                     "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                     "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MESSAGE = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                 "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")

# Kinds whose names become DNS labels (namespace and service names end up in
# DNS names of one label each); every other kind takes a DNS subdomain.
_LABEL_NAMED = {("", "Namespace"), ("", "Service")}


def is_dns_label(name: str) -> bool:
    return len(name) <= 63 and bool(_DNS1123_LABEL.match(name))


def is_dns_subdomain(name: str) -> bool:
    return len(name) <= 253 and bool(_DNS1123_SUBDOMAIN.match(name))


def _quote(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def invalid_value(field: str, value: Any, message: str) -> Cause:
    return field, "FieldValueInvalid", f"Invalid value: {_quote(value)}: {message}"


def required(field: str, message: str = "") -> Cause:
    return field, "FieldValueRequired", "Required value" + (f": {message}" if message else "")


def unsupported(field: str, value: Any, allowed: list[str]) -> Cause:
    supported = ", ".join(f'"{a}"' for a in allowed)
    return field, "FieldValueNotSupported", f"Unsupported value: {_quote(value)}: supported values: {supported}"


def validate(resource: ResourceType, obj: dict[str, Any]) -> None:
    """Raise 422 Invalid listing every problem, as the real server does."""
    causes = validate_metadata(resource, obj.get("metadata") or {})
    check = _KIND_CHECKS.get((resource.group, resource.kind))
    if check is not None:
        causes.extend(check(obj))
    if causes:
        name = (obj.get("metadata") or {}).get("name") or ""
        raise invalid(resource.kind, resource.group, name, causes)


def validate_metadata(resource: ResourceType, meta: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    name = meta.get("name") or ""
    if not name:
        causes.append(required("metadata.name", "name or generateName is required"))
    elif (resource.group, resource.kind) in _LABEL_NAMED:
        if not is_dns_label(name):
            causes.append(invalid_value("metadata.name", name, LABEL_MESSAGE))
    elif not is_dns_subdomain(name):
        causes.append(invalid_value("metadata.name", name, SUBDOMAIN_MESSAGE))
    for key, value in (meta.get("labels") or {}).items():
        causes.extend(_label(f"metadata.labels", key, value))
    for key in (meta.get("annotations") or {}):
        if not _qualified_name_ok(key):
            causes.append(invalid_value("metadata.annotations", key, "name part must consist of alphanumeric "
                                        "characters, '-', '_' or '.'"))
    return causes


def _qualified_name_ok(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and not is_dns_subdomain(prefix):
        return False
    return 0 < len(name) <= 63 and bool(_LABEL_NAME.match(name))


def _label(field: str, key: str, value: Any) -> list[Cause]:
    causes = []
    if not _qualified_name_ok(key):
        causes.append(invalid_value(field, key, "name part must consist of alphanumeric characters, '-', '_' or "
                                    "'.', and must start and end with an alphanumeric character"))
    if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
        causes.append(invalid_value(field, value, "a valid label must be an empty string or consist of "
                                    "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                                    "alphanumeric character"))
    return causes


# --- per kind -----------------------------------------------------------------------------

def _port_range(field: str, value: Any, low: int = 1) -> list[Cause]:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 65535:
        return [invalid_value(field, value, f"must be between {low} and 65535, inclusive")]
    return []


def _pod(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    containers = spec.get("containers") or []
    if not containers:
        causes.append(required("spec.containers"))
    seen: set[str] = set()
    for i, container in enumerate(containers):
        field = f"spec.containers[{i}]"
        name = container.get("name") or ""
        if not name:
            causes.append(required(f"{field}.name"))
        elif not is_dns_label(name):
            causes.append(invalid_value(f"{field}.name", name, LABEL_MESSAGE))
        elif name in seen:
            causes.append((f"{field}.name", "FieldValueDuplicate", f'Duplicate value: "{name}"'))
        seen.add(name)
        if not container.get("image"):
            causes.append(required(f"{field}.image"))
        for j, port in enumerate(container.get("ports") or []):
            causes.extend(_port_range(f"{field}.ports[{j}].containerPort", port.get("containerPort")))
    return causes


def _service(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    service_type = spec.get("type", "ClusterIP")
    allowed = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    if service_type not in allowed:
        causes.append(unsupported("spec.type", service_type, allowed))
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    if not ports and service_type != "ExternalName" and not headless:
        causes.append(required("spec.ports"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        field = f"spec.ports[{i}]"
        causes.extend(_port_range(f"{field}.port", port.get("port")))
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            causes.append(required(f"{field}.name"))
        elif name in names:
            causes.append((f"{field}.name", "FieldValueDuplicate", f'Duplicate value: "{name}"'))
        names.add(name)
        protocol = port.get("protocol", "TCP")
        if protocol not in ("TCP", "UDP", "SCTP"):
            causes.append(unsupported(f"{field}.protocol", protocol, ["SCTP", "TCP", "UDP"]))
        target = port.get("targetPort")
        if isinstance(target, int) and not isinstance(target, bool):
            causes.extend(_port_range(f"{field}.targetPort", target))
        if "nodePort" in port and port["nodePort"] not in (None, 0):
            causes.extend(_port_range(f"{field}.nodePort", port["nodePort"]))
    cluster_ip = spec.get("clusterIP")
    if cluster_ip not in (None, "", "None"):
        try:
            ipaddress.ip_address(cluster_ip)
        except ValueError:
            causes.append(invalid_value("spec.clusterIPs[0]", cluster_ip, "must be a valid IP address"))
    return causes


def _endpoint_slice(obj: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    address_type = obj.get("addressType")
    allowed = ["FQDN", "IPv4", "IPv6"]
    if not address_type:
        causes.append(required("addressType"))
    elif address_type not in allowed:
        causes.append(unsupported("addressType", address_type, allowed))
    for i, endpoint in enumerate(obj.get("endpoints") or []):
        addresses = endpoint.get("addresses") or []
        if not addresses:
            causes.append(required(f"endpoints[{i}].addresses"))
        for j, address in enumerate(addresses):
            if address_type in ("IPv4", "IPv6"):
                try:
                    ip = ipaddress.ip_address(address)
                except ValueError:
                    causes.append(invalid_value(f"endpoints[{i}].addresses[{j}]", address,
                                                "must be a valid IP address"))
                    continue
                if ip.version != (4 if address_type == "IPv4" else 6):
                    causes.append(invalid_value(f"endpoints[{i}].addresses[{j}]", address,
                                                f"must be an {address_type} address"))
    for i, port in enumerate(obj.get("ports") or []):
        if port.get("port") is not None:
            causes.extend(_port_range(f"ports[{i}].port", port["port"]))
    return causes


def _network_policy(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    for i, kind in enumerate(spec.get("policyTypes") or []):
        if kind not in ("Ingress", "Egress"):
            causes.append(unsupported(f"spec.policyTypes[{i}]", kind, ["Egress", "Ingress"]))
    for direction, peers_field in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            for j, port in enumerate(rule.get("ports") or []):
                value = port.get("port")
                if isinstance(value, int) and not isinstance(value, bool):
                    causes.extend(_port_range(f"spec.{direction}[{i}].ports[{j}].port", value))
            for j, peer in enumerate(rule.get(peers_field) or []):
                block = peer.get("ipBlock")
                if block is not None:
                    try:
                        ipaddress.ip_network(block.get("cidr", ""), strict=False)
                    except ValueError:
                        causes.append(invalid_value(f"spec.{direction}[{i}].{peers_field}[{j}].ipBlock.cidr",
                                                    block.get("cidr", ""), "must be a valid CIDR"))
    return causes


def _crd(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    causes: list[Cause] = []
    group, plural, kind = spec.get("group") or "", names.get("plural") or "", names.get("kind") or ""
    if not group:
        causes.append(required("spec.group"))
    elif "." not in group or not is_dns_subdomain(group):
        causes.append(invalid_value("spec.group", group, "should be a domain with at least one dot"))
    if not plural:
        causes.append(required("spec.names.plural"))
    elif not is_dns_label(plural):
        causes.append(invalid_value("spec.names.plural", plural, LABEL_MESSAGE))
    if not kind:
        causes.append(required("spec.names.kind"))
    name = (obj.get("metadata") or {}).get("name", "")
    if plural and group and name != f"{plural}.{group}":
        causes.append(invalid_value("metadata.name", name, f'must be spec.names.plural+"."+spec.group'))
    scope = spec.get("scope")
    if scope not in ("Namespaced", "Cluster"):
        causes.append(unsupported("spec.scope", scope, ["Cluster", "Namespaced"]))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(required("spec.versions"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(invalid_value("spec.versions", [v.get("name") for v in versions],
                                    "must have exactly one version marked as storage version"))
    for i, version in enumerate(versions):
        if not version.get("name") or not is_dns_label(version["name"]):
            causes.append(invalid_value(f"spec.versions[{i}].name", version.get("name", ""), LABEL_MESSAGE))
    return causes


def validate_namespace_name(name: str) -> list[Cause]:
    return [] if is_dns_label(name) else [invalid_value("metadata.namespace", name, LABEL_MESSAGE)]


_KIND_CHECKS = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
    ("networking.k8s.io", "NetworkPolicy"): _network_policy,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}
