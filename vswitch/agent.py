"""The agent's start-up sequence and lifetime."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from contextlib import suppress
from typing import TYPE_CHECKING

import uvicorn

from kvstore import KVStore, retry_unavailable
from model import KeySpace, NodeRecord
from stn.models import StolenInterface
from vswitch.config import AgentConfig
from vswitch.controller import Controller, heal_periodically, watch_etcd
from vswitch.cniserver import start_cni_server
from vswitch.dataplane.linux import NetnsHandles, linux_handlers
from vswitch.dataplane.profile import DataplaneProfile, linux_profile, vpp_profile
from vswitch.engine import Engine
from vswitch.events import Resync
from vswitch.ipam import Ipam
from vswitch.metrics import AgentMetrics
from vswitch.nodeid import claim_node_id
from vswitch.podstore import PodStore
from vswitch.render.uplink import kept_addresses
from vswitch.rest import create_app
from vswitch.uplink import interface_to_steal, release, steal
from vswitch.view import AgentView, NodeView

if TYPE_CHECKING:
    from vswitch.vpp_runtime import VppRuntime

log = logging.getLogger(__name__)


def node_record_for(config: AgentConfig, node_id: int, stolen: StolenInterface | None = None) -> NodeRecord:
    """The node's addresses: the configured node IP, else the stolen NIC's
    (the node is known by the address it always had), else the plan's."""
    plan = config.addresses
    nic_addresses = kept_addresses(stolen) if stolen is not None else []
    node_ip = config.node_ip or (ipaddress.IPv4Interface(nic_addresses[0]) if nic_addresses
                                 else plan.node_ip_of(node_id))
    return NodeRecord(id=node_id, name=config.node_name, node_ip=str(node_ip),
                      vxlan_ip=str(plan.vxlan_ip_of(node_id)), management_ips=(str(node_ip.ip),))


async def run_agent(config: AgentConfig) -> None:
    keys = KeySpace(config.prefix)
    metrics = AgentMetrics()
    netns = NetnsHandles()
    store = KVStore(config.etcd)
    await retry_unavailable(store.connect, deadline=120, what="connecting to etcd")
    stolen_name: str | None = None
    try:
        # The NIC goes to STN before the dataplane starts, and comes back on a
        # clean shutdown; if the agent dies instead, STN's watchdog restores it.
        stolen_name, node_config = await interface_to_steal(config, store, keys)
        stolen = await steal(config, stolen_name) if stolen_name is not None else None
        record = await claim_node_id(store, keys, config.node_name, config.addresses.max_node_id,
                                     lambda node_id: node_record_for(config, node_id, stolen))
        plan = config.addresses
        node = NodeView(record, plan.pod_subnet_of(record.id), plan.pod_gateway_of(record.id))
        log.info("node %s: ID %d, node IP %s, pod subnet %s", record.name, record.id, record.node_ip,
                 node.pod_subnet)
        view = AgentView(config=config, node=node, node_config=node_config, stolen=stolen)
        if config.dataplane == "vpp":
            from vswitch.vpp_runtime import VppRuntime

            # From here on the runtime gives the NIC back, VPP's side taken down first.
            vpp, stolen_name = VppRuntime(config, netns, stolen_name), None
            try:
                backend = await vpp.start()
            except BaseException:
                await vpp.stop()
                raise
            controller = new_controller(view, Engine(backend.handlers), store, keys, config,
                                        vpp_profile(backend.render), metrics)
            vpp.controller = controller
            await serve(controller, config, metrics, vpp)
        else:
            controller = new_controller(view, Engine(linux_handlers(netns)), store, keys, config, linux_profile(),
                                        metrics)
            await serve(controller, config, metrics)
    finally:
        if stolen_name is not None:
            await release(config, stolen_name)
        netns.close()
        await store.close()


def new_controller(view: AgentView, engine: Engine, store: KVStore, keys: KeySpace, config: AgentConfig,
                   profile: DataplaneProfile, metrics: AgentMetrics) -> Controller:
    engine.observers.append(metrics.observer(engine))
    node = view.node
    ipam = Ipam(store, keys, node.record.id, node.pod_subnet, node.pod_gateway)
    return Controller(view, engine, ipam, PodStore(config.state_dir), store, keys, profile,
                      on_cni=metrics.observe_cni)


async def serve(controller: Controller, config: AgentConfig, metrics: AgentMetrics,
                vpp: VppRuntime | None = None) -> None:
    controller.submit(Resync("agent start"))
    app = create_app(controller, metrics, dataplane_health=vpp.health if vpp is not None else None)
    rest = uvicorn.Server(uvicorn.Config(app, host=config.rest_host, port=config.rest_port, log_level="warning",
                                         lifespan="off"))
    # Signals are handled below; uvicorn must not install its own.
    rest.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    cni_server = await start_cni_server(controller, config.cni_socket)
    stop = asyncio.Event()
    received: list[int] = []
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda sig=sig: (received.append(sig), stop.set()))
    tasks = [
        asyncio.create_task(controller.run(), name="event-loop"),
        asyncio.create_task(watch_etcd(controller), name="etcd-watch"),
        asyncio.create_task(heal_periodically(controller, config.healing_interval), name="healing"),
        asyncio.create_task(rest.serve(), name="rest"),
    ]
    if vpp is not None:
        tasks.append(asyncio.create_task(vpp.supervise(), name="vpp-supervisor"))
    log.info("agent serving CNI on %s and REST on %s", config.cni_socket, config.rest_address)
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
    fatal: BaseException | None = None
    for task in done:
        if task is not stopping and task.exception() is not None:
            log.error("%s stopped: %s", task.get_name(), task.exception())
            fatal = fatal or task.exception()
    log.info("agent stopping; pods keep their wiring")
    await cni_server.stop(grace=2)
    if vpp is not None:
        # While the event loop still runs: the NIC's handover is a transaction.
        await vpp.stop(received[0] if received else signal.SIGTERM)
    rest.should_exit = True
    for task in tasks:
        task.cancel()
    for task in tasks:
        with suppress(asyncio.CancelledError, Exception):
            await task
    stopping.cancel()
    if vpp is not None and fatal is not None:
        from vswitch.vpp_runtime import VppGone

        if isinstance(fatal, VppGone):
            raise fatal
