"""The transaction engine: make the dataplane equal the desired item map.

Backend-agnostic. Each call diffs desired against applied and runs one
transaction: deletes first, dependents before what they depend on; then
creates and updates, dependencies first. An item whose dependencies are not
applied waits as pending and goes in as soon as they are. A failed operation
leaves its item out of `applied`, and it is retried with exponential backoff
by later transactions (the agent's healing timer calls `apply` again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from vswitch.engine.history import History, Operation, Transaction
from vswitch.engine.item import Handler, Item

log = logging.getLogger(__name__)

MIN_BACKOFF = 0.2
MAX_BACKOFF = 30.0


class UnknownKind(Exception):
    pass


@dataclass
class Failure:
    error: str
    attempts: int
    retry_at: float


TxnObserver = Callable[[Transaction], None]


class Engine:
    def __init__(self, handlers: Iterable[Handler], history: History | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.handlers: dict[str, Handler] = {h.kind: h for h in handlers}
        self.history = history or History()
        self.clock = clock
        self.applied: dict[str, Item] = {}
        self.desired: dict[str, Item] = {}
        self.failures: dict[str, Failure] = {}
        self.observers: list[TxnObserver] = []
        self._seq = 0

    # --- queries ----------------------------------------------------------------

    @property
    def pending(self) -> list[str]:
        """Desired keys not applied (waiting for dependencies, or failed)."""
        return sorted(k for k in self.desired if k not in self.applied)

    def next_retry_in(self) -> float | None:
        """Seconds until the earliest failed item may be retried, if any."""
        due = [f.retry_at for k, f in self.failures.items() if k in self.desired]
        return max(0.0, min(due) - self.clock()) if due else None

    def is_applied(self, keys: Iterable[str]) -> bool:
        return all(self.applied.get(k) == self.desired.get(k) for k in keys)

    # --- transactions -------------------------------------------------------------

    async def apply(self, desired: Mapping[str, Item], cause: str) -> Transaction:
        self._check_kinds(desired.values())
        self.desired = dict(desired)
        return await self._run(cause, resync=False)

    async def resync(self, desired: Mapping[str, Item], cause: str = "resync") -> Transaction:
        """Forget what we believed was applied, dump the dataplane, and apply
        only the difference: an unchanged node sees no operation at all."""
        self._check_kinds(desired.values())
        self.desired = dict(desired)
        self.failures.clear()
        actual: dict[str, Item] = {}
        for kind, handler in self.handlers.items():
            scope = [item for item in self.desired.values() if item.kind == kind]
            for item in await handler.dump(scope):
                actual[item.key()] = item
        self.applied = actual
        return await self._run(cause, resync=True)

    async def verify(self, items: Iterable[Item]) -> list[str]:
        """Keys of `items` the dataplane does not have exactly as given, read
        from the dataplane itself; changes nothing, here or there."""
        items = list(items)
        self._check_kinds(items)
        found: dict[str, Item] = {}
        for kind in {item.kind for item in items}:
            scope = [item for item in items if item.kind == kind]
            found.update((item.key(), item) for item in await self.handlers[kind].dump(scope))
        return [item.key() for item in items if found.get(item.key()) != item]

    def _check_kinds(self, items: Iterable[Item]) -> None:
        for item in items:
            if item.kind not in self.handlers:
                raise UnknownKind(f"no handler for items of kind {item.kind!r} ({item.key()})")

    async def _run(self, cause: str, resync: bool) -> Transaction:
        self._seq += 1
        started = time.perf_counter()
        txn = Transaction(seq=self._seq, cause=cause, started=datetime.now(timezone.utc), resync=resync)
        now = self.clock()

        # Everything applied that must go: gone from desired, or changed
        # without an in-place update. Whatever depends on it goes first.
        removing: set[str] = set()
        for key, item in self.applied.items():
            want = self.desired.get(key)
            if want is None or (want != item and not self._updatable(item)):
                removing.add(key)
        removing = self._with_dependents(removing)
        for key in self._order(removing, self.applied, reverse=True):
            await self._delete(txn, self.applied[key])

        # Then create or update, dependencies first; hold what cannot go yet.
        for key in self._order(set(self.desired), self.desired, reverse=False):
            want = self.desired[key]
            have = self.applied.get(key)
            if have == want:
                continue
            if any(dep not in self.applied or self.applied[dep] != self.desired.get(dep) for dep in want.deps()):
                continue
            failure = self.failures.get(key)
            if failure is not None and failure.retry_at > now:
                continue
            if have is None:
                await self._create(txn, want)
            else:
                await self._update(txn, have, want)

        for key in list(self.failures):
            if key not in self.desired:
                del self.failures[key]
        txn.pending = self.pending
        txn.duration_ms = (time.perf_counter() - started) * 1000
        if txn.operations or resync:
            self.history.add(txn)
        for observer in self.observers:
            observer(txn)
        return txn

    def _updatable(self, item: Item) -> bool:
        return hasattr(self.handlers[item.kind], "update")

    def _with_dependents(self, keys: set[str]) -> set[str]:
        result = set(keys)
        changed = True
        while changed:
            changed = False
            for key, item in self.applied.items():
                if key not in result and any(dep in result for dep in item.deps()):
                    result.add(key)
                    changed = True
        return result

    @staticmethod
    def _order(keys: set[str], items: Mapping[str, Item], reverse: bool) -> list[str]:
        """Topological order by deps (dependencies first); ties by key for a
        stable, readable history. Cycles cannot be applied and are left last."""
        ordered: list[str] = []
        state: dict[str, int] = {}

        def visit(key: str) -> None:
            if state.get(key) == 2:
                return
            if state.get(key) == 1:
                return  # a cycle: leave the rest of it to the caller's order
            state[key] = 1
            for dep in items[key].deps():
                if dep in keys and dep in items:
                    visit(dep)
            state[key] = 2
            ordered.append(key)

        for key in sorted(keys):
            visit(key)
        return list(reversed(ordered)) if reverse else ordered

    # --- operations -----------------------------------------------------------------

    async def _create(self, txn: Transaction, item: Item) -> None:
        key = item.key()
        try:
            await self.handlers[item.kind].create(item)
        except Exception as exc:  # noqa: BLE001 - any handler error fails this item only
            self._failed(txn, "create", item, exc)
            return
        self.applied[key] = item
        self.failures.pop(key, None)
        txn.operations.append(Operation(op="create", key=key, kind=item.kind))

    async def _update(self, txn: Transaction, old: Item, new: Item) -> None:
        key = new.key()
        try:
            await self.handlers[new.kind].update(old, new)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001
            self._failed(txn, "update", new, exc)
            return
        self.applied[key] = new
        self.failures.pop(key, None)
        txn.operations.append(Operation(op="update", key=key, kind=new.kind))

    async def _delete(self, txn: Transaction, item: Item) -> None:
        key = item.key()
        try:
            await self.handlers[item.kind].delete(item)
        except Exception as exc:  # noqa: BLE001
            # It stays applied, so the next transaction tries again.
            txn.operations.append(Operation(op="delete", key=key, kind=item.kind, ok=False, error=_text(exc)))
            log.warning("delete %s failed: %s", key, _text(exc))
            return
        del self.applied[key]
        txn.operations.append(Operation(op="delete", key=key, kind=item.kind))

    def _failed(self, txn: Transaction, op: str, item: Item, exc: Exception) -> None:
        key = item.key()
        previous = self.failures.get(key)
        attempts = previous.attempts + 1 if previous else 1
        backoff = min(MAX_BACKOFF, MIN_BACKOFF * 2 ** (attempts - 1))
        self.failures[key] = Failure(_text(exc), attempts, self.clock() + backoff)
        # A failed update leaves the old object in an unknown state: forget it,
        # so the retry creates from scratch.
        self.applied.pop(key, None)
        txn.operations.append(Operation(op=op, key=key, kind=item.kind, ok=False, error=_text(exc)))
        log.warning("%s %s failed (attempt %d, retry in %.1fs): %s", op, key, attempts, backoff, _text(exc))


def _text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
