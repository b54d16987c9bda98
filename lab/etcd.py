"""A real etcd server (Debian's etcd-server) for the lab and the tests.

Ports are picked once and kept across restarts, so clients reconnect to the
same address, as they would to a restarted etcd pod.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ETCD_BINARY = "etcd"


class EtcdNotReady(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class EtcdTLS:
    """Server certificate and key, and the CA that client certificates must chain to."""

    def __init__(self, cert_file: Path, key_file: Path, ca_file: Path) -> None:
        self.cert_file, self.key_file, self.ca_file = cert_file, key_file, ca_file


class EtcdServer:
    def __init__(self, data_dir: Path, host: str = "127.0.0.1", client_port: int | None = None,
                 peer_port: int | None = None, name: str = "contiv", log_file: Path | None = None,
                 tls: EtcdTLS | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.client_port = client_port or free_port(host)
        self.peer_port = peer_port or free_port(host)
        self.name = name
        self.log_file = log_file or self.data_dir.with_suffix(".log")
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.client_port}"

    @property
    def client_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.endpoint}"

    def command(self) -> list[str]:
        peer_url = f"http://{self.host}:{self.peer_port}"
        return [
            shutil.which(ETCD_BINARY) or ETCD_BINARY,
            "--name", self.name,
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", peer_url,
            "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"{self.name}={peer_url}",
            "--initial-cluster-state", "new",
            "--logger", "zap",
            "--log-level", "warn",
            # A test machine's disk is slow and shared; nothing here needs durability.
            "--unsafe-no-fsync",
            *self._tls_flags(),
        ]

    def _tls_flags(self) -> list[str]:
        if self.tls is None:
            return []
        return ["--cert-file", str(self.tls.cert_file), "--key-file", str(self.tls.key_file),
                "--trusted-ca-file", str(self.tls.ca_file), "--client-cert-auth"]

    def start(self, timeout: float = 20.0) -> None:
        if self.running:
            return
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise EtcdNotReady(f"etcd exited with {self.process.returncode}; see {self.log_file}")
            if self._healthy():
                return
            time.sleep(0.05)
        raise EtcdNotReady(f"etcd at {self.endpoint} not ready after {timeout}s; see {self.log_file}")

    def _healthy(self) -> bool:
        if self.tls is not None:
            # /health wants a client certificate; an open port is enough here,
            # and the client's own connect() waits for etcd to answer.
            try:
                with socket.create_connection((self.host, self.client_port), timeout=1):
                    return True
            except OSError:
                return False
        try:
            with urllib.request.urlopen(f"{self.client_url}/health", timeout=1) as reply:
                return b'"health":"true"' in reply.read().replace(b" ", b"")
        except (urllib.error.URLError, OSError):
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, kill: bool = False) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()

    def wipe(self) -> None:
        """Stop, lose every key and all history, start empty (a restored or
        replaced etcd, as its clients see it)."""
        self.stop(kill=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.start()
