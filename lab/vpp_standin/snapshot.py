"""A copy of the stand-in's state as plain pydantic models, for tests.

Snapshots cross thread and process boundaries (the control socket sends them
as JSON), so they hold strings and numbers only.
"""

from __future__ import annotations

from pydantic import BaseModel

from .counters import CountersSnapshot
from .faults import FaultRule
from .model import FibPath, Interface, Route
from .state import DataplaneState


def _mac(value: bytes) -> str:
    return ":".join(f"{b:02x}" for b in value)


class PathSnapshot(BaseModel):
    sw_if_index: int
    table_id: int
    type: int
    proto: int
    next_hop: str | None
    weight: int
    preference: int
    n_labels: int
    labels: list[int]


class RouteSnapshot(BaseModel):
    prefix: str
    origin: str
    src: int
    paths: list[PathSnapshot]


class TableSnapshot(BaseModel):
    table_id: int
    is_ip6: bool
    name: str
    api_created: bool
    routes: list[RouteSnapshot]  # only the ones added through the API


class InterfaceSnapshot(BaseModel):
    sw_if_index: int
    name: str
    kind: str
    dev_type: str
    mac: str
    admin_up: bool
    link_up: bool
    mtu: list[int]
    tag: str
    ip4_table: int
    ip6_table: int
    addresses: list[str]
    unnumbered_of: int | None
    host_if_name: str | None
    host_namespace: str | None


class NeighborSnapshot(BaseModel):
    sw_if_index: int
    ip_address: str
    mac: str
    flags: int


class StandinSnapshot(BaseModel):
    interfaces: list[InterfaceSnapshot]
    tables: list[TableSnapshot]
    neighbors: list[NeighborSnapshot]
    # STN rules: address -> sw_if_index.
    stn_rules: dict[str, int] = {}
    counters: CountersSnapshot
    clients: list[str]
    pending_faults: list[FaultRule]

    def interface(self, name: str) -> InterfaceSnapshot | None:
        return next((i for i in self.interfaces if i.name == name), None)

    def table(self, table_id: int, is_ip6: bool = False) -> TableSnapshot | None:
        return next((t for t in self.tables if t.table_id == table_id and t.is_ip6 == is_ip6), None)


def _path(p: FibPath) -> PathSnapshot:
    return PathSnapshot(
        sw_if_index=p.sw_if_index,
        table_id=p.table_id,
        type=p.type,
        proto=p.proto,
        next_hop=str(p.nh_address) if p.nh_address is not None else None,
        weight=p.weight,
        preference=p.preference,
        n_labels=p.n_labels,
        labels=[l.label for l in p.label_stack[: p.n_labels]],
    )


def _route(r: Route) -> RouteSnapshot:
    return RouteSnapshot(prefix=str(r.prefix), origin=r.origin.value, src=r.src, paths=[_path(p) for p in r.paths])


def _interface(i: Interface) -> InterfaceSnapshot:
    host = i.tap.host_if_name if i.tap else (i.af_packet.host_if_name if i.af_packet else None)
    return InterfaceSnapshot(
        sw_if_index=i.sw_if_index,
        name=i.name,
        kind=i.kind.value,
        dev_type=i.dev_type,
        mac=_mac(i.mac),
        admin_up=i.admin_up,
        link_up=i.link_up,
        mtu=list(i.mtu),
        tag=i.tag,
        ip4_table=i.ip4_table,
        ip6_table=i.ip6_table,
        addresses=[str(a) for a in i.addresses],
        unnumbered_of=i.unnumbered_of,
        host_if_name=host,
        host_namespace=i.tap.host_namespace if i.tap else None,
    )


def take_snapshot(
    state: DataplaneState, counters: CountersSnapshot, clients: list[str], faults: list[FaultRule]
) -> StandinSnapshot:
    return StandinSnapshot(
        interfaces=[_interface(i) for i in sorted(state.interfaces.values(), key=lambda i: i.sw_if_index)],
        tables=[
            TableSnapshot(
                table_id=t.table_id,
                is_ip6=t.is_ip6,
                name=t.name,
                api_created=t.api_locked,
                routes=[_route(r) for r in t.routes.values()],
            )
            for t in sorted(state.tables.values(), key=lambda t: (t.is_ip6, t.table_id))
        ],
        neighbors=[
            NeighborSnapshot(sw_if_index=n.sw_if_index, ip_address=str(n.ip_address), mac=_mac(n.mac), flags=n.flags)
            for n in state.neighbors.values()
        ],
        stn_rules={str(address): index for address, index in state.stn_rules.items()},
        counters=counters,
        clients=clients,
        pending_faults=faults,
    )
