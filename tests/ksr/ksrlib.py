"""Helpers of the KSR's end-to-end tests: the KSR as a real process, waiting
on conditions with deadlines, and the expected projection of the API's state."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ksr.kinds import KINDS
from kvstore import KVStore
from lab.etcd import free_port
from model import KeySpace

KSR_BINARY = Path(sys.executable).parent / "contiv-ksr"
PREFIX = "/contiv"
KEYS = KeySpace(PREFIX)


async def wait_for(predicate: Callable[[], Awaitable[object]] | Callable[[], object], timeout: float,
                   what: str, interval: float = 0.05) -> object:
    """Poll until `predicate` returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        last = result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        await asyncio.sleep(interval)


class KsrProcess:
    """`contiv-ksr` as a subprocess, as it runs in a pod."""

    def __init__(self, api_url: str, etcd_endpoint: str, log_file: Path, identity: str = "ksr-a",
                 lease_ttl: int = 3, extra: tuple[str, ...] = ()) -> None:
        self.api_url = api_url
        self.etcd_endpoint = etcd_endpoint
        self.log_file = log_file
        self.identity = identity
        self.lease_ttl = lease_ttl
        self.extra = extra
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [str(KSR_BINARY), "--server", self.api_url, "--etcd-endpoints", self.etcd_endpoint,
                "--prefix", PREFIX, "--metrics-port", str(self.port), "--metrics-address", "127.0.0.1",
                "--lease-ttl", str(self.lease_ttl), "--identity", self.identity, *self.extra]

    def start(self) -> KsrProcess:
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return self

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, as a pod's shutdown sends; returns the exit code."""
        process, self.process = self.process, None
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"contiv-ksr did not exit within {timeout}s of SIGTERM") from None

    def kill(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    async def get(self, path: str) -> httpx.Response | None:
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                return await client.get(self.url + path)
        except httpx.HTTPError:
            return None

    async def status(self) -> dict:
        reply = await self.get("/readyz")
        return reply.json() if reply is not None else {}

    async def wait_role(self, role: str, ready: bool = True, timeout: float = 30) -> dict:
        async def check() -> dict | None:
            if not self.running:
                raise AssertionError(f"contiv-ksr exited:\n{self.log()[-3000:]}")
            current = await self.status()
            return current if current.get("role") == role and current.get("ready") == ready else None

        return await wait_for(check, timeout, f"{self.identity} to be {role} (ready={ready})")  # type: ignore[return-value]

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        reply = await self.get("/metrics")
        assert reply is not None and reply.status_code == 200
        samples = {}
        for family in text_string_to_metric_families(reply.text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    async def metric(self, name: str, **labels: str) -> float:
        """The sum of every sample of `name` whose labels include `labels`."""
        total = 0.0
        for (sample, sample_labels), value in (await self.metrics()).items():
            if sample == name and set(labels.items()) <= set(sample_labels):
                total += value
        return total


async def list_collection(api_url: str, path: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=api_url, timeout=10.0) as client:
        reply = await client.get(path)
        reply.raise_for_status()
        return reply.json().get("items") or []


async def expected_projection(api_url: str) -> dict[str, bytes]:
    """What the KSR's prefix must hold: every kind listed from the API now and
    projected. (The projection itself is tested on its own.)"""
    expected: dict[str, bytes] = {}
    for spec in KINDS:
        reflection = spec.make(KEYS, lambda *_: None)
        reflection.reset(await list_collection(api_url, spec.api_path))
        expected.update(reflection.desired)
    return expected


async def reflected(store: KVStore) -> dict[str, bytes]:
    return {kv.key: kv.value for kv in (await store.range_raw(f"{PREFIX}/k8s/")).kvs}


async def wait_converged(store: KVStore, api_url: str, timeout: float = 30) -> dict[str, bytes]:
    async def equal() -> dict[str, bytes] | None:
        expected = await expected_projection(api_url)
        return expected if await reflected(store) == expected else None

    try:
        return await wait_for(equal, timeout, "etcd to equal the projection of the API", interval=0.2)  # type: ignore[return-value]
    except AssertionError:
        expected, actual = await expected_projection(api_url), await reflected(store)
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        differ = sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k])
        raise AssertionError(f"etcd differs from the projection: missing {missing[:10]}, extra {extra[:10]}, "
                             f"different {differ[:10]}") from None
