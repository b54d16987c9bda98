"""What the transaction engine schedules: items and the handlers that apply them."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from typing import ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict


class Item(BaseModel):
    """One piece of desired dataplane configuration.

    Immutable and compared by value: an item equal to the applied one means
    nothing to do. `key()` names it uniquely across kinds; `deps()` are the
    keys that must be applied before it (and it deleted before them).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str]

    @abstractmethod
    def key(self) -> str: ...

    def deps(self) -> tuple[str, ...]:
        return ()

    def describe(self) -> str:
        return self.key()


I = TypeVar("I", bound=Item)


class Handler(Protocol[I]):
    """Applies one kind of item to a dataplane.

    create and delete must tolerate what already is (EEXIST on create of an
    identical object, ENOENT on delete): a retry after a crash meets half of
    its own work. dump returns what exists of this kind within the scope of
    the given desired items (e.g. their network namespaces) plus anything the
    handler recognises as its own (by name prefix, route protocol, tag).
    """

    kind: str

    async def create(self, item: I) -> None: ...

    async def delete(self, item: I) -> None: ...

    async def dump(self, desired: Iterable[I]) -> list[I]: ...


class UpdatingHandler(Handler[I], Protocol[I]):
    """A handler that can change an item in place, sparing its dependents."""

    async def update(self, old: I, new: I) -> None: ...
