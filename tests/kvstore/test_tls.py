"""TLS to etcd: a client with the CA and a client certificate gets in, one
without a certificate gets a clear error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kvstore import EtcdConfig, EtcdUnavailable, KVStore, KVStoreError
from lab.etcd import EtcdServer, EtcdTLS


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(d: Path) -> dict[str, Path]:
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"))
    ext = d / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.csr"))
        openssl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"), "-CAkey",
                str(d / "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", str(ext),
                "-out", str(d / f"{name}.pem"))
    return {n: d / n for n in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


@pytest.fixture
def tls_etcd(tmp_path: Path):
    pki = make_pki(tmp_path)
    server = EtcdServer(tmp_path / "data", tls=EtcdTLS(pki["server.pem"], pki["server.key"], pki["ca.pem"]))
    server.start()
    yield server, pki
    server.stop(kill=True)


async def test_tls_with_client_certificate(tls_etcd) -> None:
    server, pki = tls_etcd
    config = EtcdConfig(endpoints=[server.endpoint], ca_file=pki["ca.pem"], cert_file=pki["client.pem"],
                        key_file=pki["client.key"])
    async with KVStore(config) as kv:
        await kv.put("/tls/x", b"secret")
        assert (await kv.get_raw("/tls/x")).value == b"secret"


async def test_tls_without_client_certificate_is_refused_clearly(tls_etcd) -> None:
    server, pki = tls_etcd
    config = EtcdConfig(endpoints=[server.endpoint], ca_file=pki["ca.pem"], dial_timeout=2, request_timeout=2)
    with pytest.raises(KVStoreError, match=server.endpoint):
        await KVStore(config).connect()


async def test_plaintext_client_against_tls_etcd_is_refused_clearly(tls_etcd) -> None:
    server, _ = tls_etcd
    with pytest.raises(EtcdUnavailable):
        await KVStore(EtcdConfig(endpoints=[server.endpoint], dial_timeout=2)).connect()
