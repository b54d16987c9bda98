"""The Kubernetes State Reflector: Kubernetes objects → their networking
projections in etcd, written only by the elected leader.

Modules, one job each: `wire` (the Kubernetes JSON it reads), `projection`
(pure object → model functions), `kinds` (per-kind desired etcd content),
`apiclient` and `connection` (list/watch over HTTP), `reflector` (the API
side of one kind), `writer` (the etcd side of one kind), `monitor` (etcd lost
data?), `term` (one leadership term), `service` (the process), `health`,
`metrics`, `config`, `cli`.
"""
