"""A bounded record of transactions, for netctl and the REST API."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

OpKind = Literal["create", "update", "delete"]


class Operation(BaseModel):
    op: OpKind
    key: str
    kind: str
    ok: bool = True
    error: str = ""


class Transaction(BaseModel):
    seq: int
    cause: str
    started: datetime
    duration_ms: float = 0.0
    resync: bool = False
    operations: list[Operation] = Field(default_factory=list)
    pending: list[str] = Field(default_factory=list)

    @property
    def failed(self) -> list[Operation]:
        return [op for op in self.operations if not op.ok]


class History:
    def __init__(self, size: int = 200) -> None:
        self._records: deque[Transaction] = deque(maxlen=size)

    def add(self, txn: Transaction) -> None:
        self._records.append(txn)

    def recent(self, limit: int | None = None) -> list[Transaction]:
        records = list(self._records)
        return records[-limit:] if limit else records
