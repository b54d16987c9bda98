"""Start-up and shutdown of the stolen NIC, through the STN daemon."""

from __future__ import annotations

import logging

import grpc

from kvstore import KVStore
from model import NODECONFIG, KeySpace, NodeConfig
from stn.client import StnClient, StnClientError
from stn.models import StolenInterface
from vswitch.config import AgentConfig

log = logging.getLogger(__name__)


class StealFailed(Exception):
    pass


async def interface_to_steal(config: AgentConfig, store: KVStore, keys: KeySpace) -> tuple[str | None, NodeConfig | None]:
    """The agent's own option wins; else the node's NodeConfig in etcd."""
    node_config = await store.get(NodeConfig, keys.key(NODECONFIG, config.node_name))
    nc = node_config.value if node_config else None
    name = config.steal_interface
    if name is None and nc is not None:
        name = nc.steal_interface or ("first" if nc.steal_first_nic else None)
    if name == "first":
        name = await default_route_interface()
        if name is None:
            raise StealFailed("asked to steal the first NIC, but no interface holds the default route")
    return name, nc


async def default_route_interface() -> str | None:
    """The interface of the node's IPv4 default route (the lowest metric)."""
    from pyroute2 import AsyncIPRoute

    ipr = AsyncIPRoute()
    try:
        await ipr.setup_endpoint()
        defaults = sorted([(r.get("RTA_PRIORITY") or 0, r.get("RTA_OIF")) async for r in await ipr.route("dump")
                           if r["dst_len"] == 0 and r["family"] == 2 and r.get("table") == 254 and r.get("RTA_OIF")])
        if not defaults:
            return None
        # "get" answers with a list, unlike "dump".
        links = await ipr.link("get", index=defaults[0][1])
        return links[0].get("ifname") if links else None
    finally:
        ipr.close()


async def steal(config: AgentConfig, name: str) -> StolenInterface:
    """Steal `name`, or take over the record of an earlier steal (an agent
    restart finds its NIC already stolen)."""
    async with StnClient(str(config.stn_socket)) as stn:
        try:
            stolen = await stn.steal(name)
            log.info("STN stole %s: %d addresses, %d routes", name, len(stolen.addresses), len(stolen.routes))
            return stolen
        except StnClientError as exc:
            if exc.code is not grpc.StatusCode.ALREADY_EXISTS:
                raise StealFailed(f"STN could not steal {name}: {exc.details}") from None
            log.info("%s was already stolen; using STN's record", name)
            return await stn.info(name)


async def release(config: AgentConfig, name: str) -> None:
    async with StnClient(str(config.stn_socket)) as stn:
        try:
            await stn.release(name)
            log.info("STN released %s", name)
        except StnClientError as exc:
            log.warning("STN could not release %s: %s", name, exc.details)
