"""`contiv-lab apply -f FILE`: create-or-update every object of a
multi-document YAML file through the API. An existing object gets the file
as a merge patch, so what the cluster set (a pod's node, its status) stays,
as with `kubectl apply` (without its removal of fields dropped from the file)."""

from __future__ import annotations

from dataclasses import dataclass
import yaml

from lab.kubeapi import ApiError, KubeApi, Obj


@dataclass(frozen=True)
class Resource:
    plural: str
    namespaced: bool


class Discovery:
    """Kind -> resource, from the server's own discovery documents."""

    def __init__(self, api: KubeApi) -> None:
        self.api = api
        self.cache: dict[str, dict[str, Resource]] = {}

    async def resource(self, api_version: str, kind: str) -> Resource:
        if api_version not in self.cache:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            listed = await self.api.get(path)
            if listed is None:
                raise ApiError(404, f"the server does not serve {api_version}")
            self.cache[api_version] = {r["kind"]: Resource(r["name"], r["namespaced"])
                                       for r in listed.get("resources", []) if "/" not in r["name"]}
        try:
            return self.cache[api_version][kind]
        except KeyError:
            raise ApiError(404, f"no kind {kind} in {api_version}") from None


def documents(text: str) -> list[Obj]:
    loaded = [doc for doc in yaml.safe_load_all(text) if doc]
    objects: list[Obj] = []
    for doc in loaded:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise ValueError(f"not a Kubernetes object (needs apiVersion and kind): {str(doc)[:80]}")
        # A List (what `kubectl get -o yaml` prints) applies each item.
        objects.extend(doc.get("items", []) if doc["kind"].endswith("List") and "items" in doc else [doc])
    return objects


async def apply_one(api: KubeApi, discovery: Discovery, obj: Obj, default_namespace: str) -> str:
    resource = await discovery.resource(obj["apiVersion"], obj["kind"])
    meta = obj.setdefault("metadata", {})
    name = meta.get("name")
    if not name:
        raise ValueError(f"a {obj['kind']} without metadata.name")
    base = f"/api/{obj['apiVersion']}" if "/" not in obj["apiVersion"] else f"/apis/{obj['apiVersion']}"
    if resource.namespaced:
        meta.setdefault("namespace", default_namespace)
        collection = f"{base}/namespaces/{meta['namespace']}/{resource.plural}"
    else:
        collection = f"{base}/{resource.plural}"
    what = f"{resource.plural}/{name}"
    try:
        await api.create(collection, obj)
        return f"{what} created"
    except ApiError as exc:
        if exc.status != 409:
            raise
    await api.merge_patch(f"{collection}/{name}", obj)
    return f"{what} configured"


async def apply(url: str, text: str, default_namespace: str = "default") -> list[str]:
    results: list[str] = []
    async with KubeApi(url) as api:
        discovery = Discovery(api)
        for obj in documents(text):
            results.append(await apply_one(api, discovery, obj, default_namespace))
    return results
