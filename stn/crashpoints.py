"""Named crash points, so tests can kill the daemon at an exact step.

Setting CONTIV_STN_CRASH_AT=<name> makes the daemon SIGKILL itself when it
reaches that point: no finally blocks, no flushed buffers, exactly like a
power cut or an OOM kill. Unset (always, in production) the points cost one
dictionary lookup.
"""

from __future__ import annotations

import logging
import os
import signal
from enum import StrEnum

ENV_VAR = "CONTIV_STN_CRASH_AT"

log = logging.getLogger(__name__)


class CrashPoint(StrEnum):
    # The record is on disk in phase STEALING; Linux is untouched.
    STEAL_SAVED = "steal-saved"
    # Routes are removed, addresses still present.
    STEAL_ROUTES_REMOVED = "steal-routes-removed"
    # Linux is stripped; the record still says STEALING.
    STEAL_STRIPPED = "steal-stripped"
    # The record says RESTORING; Linux is untouched.
    RESTORE_MARKED = "restore-marked"
    # Link and addresses are back, routes are not.
    RESTORE_ADDRESSES = "restore-addresses"
    # Linux is restored; the record still exists.
    RESTORE_DONE = "restore-done"


def reached(point: CrashPoint) -> None:
    if os.environ.get(ENV_VAR) == point.value:
        log.critical("crash point %s reached, killing myself as asked by %s", point.value, ENV_VAR)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os.kill(os.getpid(), signal.SIGKILL)
