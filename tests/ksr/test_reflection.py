"""How a stream of list and watch objects becomes the desired etcd content."""

from __future__ import annotations

from ksr.kinds import KINDS, EndpointsReflection, ObjectReflection
from ksr.projection import project_pod
from model import POD, Endpoints, KeySpace, Pod

KEYS = KeySpace("/contiv")


class Skips(list):
    def __call__(self, kind: str, name: str, reason: str) -> None:
        self.append((kind, name))


def pod(name: str, ip: str = "10.1.1.2", **status: object) -> dict:
    return {"metadata": {"name": name, "namespace": "d"}, "status": {"podIP": ip, **status}}


def test_pods_list_update_delete_and_an_unparseable_one() -> None:
    skips = Skips()
    refl = ObjectReflection(POD, KEYS, project_pod, skips)
    refl.reset([pod("a"), pod("b"), pod("bad", ip="999.1.1.1")])
    assert set(refl.desired) == {"/contiv/k8s/pod/d/a", "/contiv/k8s/pod/d/b"}
    assert skips == [("pod", "d/bad")]
    assert refl.upsert(pod("a", ip="10.1.1.9")) == {"/contiv/k8s/pod/d/a"}
    assert Pod.from_json(refl.desired["/contiv/k8s/pod/d/a"]).pod_ips == ("10.1.1.9",)
    # A pod that turns unparseable is no longer reflected, as after a relist.
    assert refl.upsert(pod("b", ip="nope")) == {"/contiv/k8s/pod/d/b"}
    assert "/contiv/k8s/pod/d/b" not in refl.desired
    assert refl.remove(pod("a")) == {"/contiv/k8s/pod/d/a"}
    assert refl.remove(pod("never-seen")) == set()
    assert refl.desired == {}


def _slice(name: str, service: str | None, *ips: str) -> dict:
    labels = {"kubernetes.io/service-name": service} if service else {}
    return {"metadata": {"name": name, "namespace": "d", "labels": labels}, "addressType": "IPv4",
            "endpoints": [{"addresses": [ip]} for ip in ips], "ports": [{"port": 80}]}


def ips(refl: EndpointsReflection, service: str) -> list[str]:
    value = Endpoints.from_json(refl.desired[f"/contiv/k8s/endpoints/d/{service}"])
    return [a for e in value.endpoints for a in e.addresses]


def test_endpoint_slices_merge_per_service_and_follow_relabels_and_deletes() -> None:
    refl = EndpointsReflection(KEYS, Skips())
    refl.reset([_slice("web-1", "web", "10.1.1.1"), _slice("web-2", "web", "10.1.1.2"),
                _slice("orphan", None, "10.1.1.3")])
    assert set(refl.desired) == {"/contiv/k8s/endpoints/d/web"}
    assert ips(refl, "web") == ["10.1.1.1", "10.1.1.2"]

    assert refl.upsert(_slice("web-2", "web", "10.1.1.4")) == {"/contiv/k8s/endpoints/d/web"}
    assert ips(refl, "web") == ["10.1.1.1", "10.1.1.4"]
    # A slice moved to another service leaves the first and joins the second.
    assert refl.upsert(_slice("web-2", "api", "10.1.1.4")) == {"/contiv/k8s/endpoints/d/web",
                                                               "/contiv/k8s/endpoints/d/api"}
    assert ips(refl, "web") == ["10.1.1.1"] and ips(refl, "api") == ["10.1.1.4"]
    # A service whose last slice goes has no Endpoints key any more.
    assert refl.remove(_slice("web-1", "web")) == {"/contiv/k8s/endpoints/d/web"}
    assert "/contiv/k8s/endpoints/d/web" not in refl.desired
    # An empty slice still says "this service has no endpoints".
    refl.upsert(_slice("empty-1", "empty"))
    assert Endpoints.from_json(refl.desired["/contiv/k8s/endpoints/d/empty"]).endpoints == ()


def test_an_unparseable_slice_drops_out_of_its_service() -> None:
    skips = Skips()
    refl = EndpointsReflection(KEYS, skips)
    refl.reset([_slice("web-1", "web", "10.1.1.1"), _slice("web-2", "web", "10.1.1.2")])
    refl.upsert(_slice("web-2", "web", "garbage"))
    assert ips(refl, "web") == ["10.1.1.1"] and skips == [("endpointslice", "d/web-2")]


def test_every_kind_has_its_own_prefix_and_collection() -> None:
    assert len({k.kind for k in KINDS}) == len({k.api_path for k in KINDS}) == 6
