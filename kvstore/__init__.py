"""The etcd access layer shared by every process."""

from kvstore.client import (
    InvalidValue,
    KeyValue,
    KVStore,
    RawRange,
    TxnResult,
    TypedRange,
    Versioned,
    WatchEvent,
    decode,
    retry_unavailable,
)
from kvstore.config import EtcdConfig
from kvstore.election import LeaderElection
from kvstore.errors import EtcdUnavailable, KVStoreError, ResyncRequired, RevisionCompacted, StoreWentBack
from kvstore.lease import Lease
from kvstore.sweep import SweepFenced, SweepResult, mark_and_sweep
from kvstore.txn import Compare, Op, prefix_range_end

__all__ = [
    "Compare", "EtcdConfig", "EtcdUnavailable", "InvalidValue", "KVStore", "KVStoreError", "KeyValue", "Lease",
    "LeaderElection", "Op", "RawRange", "ResyncRequired", "RevisionCompacted", "StoreWentBack", "SweepFenced",
    "SweepResult", "TxnResult", "TypedRange", "Versioned", "WatchEvent", "decode", "mark_and_sweep",
    "prefix_range_end", "retry_unavailable",
]
