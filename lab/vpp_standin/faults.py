"""Failure injection: make chosen calls fail, vanish, hang or cut the line."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field


class FaultAction(str, Enum):
    RETVAL = "retval"  # answer with this retval, state untouched
    DROP = "drop"  # never answer (the client times out)
    DISCONNECT = "disconnect"  # close the client's connection instead of answering
    DELAY = "delay"  # answer normally after a pause


class FaultRule(BaseModel):
    message: str
    action: FaultAction = FaultAction.RETVAL
    retval: int = -1
    delay_s: float = Field(default=0.0, ge=0.0)
    # How many matching calls the rule applies to; None means every one.
    count: int | None = Field(default=1, ge=1)


class FaultInjector:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self.fired: int = 0

    def add(self, rule: FaultRule) -> FaultRule:
        self._rules.append(rule.model_copy())
        return rule

    def fail_next(self, message: str, retval: int, count: int | None = 1) -> FaultRule:
        return self.add(FaultRule(message=message, action=FaultAction.RETVAL, retval=retval, count=count))

    def drop_next(self, message: str, count: int | None = 1) -> FaultRule:
        return self.add(FaultRule(message=message, action=FaultAction.DROP, count=count))

    def disconnect_on(self, message: str, count: int | None = 1) -> FaultRule:
        return self.add(FaultRule(message=message, action=FaultAction.DISCONNECT, count=count))

    def delay_next(self, message: str, seconds: float, count: int | None = 1) -> FaultRule:
        return self.add(FaultRule(message=message, action=FaultAction.DELAY, delay_s=seconds, count=count))

    def clear(self) -> None:
        self._rules.clear()

    def pending(self) -> list[FaultRule]:
        return [r.model_copy() for r in self._rules]

    def take(self, message: str) -> FaultRule | None:
        """The rule that applies to this call, used up by one."""
        for rule in self._rules:
            if rule.message != message:
                continue
            if rule.count is not None:
                rule.count -= 1
                if rule.count == 0:
                    self._rules.remove(rule)
            self.fired += 1
            return rule
        return None
