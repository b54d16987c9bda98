"""Exponential backoff with jitter, for retrying the API server and etcd."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial: float = 0.2, maximum: float = 10.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def next(self) -> float:
        """The delay before the next attempt; each one is about twice the last."""
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        # Jitter keeps two KSRs (or six reflectors) from retrying in lockstep.
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._next = self.initial
