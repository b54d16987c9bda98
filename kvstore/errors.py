"""What can go wrong talking to etcd, as errors a caller can act on."""

from __future__ import annotations


class KVStoreError(Exception):
    """Base of every kvstore error."""


class EtcdUnavailable(KVStoreError):
    """etcd did not answer in time or could not be reached at all."""


class ResyncRequired(KVStoreError):
    """A watch cannot resume without losing events: list again, then watch
    from the list's revision."""


class RevisionCompacted(ResyncRequired):
    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"revision {requested} was compacted (etcd keeps history from {compacted} on); resync")
        self.requested = requested
        self.compacted = compacted


class StoreWentBack(ResyncRequired):
    """etcd's revision is lower than one already seen: it was wiped or restored
    from a backup, so everything read before may be gone."""

    def __init__(self, expected_at_least: int, current: int) -> None:
        super().__init__(
            f"etcd is at revision {current} but revision {expected_at_least} was already seen "
            "(etcd was wiped or restored); resync")
        self.expected_at_least = expected_at_least
        self.current = current
