"""Pod address management for one node.

The node's pod subnet follows from its ID; each allocation is a key in etcd
(`ipam/<node-id>/<ip>`) created with create-if-absent, so an address is never
handed out twice, even across a crash. Allocation is idempotent per
attachment (container ID + interface).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable

from kvstore import KVStore, Versioned
from model import IPAM, IpamAllocation, KeySpace

log = logging.getLogger(__name__)


class IpamFull(Exception):
    pass


class Ipam:
    def __init__(self, store: KVStore, keys: KeySpace, node_id: int, subnet: ipaddress.IPv4Network,
                 gateway: ipaddress.IPv4Address) -> None:
        self.store = store
        self.keys = keys
        self.node_id = node_id
        self.subnet = subnet
        self.gateway = gateway
        self.allocations: dict[str, Versioned[IpamAllocation]] = {}
        self._cursor = 0

    @property
    def capacity(self) -> int:
        # Network, broadcast and gateway addresses are never handed out.
        return self.subnet.num_addresses - 3

    @property
    def free(self) -> int:
        return self.capacity - len(self.allocations)

    async def load(self) -> None:
        listed = await self.store.range(IpamAllocation, self.keys.kind_prefix(IPAM, self.node_id))
        self.allocations = {v.value.pod_ip: v for v in listed.items.values()}

    def find(self, container_id: str, ifname: str) -> IpamAllocation | None:
        for item in self.allocations.values():
            if item.value.container_id == container_id and item.value.interface == ifname:
                return item.value
        return None

    def _hosts(self) -> list[ipaddress.IPv4Address]:
        return [ip for ip in self.subnet.hosts() if ip != self.gateway]

    def _candidates(self, hosts: list[ipaddress.IPv4Address]) -> Iterable[ipaddress.IPv4Address]:
        # Round-robin from after the last allocation, so that a just-freed
        # address is not reused at once (stale ARP and conntrack entries).
        for i in range(len(hosts)):
            yield hosts[(self._cursor + i) % len(hosts)]

    async def allocate(self, container_id: str, ifname: str, pod_namespace: str, pod_name: str) -> IpamAllocation:
        existing = self.find(container_id, ifname)
        if existing is not None:
            return existing
        hosts = self._hosts()
        for ip in self._candidates(hosts):
            if str(ip) in self.allocations:
                continue
            allocation = IpamAllocation(pod_ip=str(ip), container_id=container_id, pod_namespace=pod_namespace,
                                        pod_name=pod_name, interface=ifname)
            key = self.keys.key(IPAM, self.node_id, ip)
            result = await self.store.create_if_absent(key, allocation)
            if not result.succeeded:
                # Taken in etcd but unknown here: learn it and move on.
                current = await self.store.get(IpamAllocation, key)
                if current is not None:
                    self.allocations[str(ip)] = current
                continue
            self.allocations[str(ip)] = Versioned(key, allocation, result.revision, result.revision)
            self._cursor = hosts.index(ip) + 1
            return allocation
        raise IpamFull(f"no free address in pod subnet {self.subnet} of node {self.node_id} "
                       f"({self.capacity} addresses, all in use)")

    async def release(self, container_id: str, ifname: str) -> str | None:
        """Free the attachment's address; returns it, or None if it had none."""
        for ip, item in list(self.allocations.items()):
            if item.value.container_id == container_id and item.value.interface == ifname:
                await self.store.delete(item.key)
                del self.allocations[ip]
                return ip
        return None

    async def reconcile(self, attachments: dict[str, tuple[str, str]]) -> list[str]:
        """Free every allocation whose attachment the agent does not know
        (left by a crash between allocating and recording the pod).
        `attachments` maps pod IP to (container ID, interface)."""
        await self.load()
        released = []
        for ip, item in list(self.allocations.items()):
            if attachments.get(ip) != (item.value.container_id, item.value.interface):
                log.info("IPAM: releasing %s of unknown attachment %s/%s", ip, item.value.container_id,
                         item.value.interface)
                await self.store.delete_if(item.key, item.mod_revision)
                del self.allocations[ip]
                released.append(ip)
        return released
