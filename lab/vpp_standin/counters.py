"""Per-message call counters, for tests and for benchmark comparisons."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel


class CountersSnapshot(BaseModel):
    calls: dict[str, int]
    failed: dict[str, int]
    malformed: dict[str, int]
    replies_sent: int
    connections_total: int
    connections_open: int
    faults_fired: int

    def total_calls(self) -> int:
        return sum(self.calls.values())


class Counters:
    def __init__(self) -> None:
        self.connections_total = 0
        self.connections_open = 0
        self.reset()

    def reset(self) -> None:
        """Zero the call counters; the open-connection gauge stays true."""
        self.calls: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()  # replies with retval != 0
        self.malformed: Counter[str] = Counter()
        self.replies_sent = 0

    def snapshot(self, faults_fired: int) -> CountersSnapshot:
        return CountersSnapshot(
            calls=dict(self.calls),
            failed=dict(self.failed),
            malformed=dict(self.malformed),
            replies_sent=self.replies_sent,
            connections_total=self.connections_total,
            connections_open=self.connections_open,
            faults_fired=faults_fired,
        )
