"""`contiv-lab apiserver` as a subprocess, for tests and the lab."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from lab.etcd import free_port


class ApiServerNotReady(RuntimeError):
    pass


class ApiServerProcess:
    """Run the stand-in against an etcd endpoint; `with ApiServerProcess(e) as api:`
    gives a server that answers at `api.url`. `prefix` keeps several servers
    on one etcd apart (each sees only the objects under its own prefix)."""

    def __init__(self, etcd_endpoint: str, port: int | None = None, log_file: Path | None = None, *,
                 host: str = "127.0.0.1", prefix: str = "/registry", bookmark_interval: float = 1.0) -> None:
        self.etcd_endpoint = etcd_endpoint
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file
        self.prefix = prefix
        self.bookmark_interval = bookmark_interval
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        script = Path(sys.executable).parent / "contiv-lab"
        launcher = [str(script)] if script.exists() else (
            [shutil.which("contiv-lab")] if shutil.which("contiv-lab")
            else [sys.executable, "-c", "from lab.cli import main; main()"])
        return [*launcher, "apiserver", "--host", self.host, "--port", str(self.port),
                "--etcd-endpoints", self.etcd_endpoint, "--prefix", self.prefix,
                "--bookmark-interval", str(self.bookmark_interval)]

    def start(self, timeout: float = 30.0) -> ApiServerProcess:
        if self.process is not None and self.process.poll() is None:
            return self
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(self.command(), stdout=output, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            if self.log_file:
                output.close()  # type: ignore[union-attr]
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ApiServerNotReady(f"contiv-lab apiserver exited with {self.process.returncode}"
                                        + (f"; see {self.log_file}" if self.log_file else ""))
            try:
                with urllib.request.urlopen(f"{self.url}/version", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise ApiServerNotReady(f"contiv-lab apiserver at {self.url} did not answer /version within {timeout}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> ApiServerProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
