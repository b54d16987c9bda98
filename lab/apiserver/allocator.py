"""Service cluster IPs (from the service CIDR) and node ports, allocated as
the real server does: each value taken is a claim key written in the same
etcd transaction as the service, guarded by "the claim is absent", so two
services racing for one value cannot both commit."""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from typing import Any

from aetcd import rpc

from kvstore import Compare, Op
from lab.apiserver.errors import invalid
from lab.apiserver.storage import Storage
from lab.apiserver.validation import invalid_value

SERVICE_CIDR = "10.96.0.0/12"
NODE_PORTS = (30000, 32767)

Obj = dict[str, Any]


@dataclass
class Claims:
    """What a service write adds to its transaction."""

    compare: list[rpc.Compare] = field(default_factory=list)
    ops: list[rpc.RequestOp] = field(default_factory=list)
    # Values this write takes that someone else may take first: on a failed
    # transaction these are re-checked to tell a lost race from a conflict.
    taken: list[str] = field(default_factory=list)


class ServiceAllocator:
    def __init__(self, storage: Storage, cidr: str = SERVICE_CIDR, node_ports: tuple[int, int] = NODE_PORTS) -> None:
        self.storage = storage
        self.cidr = ipaddress.ip_network(cidr)
        self.node_ports = node_ports

    def _ip_key(self, ip: str) -> str:
        return self.storage.claim_key("serviceips", ip)

    def _port_key(self, port: int) -> str:
        return self.storage.claim_key("servicenodeports", str(port))

    async def _taken(self, kind: str) -> set[str]:
        raw = await self.storage.kv.range_raw(self.storage.claim_key(kind, ""), keys_only=True)
        return {kv.key.rpartition("/")[2] for kv in raw.kvs}

    async def allocate(self, svc: Obj, owner_key: str, old: Obj | None) -> Claims:
        """Fill in the service's cluster IP and node ports (keeping those of
        `old`, the stored service on an update) and return the claims to commit."""
        claims = Claims()
        spec = svc.setdefault("spec", {})
        name = svc["metadata"].get("name", "")
        old_spec = (old or {}).get("spec", {})
        if spec.get("type") == "ExternalName":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        else:
            await self._allocate_ip(spec, old_spec, name, owner_key, claims)
        await self._allocate_node_ports(spec, old_spec, name, owner_key, claims)
        return claims

    async def _allocate_ip(self, spec: Obj, old_spec: Obj, name: str, owner_key: str, claims: Claims) -> None:
        old_ip = old_spec.get("clusterIP")
        wanted = spec.get("clusterIP") or ((spec.get("clusterIPs") or [None])[0])
        if old_ip:
            # An update that leaves the address out keeps it, as `kubectl
            # replace` of a manifest without clusterIP expects.
            if wanted and wanted != old_ip:
                raise invalid("Service", "", name, [invalid_value("spec.clusterIPs[0]", wanted,
                                                                  "may not change once set")])
            spec["clusterIP"], spec["clusterIPs"] = old_ip, [old_ip]
            return
        if wanted == "None":
            spec["clusterIP"], spec["clusterIPs"] = "None", ["None"]
            return
        if wanted:
            if ipaddress.ip_address(wanted) not in self.cidr:
                raise invalid("Service", "", name, [invalid_value(
                    "spec.clusterIPs", [wanted],
                    f"failed to allocate IP {wanted}: provided IP is not in the valid range. "
                    f"The range of valid IPs is {self.cidr}")])
            if wanted in await self._taken("serviceips"):
                raise invalid("Service", "", name, [invalid_value(
                    "spec.clusterIPs", [wanted], f"failed to allocate IP {wanted}: provided IP is already allocated")])
            ip = wanted
        else:
            ip = self._pick_ip(await self._taken("serviceips"))
        spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        claims.compare.append(Compare.absent(self._ip_key(ip)))
        claims.ops.append(Op.put(self._ip_key(ip), owner_key.encode()))
        claims.taken.append(self._ip_key(ip))

    def _pick_ip(self, taken: set[str]) -> str:
        # Random, like the real allocator, so racing creates rarely collide;
        # the network address, the first host (the API's own service in a
        # real cluster) and the broadcast address are never handed out.
        first = int(self.cidr.network_address) + 2
        last = int(self.cidr.broadcast_address) - 1
        for _ in range(64):
            candidate = str(ipaddress.ip_address(random.randint(first, last)))
            if candidate not in taken:
                return candidate
        for value in range(first, last + 1):
            candidate = str(ipaddress.ip_address(value))
            if candidate not in taken:
                return candidate
        raise invalid("Service", "", "", [invalid_value("spec.clusterIPs", [], "range is full")])

    async def _allocate_node_ports(self, spec: Obj, old_spec: Obj, name: str, owner_key: str,
                                   claims: Claims) -> None:
        wants_ports = spec.get("type") in ("NodePort", "LoadBalancer")
        old_ports = {p.get("port"): p.get("nodePort") for p in old_spec.get("ports") or [] if p.get("nodePort")}
        kept: set[int] = set()
        taken: set[str] | None = None
        for i, port in enumerate(spec.get("ports") or []):
            if not wants_ports:
                port.pop("nodePort", None)
                continue
            requested = port.get("nodePort")
            if not requested and port.get("port") in old_ports:
                requested = old_ports[port.get("port")]
            if requested and requested in old_ports.values():
                port["nodePort"] = requested
                kept.add(requested)
                continue
            if taken is None:
                taken = await self._taken("servicenodeports")
            if requested:
                if not self.node_ports[0] <= requested <= self.node_ports[1]:
                    raise invalid("Service", "", name, [invalid_value(
                        f"spec.ports[{i}].nodePort", requested,
                        f"provided port is not in the valid range. The range of valid ports is "
                        f"{self.node_ports[0]}-{self.node_ports[1]}")])
                if str(requested) in taken:
                    raise invalid("Service", "", name, [invalid_value(
                        f"spec.ports[{i}].nodePort", requested, "provided port is already allocated")])
                chosen = requested
            else:
                free = [p for p in range(self.node_ports[0], self.node_ports[1] + 1) if str(p) not in taken]
                if not free:
                    raise invalid("Service", "", name, [invalid_value(f"spec.ports[{i}].nodePort", 0,
                                                                      "range is full")])
                chosen = random.choice(free)
            taken.add(str(chosen))
            port["nodePort"] = chosen
            claims.compare.append(Compare.absent(self._port_key(chosen)))
            claims.ops.append(Op.put(self._port_key(chosen), owner_key.encode()))
            claims.taken.append(self._port_key(chosen))
        for released in set(old_ports.values()) - kept:
            claims.ops.append(Op.delete(self._port_key(released)))

    def release(self, svc: Obj) -> list[rpc.RequestOp]:
        """The deletes that free a deleted service's values, in its transaction."""
        spec = svc.get("spec") or {}
        ops = []
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            ops.append(Op.delete(self._ip_key(ip)))
        for port in spec.get("ports") or []:
            if port.get("nodePort"):
                ops.append(Op.delete(self._port_key(port["nodePort"])))
        return ops
