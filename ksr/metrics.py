"""The KSR's Prometheus metrics, in a registry of their own (one per instance,
so that tests can run several in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.objects = Gauge("contiv_ksr_objects", "Keys of each kind the KSR reflects into etcd", ["kind"],
                             registry=r)
        self.watch_restarts = Counter(
            "contiv_ksr_watch_restarts_total",
            "API watches opened again, by reason (expired: 410 Gone, relisted; closed: the server ended it; "
            "error: the connection failed)", ["kind", "reason"], registry=r)
        self.api_errors = Counter("contiv_ksr_api_errors_total", "Failed requests to the Kubernetes API",
                                  ["kind"], registry=r)
        self.etcd_errors = Counter("contiv_ksr_etcd_errors_total", "Failed etcd operations", ["operation"],
                                   registry=r)
        self.etcd_writes = Counter("contiv_ksr_etcd_writes_total", "Keys put or deleted in etcd", ["kind", "op"],
                                   registry=r)
        self.resyncs = Counter(
            "contiv_ksr_resyncs_total",
            "Mark-and-sweep resyncs of one kind's prefix, by trigger (list: start or relist; store-lost: etcd "
            "lost data)", ["kind", "trigger"], registry=r)
        self.resync_duration = Histogram(
            "contiv_ksr_resync_duration_seconds", "Time a mark-and-sweep resync of one kind took", ["kind"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), registry=r)
        self.skipped = Counter("contiv_ksr_skipped_objects_total",
                               "API objects skipped because they could not be projected", ["kind"], registry=r)
        self.store_lost = Counter("contiv_ksr_store_lost_total",
                                  "Times etcd was found to have lost data (wiped or restored)", registry=r)
        self.leader = Gauge("contiv_ksr_leader", "1 while this instance is the leader", registry=r)
        self.synced = Gauge("contiv_ksr_synced", "1 while the leader's etcd prefixes match the API", registry=r)
        self.leadership_changes = Counter("contiv_ksr_leadership_acquired_total",
                                          "Times this instance became the leader", registry=r)
