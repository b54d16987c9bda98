"""Defaults the real server fills in, for the fields our clients read back
(a pod's phase, a service's port protocol and target port, a policy's types).
Service addresses and node ports need storage and are allocated elsewhere
(see allocator.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lab.apiserver.resources import ResourceType

Obj = dict[str, Any]


def apply_defaults(resource: ResourceType, obj: Obj, creating: bool) -> None:
    fill = _DEFAULTS.get((resource.group, resource.kind))
    if fill is not None:
        fill(obj, creating)


def _pod(obj: Obj, creating: bool) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        image = str(container.get("image", ""))
        tag = image.rpartition("/")[2]
        latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
        container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")
    if creating:
        # A new pod's status is the server's to set, as kube-apiserver does:
        # whatever the client sent is replaced (use the status subresource).
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(spec)}


def _qos_class(spec: Obj) -> str:
    containers = spec.get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        (r.get("limits") or {}).get(k) is not None
        and (r.get("requests") or {}).get(k, (r.get("limits") or {}).get(k)) == (r.get("limits") or {}).get(k)
        for r in resources for k in ("cpu", "memory"))
    return "Guaranteed" if guaranteed else "Burstable"


def _service(obj: Obj, creating: bool) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("ipFamilies", ["IPv4"])
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if creating:
        obj.setdefault("status", {"loadBalancer": {}})


def _namespace(obj: Obj, creating: bool) -> None:
    name = obj.get("metadata", {}).get("name")
    if name:
        # The real server labels every namespace with its own name so that
        # network policies can select namespaces by name.
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    if creating:
        obj["status"] = {"phase": "Active"}


def _endpoint_slice(obj: Obj, creating: bool) -> None:
    for port in obj.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for endpoint in obj.get("endpoints") or []:
        endpoint.setdefault("conditions", {})


def _network_policy(obj: Obj, creating: bool) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("podSelector", {})
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            for port in rule.get("ports") or []:
                port.setdefault("protocol", "TCP")


def _crd(obj: Obj, creating: bool) -> None:
    spec = obj.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if names.get("kind"):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    spec.setdefault("scope", "Namespaced")
    for version in spec.get("versions") or []:
        version.setdefault("served", True)
    # CRDs are served the moment they are stored, so they are Established at once.
    conditions = [
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
         "message": "no conflicts found", "lastTransitionTime": obj["metadata"].get("creationTimestamp")},
        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
         "message": "the initial names have been accepted",
         "lastTransitionTime": obj["metadata"].get("creationTimestamp")},
    ]
    stored = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    obj["status"] = {"acceptedNames": dict(names), "conditions": conditions, "storedVersions": stored}


_DEFAULTS: dict[tuple[str, str], Callable[[Obj, bool], None]] = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
    ("networking.k8s.io", "NetworkPolicy"): _network_policy,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}
