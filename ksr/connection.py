"""Where the Kubernetes API is and how to authenticate to it.

The official client reads kubeconfig files (contexts, inline certificates,
exec credential plugins) and the in-cluster service account; we take its
resolved Configuration and hand the result to our own HTTP client.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from kubernetes import client as k8s_client

IN_CLUSTER_ENV = "KUBERNETES_SERVICE_HOST"


class ConnectionConfigError(ValueError):
    """The options do not describe a usable API connection."""


@dataclass(frozen=True)
class ApiConnection:
    host: str
    verify: bool = True
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    source: str = ""
    # Kept to refresh tokens that expire (service account, exec plugins).
    configuration: k8s_client.Configuration | None = field(default=None, compare=False, repr=False)

    def authorization(self) -> str | None:
        if self.configuration is None:
            return None
        bearer = self.configuration.auth_settings().get("BearerToken")
        if bearer and bearer.get("value"):
            return str(bearer["value"])
        if self.configuration.username or self.configuration.password:
            return self.configuration.get_basic_auth_token()
        return None


def _from_configuration(cfg: k8s_client.Configuration, source: str, server: str | None) -> ApiConnection:
    return ApiConnection(
        host=(server or cfg.host).rstrip("/"), verify=bool(cfg.verify_ssl), ca_file=cfg.ssl_ca_cert,
        cert_file=cfg.cert_file, key_file=cfg.key_file, source=source, configuration=cfg)


def resolve(kubeconfig: Path | None, server: str | None) -> ApiConnection:
    """--kubeconfig (with --server overriding its address), else --server
    alone (no credentials, like `kubectl -s`), else the in-cluster service
    account, else $KUBECONFIG or ~/.kube/config."""
    if server is not None and not server.startswith(("http://", "https://")):
        raise ConnectionConfigError(f"--server {server!r} must be an http:// or https:// URL")
    if kubeconfig is not None:
        return _load_kubeconfig(kubeconfig, server)
    if server is not None:
        return ApiConnection(host=server.rstrip("/"), source="--server")
    if os.environ.get(IN_CLUSTER_ENV):
        # Imported here: the client takes a third of a second to import, and
        # a KSR given only --server never needs it.
        from kubernetes import client as k8s_client
        from kubernetes import config as k8s_config
        from kubernetes.config.config_exception import ConfigException

        cfg = k8s_client.Configuration()
        try:
            k8s_config.load_incluster_config(client_configuration=cfg)
        except ConfigException as exc:
            raise ConnectionConfigError(f"in-cluster configuration is unusable: {exc}") from None
        return _from_configuration(cfg, "in-cluster service account", None)
    default = Path(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0]).expanduser()
    if default.is_file():
        return _load_kubeconfig(default, None)
    raise ConnectionConfigError(
        "no Kubernetes API given: use --kubeconfig FILE or --server URL, or run in a pod "
        f"(no {IN_CLUSTER_ENV} in the environment and no {default})")


def _load_kubeconfig(path: Path, server: str | None) -> ApiConnection:
    if not path.is_file():
        raise ConnectionConfigError(f"kubeconfig {path} does not exist")
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException

    cfg = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(config_file=str(path), client_configuration=cfg, persist_config=False)
    except (ConfigException, OSError, ValueError, TypeError, yaml.YAMLError) as exc:
        raise ConnectionConfigError(f"kubeconfig {path} is unusable: {exc}") from None
    return _from_configuration(cfg, f"kubeconfig {path}", server)
