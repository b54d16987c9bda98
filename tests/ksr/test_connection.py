"""How the KSR finds and authenticates to the API server from its options."""

from __future__ import annotations

from pathlib import Path

import pytest

from ksr.config import KsrConfig
from ksr.connection import ConnectionConfigError, resolve
from kvstore import EtcdConfig

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: ksr
  user: {token: "s3cret"}
contexts:
- name: lab
  context: {cluster: lab, user: ksr}
current-context: lab
"""


def test_kubeconfig_gives_address_and_bearer_token(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    connection = resolve(path, None)
    assert connection.host == "https://10.0.0.1:6443"
    assert connection.verify is False
    assert connection.authorization() == "Bearer s3cret"
    # --server overrides where, not who.
    overridden = resolve(path, "http://127.0.0.1:8080/")
    assert overridden.host == "http://127.0.0.1:8080" and overridden.authorization() == "Bearer s3cret"
    # The validated settings accept it as it is.
    config = KsrConfig(api=connection, etcd=EtcdConfig(), prefix="contiv/")
    assert config.prefix == "/contiv"


def test_server_alone_has_no_credentials() -> None:
    connection = resolve(None, "http://127.0.0.1:8080")
    assert connection.host == "http://127.0.0.1:8080" and connection.authorization() is None


def test_nothing_usable_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with pytest.raises(ConnectionConfigError, match="use --kubeconfig FILE or --server URL"):
        resolve(None, None)
    broken = tmp_path / "broken"
    broken.write_text("clusters: [")
    with pytest.raises(ConnectionConfigError, match="is unusable"):
        resolve(broken, None)
