"""The agent's start-up sequence and lifetime."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress

import uvicorn

from kvstore import KVStore, retry_unavailable
from model import KeySpace, NodeRecord
from vswitch.config import AgentConfig
from vswitch.controller import Controller, heal_periodically, watch_etcd
from vswitch.cniserver import start_cni_server
from vswitch.dataplane.linux import NetnsHandles, linux_handlers
from vswitch.dataplane.profile import linux_profile, vpp_profile
from vswitch.engine import Engine
from vswitch.events import Resync
from vswitch.ipam import Ipam
from vswitch.metrics import AgentMetrics
from vswitch.nodeid import claim_node_id
from vswitch.podstore import PodStore
from vswitch.rest import create_app
from vswitch.uplink import interface_to_steal, release, steal
from vswitch.view import AgentView, NodeView

log = logging.getLogger(__name__)


def node_record_for(config: AgentConfig, node_id: int) -> NodeRecord:
    plan = config.addresses
    node_ip = config.node_ip or plan.node_ip_of(node_id)
    return NodeRecord(id=node_id, name=config.node_name, node_ip=str(node_ip),
                      vxlan_ip=str(plan.vxlan_ip_of(node_id)), management_ips=(str(node_ip.ip),))


async def run_agent(config: AgentConfig) -> None:
    keys = KeySpace(config.prefix)
    metrics = AgentMetrics()
    netns = NetnsHandles()
    store = KVStore(config.etcd)
    await retry_unavailable(store.connect, deadline=120, what="connecting to etcd")
    try:
        record = await claim_node_id(store, keys, config.node_name, config.addresses.max_node_id,
                                     lambda node_id: node_record_for(config, node_id))
        plan = config.addresses
        node = NodeView(record, plan.pod_subnet_of(record.id), plan.pod_gateway_of(record.id))
        log.info("node %s: ID %d, pod subnet %s", record.name, record.id, node.pod_subnet)
        view = AgentView(config=config, node=node)
        # The NIC goes to STN before the dataplane starts, and comes back on a
        # clean shutdown; if the agent dies instead, STN's watchdog restores it.
        stolen_name, view.node_config = await interface_to_steal(config, store, keys)
        if stolen_name is not None:
            view.stolen = await steal(config, stolen_name)
        controllers: list[Controller] = []
        if config.dataplane == "vpp":
            from vswitch.dataplane.vpp import vpp_backend
            # VPP may have restarted empty: everything is dumped and reapplied.
            backend = await vpp_backend(config, on_reconnect=lambda: controllers[0].submit(Resync("vpp reconnected")),
                                        netns=netns)
            handlers, profile, close_backend = backend.handlers, vpp_profile(backend.render), backend.close
        else:
            handlers, profile, close_backend = linux_handlers(netns), linux_profile(), None
        engine = Engine(handlers)
        engine.observers.append(metrics.observer(engine))
        ipam = Ipam(store, keys, record.id, node.pod_subnet, node.pod_gateway)
        controller = Controller(view, engine, ipam, PodStore(config.state_dir), store, keys, profile,
                                on_cni=metrics.observe_cni)
        controllers.append(controller)
        try:
            await serve(controller, config, metrics)
        finally:
            if close_backend is not None:
                await close_backend()
            if stolen_name is not None:
                await release(config, stolen_name)
    finally:
        netns.close()
        await store.close()


async def serve(controller: Controller, config: AgentConfig, metrics: AgentMetrics) -> None:
    controller.submit(Resync("agent start"))
    rest = uvicorn.Server(uvicorn.Config(create_app(controller, metrics), host=config.rest_host,
                                         port=config.rest_port, log_level="warning", lifespan="off"))
    # Signals are handled below; uvicorn must not install its own.
    rest.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    cni_server = await start_cni_server(controller, config.cni_socket)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.create_task(controller.run(), name="event-loop"),
        asyncio.create_task(watch_etcd(controller), name="etcd-watch"),
        asyncio.create_task(heal_periodically(controller, config.healing_interval), name="healing"),
        asyncio.create_task(rest.serve(), name="rest"),
    ]
    log.info("agent serving CNI on %s and REST on %s", config.cni_socket, config.rest_address)
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not stopping and task.exception() is not None:
            log.error("%s stopped: %r", task.get_name(), task.exception())
    log.info("agent stopping; pods keep their wiring")
    await cni_server.stop(grace=2)
    rest.should_exit = True
    for task in tasks:
        task.cancel()
    for task in tasks:
        with suppress(asyncio.CancelledError, Exception):
            await task
    stopping.cancel()
