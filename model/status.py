"""Records under `status/`: health and reports that operators and netctl read."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from model.base import StoredModel


class ComponentHealth(StoredModel):
    """Key `status/health/<component>/<instance>`."""

    component: str
    instance: str
    healthy: bool
    detail: str = ""
    updated_at: datetime


class ValidationProblem(StoredModel):
    node: str = ""
    message: str


class ValidationReport(StoredModel):
    """Key `status/validation/<name>`: the result of a topology check."""

    name: str
    generated_at: datetime
    ok: bool
    problems: tuple[ValidationProblem, ...] = ()
    gauges: dict[str, float] = Field(default_factory=dict)
