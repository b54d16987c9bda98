"""A Kubernetes API stand-in for the lab and the tests: the real wire
protocol (discovery, CRUD, patch, list, watch with bookmarks and 410s) for
the kinds this project uses, stored in etcd under /registry as the real
kube-apiserver stores them."""

from lab.apiserver.server import ApiServer

__all__ = ["ApiServer"]
