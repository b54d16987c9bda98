"""The agent's Prometheus metrics, in a registry of its own."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from vswitch.engine import Engine, Transaction


class AgentMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.cni_requests = Counter("contiv_cni_requests", "CNI requests handled", ["command", "result"],
                                    registry=self.registry)
        self.cni_seconds = Histogram("contiv_cni_request_seconds", "Agent-side CNI request latency", ["command"],
                                     buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
                                     registry=self.registry)
        self.transactions = Counter("contiv_transactions", "Engine transactions run", registry=self.registry)
        self.operations = Counter("contiv_operations", "Dataplane operations", ["op", "result"],
                                  registry=self.registry)
        self.items = Gauge("contiv_applied_items", "Applied items per kind", ["kind"], registry=self.registry)
        self.pending = Gauge("contiv_pending_items", "Desired items not applied", registry=self.registry)

    def observe_cni(self, command: str, result: str, seconds: float) -> None:
        self.cni_requests.labels(command, result).inc()
        self.cni_seconds.labels(command).observe(seconds)

    def observer(self, engine: Engine):
        def observe(txn: Transaction) -> None:
            self.transactions.inc()
            for op in txn.operations:
                self.operations.labels(op.op, "ok" if op.ok else "error").inc()
            per_kind = Tally(item.kind for item in engine.applied.values())
            for kind in engine.handlers:
                self.items.labels(kind).set(per_kind.get(kind, 0))
            self.pending.set(len(txn.pending))
        return observe
