"""The agent's durable record of the pods it wired.

The pod list must survive an agent restart without asking a container
runtime, so every change is written to a file (atomically: temp file, fsync,
rename) before the CNI request that caused it is answered.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class PodRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    container_id: str
    ifname: str
    netns: str
    pod_namespace: str = ""
    pod_name: str = ""
    pod_uid: str = ""
    ip: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def id(self) -> str:
        return attachment_id(self.container_id, self.ifname)


def attachment_id(container_id: str, ifname: str) -> str:
    return f"{container_id}/{ifname}"


class PodStoreCorrupt(Exception):
    pass


class PodStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "pods.json"

    def load(self) -> dict[str, PodRecord]:
        try:
            raw = self.path.read_text()
        except FileNotFoundError:
            return {}
        try:
            records = [PodRecord.model_validate(r) for r in json.loads(raw)]
        except (ValueError, ValidationError) as exc:
            raise PodStoreCorrupt(f"{self.path} is not a valid pod record file: {exc}") from None
        return {r.id: r for r in records}

    def save(self, records: dict[str, PodRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = json.dumps([r.model_dump(mode="json") for r in records.values()], indent=1)
        with open(tmp, "w") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
