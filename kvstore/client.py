"""The etcd client every process uses: connection, reads, writes, transactions.

It speaks etcd's v3 gRPC API through the protobuf stubs that `aetcd` ships,
over a channel of its own, because aetcd's client has neither TLS nor a list
of endpoints. Every call is bounded by a timeout and fails with
EtcdUnavailable rather than hanging while etcd is away.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import grpc
from aetcd import rpc

from kvstore.config import EtcdConfig
from kvstore.errors import EtcdUnavailable, KVStoreError
from kvstore.txn import Compare, Op, encode_value, prefix_range_end
from model.base import StoredModel

log = logging.getLogger(__name__)

M = TypeVar("M", bound=StoredModel)
T = TypeVar("T")

RANGE_PAGE = 1000
_UNAVAILABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    mod_revision: int
    create_revision: int
    version: int
    lease: int

    @classmethod
    def from_pb(cls, kv: rpc.KeyValue) -> KeyValue:
        return cls(kv.key.decode(), kv.value, kv.mod_revision, kv.create_revision, kv.version, kv.lease)


@dataclass(frozen=True, slots=True)
class Versioned(Generic[M]):
    """A decoded value with the revision it was last written at (for CAS)."""

    key: str
    value: M
    mod_revision: int
    create_revision: int


@dataclass(frozen=True, slots=True)
class InvalidValue:
    key: str
    error: str


@dataclass(slots=True)
class RawRange:
    revision: int
    kvs: list[KeyValue]


@dataclass(slots=True)
class TypedRange(Generic[M]):
    """A prefix read at one revision. Values that did not validate are listed
    in `invalid` (and logged) instead of failing the whole read."""

    revision: int
    items: dict[str, Versioned[M]] = field(default_factory=dict)
    invalid: list[InvalidValue] = field(default_factory=list)

    def values(self) -> list[M]:
        return [v.value for v in self.items.values()]


@dataclass(frozen=True, slots=True)
class TxnResult:
    succeeded: bool
    revision: int
    responses: tuple[rpc.ResponseOp, ...]


InvalidValueHook = Callable[[InvalidValue], None]


def decode(model: type[M], kv: KeyValue, on_invalid: InvalidValueHook | None = None) -> Versioned[M] | None:
    """The value of `kv` as `model`, or None (logged, and reported to the hook)
    when it does not validate: one corrupt value must not stop its readers."""
    try:
        value = model.model_validate_json(kv.value)
    except ValueError as exc:
        bad = InvalidValue(kv.key, _first_line(exc))
        log.warning("skipping invalid %s at %s: %s", model.__name__, kv.key, bad.error)
        if on_invalid is not None:
            on_invalid(bad)
        return None
    return Versioned(kv.key, value, kv.mod_revision, kv.create_revision)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return " ".join(text.splitlines()[:3])


class KVStore:
    """An asyncio etcd client. Use as `async with KVStore(config) as store:`."""

    def __init__(self, config: EtcdConfig | None = None, on_invalid: InvalidValueHook | None = None) -> None:
        self.config = config or EtcdConfig()
        self.on_invalid = on_invalid
        self._channel: grpc.aio.Channel | None = None
        self._kv: rpc.KVStub | None = None
        self._watch_stub: rpc.WatchStub | None = None
        self._lease_stub: rpc.LeaseStub | None = None
        self._maintenance: rpc.MaintenanceStub | None = None

    # --- connection ---------------------------------------------------------------

    async def connect(self) -> None:
        """Open the channel and wait until etcd answers, at most dial_timeout."""
        if self._channel is not None:
            return
        self._channel = _open_channel(self.config)
        self._kv = rpc.KVStub(self._channel)
        self._watch_stub = rpc.WatchStub(self._channel)
        self._lease_stub = rpc.LeaseStub(self._channel)
        self._maintenance = rpc.MaintenanceStub(self._channel)
        try:
            await self.call(
                self._maintenance.Status, rpc.StatusRequest(), timeout=self.config.dial_timeout)
        except EtcdUnavailable:
            await self.close()
            raise

    async def close(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()

    async def __aenter__(self) -> KVStore:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def endpoints_text(self) -> str:
        return ",".join(self.config.endpoints)

    def _stub(self, stub: T | None) -> T:
        if stub is None:
            raise KVStoreError("the etcd client is not connected (call connect() first)")
        return stub

    async def call(self, method: Callable[..., Awaitable[T]], request: object, timeout: float | None = None) -> T:
        """One call, bounded in time. wait_for_ready lets a call made while
        etcd restarts go through once it is back, within the timeout."""
        timeout = self.config.request_timeout if timeout is None else timeout
        try:
            return await method(request, timeout=timeout, wait_for_ready=True)
        except grpc.aio.AioRpcError as exc:
            raise self.translate(exc) from None

    def translate(self, exc: grpc.aio.AioRpcError) -> KVStoreError:
        if exc.code() in _UNAVAILABLE:
            return EtcdUnavailable(f"etcd at {self.endpoints_text} is unreachable: {exc.code().name}: {exc.details()}")
        return KVStoreError(f"etcd at {self.endpoints_text} refused the request: {exc.code().name}: {exc.details()}")

    # --- reads --------------------------------------------------------------------

    async def revision(self) -> int:
        """The store's current revision."""
        reply = await self.call(self._stub(self._kv).Range, rpc.RangeRequest(key=b"\0", count_only=True))
        return reply.header.revision

    async def get_raw(self, key: str) -> KeyValue | None:
        reply = await self.call(self._stub(self._kv).Range, rpc.RangeRequest(key=key.encode()))
        return KeyValue.from_pb(reply.kvs[0]) if reply.kvs else None

    async def range_raw(self, prefix: str, revision: int = 0, keys_only: bool = False) -> RawRange:
        """Every key under `prefix`, read in pages at one revision so the
        result is a consistent snapshot however large it is."""
        start = prefix.encode()
        end = prefix_range_end(start)
        kvs: list[KeyValue] = []
        while True:
            request = rpc.RangeRequest(key=start, range_end=end, limit=RANGE_PAGE, revision=revision,
                                       keys_only=keys_only)
            reply = await self.call(self._stub(self._kv).Range, request)
            revision = revision or reply.header.revision
            kvs.extend(KeyValue.from_pb(kv) for kv in reply.kvs)
            if not reply.more or not reply.kvs:
                return RawRange(revision, kvs)
            start = reply.kvs[-1].key + b"\0"

    async def get(self, model: type[M], key: str) -> Versioned[M] | None:
        kv = await self.get_raw(key)
        return decode(model, kv, self.on_invalid) if kv is not None else None

    async def range(self, model: type[M], prefix: str, revision: int = 0) -> TypedRange[M]:
        raw = await self.range_raw(prefix, revision)
        result: TypedRange[M] = TypedRange(raw.revision)

        def report(bad: InvalidValue) -> None:
            result.invalid.append(bad)
            if self.on_invalid is not None:
                self.on_invalid(bad)

        for kv in raw.kvs:
            item = decode(model, kv, report)
            if item is not None:
                result.items[kv.key] = item
        return result

    # --- writes -------------------------------------------------------------------

    async def put(self, key: str, value: bytes | StoredModel, lease: int = 0) -> int:
        """Write unconditionally; returns the revision of the write."""
        request = rpc.PutRequest(key=key.encode(), value=encode_value(value), lease=lease)
        reply = await self.call(self._stub(self._kv).Put, request)
        return reply.header.revision

    async def delete(self, key: str) -> bool:
        """Delete one key; True if it existed."""
        reply = await self.call(self._stub(self._kv).DeleteRange, rpc.DeleteRangeRequest(key=key.encode()))
        return reply.deleted > 0

    async def delete_prefix(self, prefix: str) -> int:
        start = prefix.encode()
        request = rpc.DeleteRangeRequest(key=start, range_end=prefix_range_end(start))
        reply = await self.call(self._stub(self._kv).DeleteRange, request)
        return reply.deleted

    async def txn(self, compare: Sequence[rpc.Compare], success: Sequence[rpc.RequestOp],
                  failure: Sequence[rpc.RequestOp] = ()) -> TxnResult:
        request = rpc.TxnRequest(compare=list(compare), success=list(success), failure=list(failure))
        reply = await self.call(self._stub(self._kv).Txn, request)
        return TxnResult(reply.succeeded, reply.header.revision, tuple(reply.responses))

    async def compare_and_swap(self, key: str, value: bytes | StoredModel, expected_mod_revision: int,
                               lease: int = 0, guard: Iterable[rpc.Compare] = ()) -> TxnResult:
        """Write only if the key is still at `expected_mod_revision` (0: only
        if it does not exist). The caller re-reads and decides again when
        `succeeded` is False."""
        compare = [Compare.mod_revision_is(key, expected_mod_revision), *guard]
        return await self.txn(compare, [Op.put(key, value, lease)])

    async def create_if_absent(self, key: str, value: bytes | StoredModel, lease: int = 0) -> TxnResult:
        return await self.txn([Compare.absent(key)], [Op.put(key, value, lease)])

    async def delete_if(self, key: str, expected_mod_revision: int) -> TxnResult:
        return await self.txn([Compare.mod_revision_is(key, expected_mod_revision)], [Op.delete(key)])

    # --- maintenance --------------------------------------------------------------

    async def compact(self, revision: int) -> None:
        await self.call(self._stub(self._kv).Compact, rpc.CompactionRequest(revision=revision, physical=True))

    async def status(self) -> rpc.StatusResponse:
        return await self.call(self._stub(self._maintenance).Status, rpc.StatusRequest())

    # --- for the watch and lease modules ------------------------------------------

    def watch_stub(self) -> rpc.WatchStub:
        return self._stub(self._watch_stub)

    def lease_stub(self) -> rpc.LeaseStub:
        return self._stub(self._lease_stub)

    def watch_prefix(self, prefix: str, start_revision: int) -> AsyncIterator[WatchEvent]:
        from kvstore.watch import watch_range
        start = prefix.encode()
        return watch_range(self, start, prefix_range_end(start), start_revision)

    def watch_key(self, key: str, start_revision: int) -> AsyncIterator[WatchEvent]:
        from kvstore.watch import watch_range
        return watch_range(self, key.encode(), b"", start_revision)


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change; `value` is empty for a delete."""

    key: str
    deleted: bool
    value: bytes
    mod_revision: int

    def decode(self, model: type[M], on_invalid: InvalidValueHook | None = None) -> Versioned[M] | None:
        return decode(model, KeyValue(self.key, self.value, self.mod_revision, 0, 0, 0), on_invalid)


def _open_channel(config: EtcdConfig) -> grpc.aio.Channel:
    target, first_host = _target(config.endpoints)
    options: list[tuple[str, object]] = [
        # etcd closes idle streams otherwise, and a dead peer is noticed sooner.
        ("grpc.keepalive_time_ms", 10_000),
        ("grpc.keepalive_timeout_ms", 5_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 1_000),
        ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ]
    if not config.tls:
        return grpc.aio.insecure_channel(target, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=config.ca_file.read_bytes() if config.ca_file else None,
        private_key=config.key_file.read_bytes() if config.key_file else None,
        certificate_chain=config.cert_file.read_bytes() if config.cert_file else None,
    )
    # Endpoints are resolved to addresses below; the certificate names the host.
    options.append(("grpc.ssl_target_name_override", first_host))
    return grpc.aio.secure_channel(target, credentials, options=options)


def _target(endpoints: Sequence[str]) -> tuple[str, str]:
    """A gRPC target over every endpoint (pick_first tries them in order), and
    the first endpoint's host name for TLS."""
    addresses: list[str] = []
    family = ""
    first_host = endpoints[0].rpartition(":")[0].strip("[]")
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        host = host.strip("[]")
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            try:
                info = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise EtcdUnavailable(f"etcd endpoint {endpoint}: cannot resolve {host}: {exc}") from None
            ip = ipaddress.ip_address(info[0][4][0])
        this_family = f"ipv{ip.version}"
        if family and this_family != family:
            # gRPC's address-list targets hold one family; keep the first one's.
            continue
        family = this_family
        addresses.append(f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}")
    return f"{family}:{','.join(addresses)}", first_host


async def retry_unavailable(call: Callable[[], Awaitable[T]], deadline: float, what: str) -> T:
    """Repeat `call` while etcd is unavailable, up to `deadline` seconds in all."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    delay = 0.1
    while True:
        try:
            return await call()
        except EtcdUnavailable as exc:
            if loop.time() + delay > give_up:
                raise
            log.info("%s: %s; retrying", what, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
