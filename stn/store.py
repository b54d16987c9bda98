"""Crash-safe on-disk records, one JSON file per stolen interface.

A record is replaced with write-to-temp, fsync, rename, fsync of the
directory, so after a crash the file holds either the old or the new record,
never a torn one. A state directory belongs to one daemon: `lock()` takes an
exclusive flock that the kernel drops when the process dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from pydantic import ValidationError

from stn.models import StolenInterface, validate_interface_name

log = logging.getLogger(__name__)

_SUFFIX = ".json"
# A temp file ends in ".json.tmp", which no record file (ending ".json") can.
_TMP_SUFFIX = ".tmp"
_LOCK_NAME = ".lock"


class StateDirBusy(RuntimeError):
    """Another daemon holds the state directory."""


class StateStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock_fd: int | None = None

    def lock(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateDirBusy(f"state directory {self.directory} is in use by another contiv-stn") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def path_of(self, interface_name: str) -> Path:
        # The name is validated so it can never escape the directory.
        return self.directory / f"{validate_interface_name(interface_name)}{_SUFFIX}"

    def save(self, record: StolenInterface) -> None:
        target = self.path_of(record.interface_name)
        tmp = target.with_name(target.name + _TMP_SUFFIX)
        data = record.model_dump_json(indent=2).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, target)
        self._sync_dir()

    def delete(self, interface_name: str) -> None:
        try:
            self.path_of(interface_name).unlink()
        except FileNotFoundError:
            return
        self._sync_dir()

    def load_all(self) -> list[StolenInterface]:
        """Every readable record; temp files of an interrupted write are dropped.

        A record that does not parse is left on disk untouched (an operator
        may still recover the configuration from it by hand) and logged.
        """
        records: list[StolenInterface] = []
        if not self.directory.is_dir():
            return records
        for path in sorted(self.directory.iterdir()):
            if path.name.endswith(_SUFFIX + _TMP_SUFFIX):
                # The rename never happened, so the previous record is intact.
                log.info("removing %s left by an interrupted write", path)
                path.unlink(missing_ok=True)
                continue
            if path.suffix != _SUFFIX:
                continue
            try:
                record = StolenInterface.model_validate_json(path.read_bytes())
            except (OSError, ValidationError, ValueError) as exc:
                log.error("cannot read saved state %s, leaving it untouched: %s", path, exc)
                continue
            if path.name != f"{record.interface_name}{_SUFFIX}":
                log.error("saved state %s is for interface %s, ignoring it", path, record.interface_name)
                continue
            records.append(record)
        return records

    def _sync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
