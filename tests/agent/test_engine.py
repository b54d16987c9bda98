"""The transaction engine's ordering, pending, retry and resync rules, on an
in-memory backend (a fake of our own handler interface)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import pytest

from vswitch.engine import Engine, History, Item, UnknownKind


class Thing(Item):
    kind: ClassVar[str] = "thing"
    name: str
    value: int = 0
    needs: tuple[str, ...] = ()

    def key(self) -> str:
        return f"thing/{self.name}"

    def deps(self) -> tuple[str, ...]:
        return tuple(f"thing/{n}" for n in self.needs)


class Memory:
    """A dataplane that remembers things and logs every call."""

    kind = Thing.kind

    def __init__(self) -> None:
        self.objects: dict[str, Thing] = {}
        self.log: list[str] = []
        self.fail: dict[str, int] = {}

    async def create(self, item: Thing) -> None:
        if self.fail.get(item.name, 0) > 0:
            self.fail[item.name] -= 1
            raise OSError(f"cannot create {item.name}")
        self.log.append(f"create {item.name}")
        self.objects[item.name] = item

    async def delete(self, item: Thing) -> None:
        self.log.append(f"delete {item.name}")
        self.objects.pop(item.name, None)

    async def dump(self, desired: Iterable[Thing]) -> list[Thing]:
        return list(self.objects.values())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def desired(*things: Thing) -> dict[str, Item]:
    return {t.key(): t for t in things}


@pytest.fixture
def memory() -> Memory:
    return Memory()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(memory: Memory, clock: Clock) -> Engine:
    return Engine([memory], clock=clock)


async def test_dependencies_are_created_first_and_deleted_last(engine: Engine, memory: Memory) -> None:
    link, addr, route = Thing(name="link"), Thing(name="addr", needs=("link",)), Thing(name="route", needs=("addr",))
    await engine.apply(desired(route, addr, link), "add")
    assert memory.log == ["create link", "create addr", "create route"]
    memory.log.clear()
    await engine.apply({}, "remove")
    assert memory.log == ["delete route", "delete addr", "delete link"]


async def test_item_waits_as_pending_until_its_dependency_appears(engine: Engine, memory: Memory) -> None:
    route = Thing(name="route", needs=("link",))
    txn = await engine.apply(desired(route), "route first")
    assert memory.objects == {} and txn.pending == ["thing/route"]
    txn = await engine.apply(desired(route, Thing(name="link")), "link arrives")
    assert set(memory.objects) == {"link", "route"} and txn.pending == []


async def test_changed_item_is_recreated_with_its_dependents(engine: Engine, memory: Memory) -> None:
    await engine.apply(desired(Thing(name="link"), Thing(name="addr", needs=("link",))), "v1")
    memory.log.clear()
    await engine.apply(desired(Thing(name="link", value=2), Thing(name="addr", needs=("link",))), "v2")
    assert memory.log == ["delete addr", "delete link", "create link", "create addr"]
    assert memory.objects["link"].value == 2


async def test_failure_is_recorded_and_retried_with_backoff(engine: Engine, memory: Memory, clock: Clock) -> None:
    memory.fail["link"] = 2
    want = desired(Thing(name="link"), Thing(name="addr", needs=("link",)))
    txn = await engine.apply(want, "first")
    assert [(op.key, op.ok) for op in txn.operations] == [("thing/link", False)]
    assert "cannot create link" in txn.operations[0].error
    assert txn.pending == ["thing/addr", "thing/link"]
    first_wait = engine.next_retry_in()
    assert first_wait is not None and first_wait > 0

    # Not due yet: nothing is tried.
    assert (await engine.apply(want, "too early")).operations == []
    clock.now += first_wait
    await engine.apply(want, "retry 1")  # fails again, waits longer
    second_wait = engine.next_retry_in()
    assert second_wait is not None and second_wait > first_wait
    clock.now += second_wait
    txn = await engine.apply(want, "retry 2")
    assert [op.key for op in txn.operations if op.ok] == ["thing/link", "thing/addr"]
    assert engine.failures == {} and engine.pending == []


async def test_resync_of_an_unchanged_dataplane_does_nothing(engine: Engine, memory: Memory) -> None:
    want = desired(Thing(name="link"), Thing(name="addr", needs=("link",)))
    await engine.apply(want, "initial")
    restarted = Engine([memory])
    memory.log.clear()
    txn = await restarted.resync(want)
    assert txn.operations == [] and memory.log == []


async def test_resync_removes_what_only_the_dataplane_has_and_adds_what_it_lacks(memory: Memory) -> None:
    memory.objects = {"stale": Thing(name="stale"), "link": Thing(name="link")}
    engine = Engine([memory])
    txn = await engine.resync(desired(Thing(name="link"), Thing(name="new")))
    assert sorted((op.op, op.key) for op in txn.operations) == [("create", "thing/new"), ("delete", "thing/stale")]


async def test_unknown_kind_is_rejected(engine: Engine) -> None:
    class Other(Thing):
        kind: ClassVar[str] = "other"

    with pytest.raises(UnknownKind):
        await engine.apply(desired(Other(name="x")), "bad")


async def test_history_is_bounded_and_records_operations(memory: Memory) -> None:
    engine = Engine([memory], history=History(size=3))
    for i in range(5):
        await engine.apply(desired(Thing(name="link", value=i)), f"v{i}")
    records = engine.history.recent()
    assert [r.cause for r in records] == ["v2", "v3", "v4"]
    assert [op.op for op in records[-1].operations] == ["delete", "create"]


async def test_verify_reads_the_dataplane_and_changes_nothing(engine: Engine, memory: Memory) -> None:
    link, addr = Thing(name="link"), Thing(name="addr", needs=("link",))
    await engine.apply(desired(link, addr), "initial")
    del memory.objects["addr"]          # drift the engine does not know of
    memory.objects["link"] = Thing(name="link", value=9)
    memory.log.clear()
    assert sorted(await engine.verify([link, addr])) == ["thing/addr", "thing/link"]
    assert memory.log == [] and engine.applied == desired(link, addr)
