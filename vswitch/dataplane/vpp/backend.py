"""Assembles the VPP dataplane for the agent: connection, handlers, renderer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple

from vswitch.dataplane.linux.handlers import AddressHandler as LinuxAddressHandler
from vswitch.dataplane.linux.handlers import NeighborHandler as LinuxNeighborHandler
from vswitch.dataplane.linux.handlers import RouteHandler as LinuxRouteHandler
from vswitch.dataplane.linux.handlers import VethHandler
from vswitch.dataplane.linux.netns import NetnsHandles
from vswitch.dataplane.vpp.connection import AsyncVppConnection, SyncVppConnection, VppConnection
from vswitch.dataplane.vpp.ifconfig import AddressHandler, InterfaceStateHandler
from vswitch.dataplane.vpp.ifindex import InterfaceIndex
from vswitch.dataplane.vpp.interfaces import LoopbackHandler, PodInterfaceHandler, UplinkHandler
from vswitch.dataplane.vpp.mesh import VxlanHandler
from vswitch.dataplane.vpp.options import VppOptions
from vswitch.dataplane.vpp.render import render_vpp
from vswitch.dataplane.vpp.routing import NeighborHandler, RouteHandler, StnRuleHandler, TableHandler
from vswitch.engine.item import Item
from vswitch.view import AgentView

if TYPE_CHECKING:
    # Only for annotations: the config module imports the dataplane options.
    from vswitch.config import AgentConfig


class VppBackend(NamedTuple):
    handlers: list
    render: Callable[[AgentView], dict[str, Item]]
    close: Callable[[], Awaitable[None]]
    connection: VppConnection


def open_connection(options: VppOptions) -> VppConnection:
    if options.client == "sync":
        return SyncVppConnection(options.api_socket, options.apidir, options.client_name, options.call_timeout)
    return AsyncVppConnection(options.api_socket, options.client_name, options.call_timeout)


def vpp_handlers(vpp: VppConnection, netns: NetnsHandles, options: VppOptions) -> list:
    """The VPP handlers, plus the Linux handlers for the pod end of each link."""
    ifindex = InterfaceIndex(vpp)
    return [
        TableHandler(vpp),
        PodInterfaceHandler(vpp, ifindex, VethHandler(netns), use_tap=options.use_tap),
        LoopbackHandler(vpp, ifindex),
        UplinkHandler(vpp, ifindex),
        VxlanHandler(vpp, ifindex),
        InterfaceStateHandler(vpp, ifindex),
        AddressHandler(vpp, ifindex),
        RouteHandler(vpp, ifindex, tables=(0, options.pod_vrf)),
        NeighborHandler(vpp, ifindex),
        StnRuleHandler(vpp, ifindex),
        LinuxAddressHandler(netns),
        LinuxRouteHandler(netns),
        LinuxNeighborHandler(netns),
    ]


async def vpp_backend(config: AgentConfig, options: VppOptions | None = None,
                      on_reconnect: Callable[[], None] | None = None,
                      netns: NetnsHandles | None = None) -> VppBackend:
    """Connect to VPP and return the handlers, the renderer and a closer.

    `options` defaults to `config.vpp` when the agent config has that section.
    `on_reconnect` is called after a lost connection is re-established: the
    agent should then resync (submit a Resync event), since VPP may have
    restarted empty. Raises VppUnavailable if VPP cannot be reached now.
    """
    options = options or getattr(config, "vpp", None) or VppOptions()
    own_netns = netns is None
    handles = netns if netns is not None else NetnsHandles()
    vpp = open_connection(options)
    await vpp.connect()
    handlers = vpp_handlers(vpp, handles, options)
    if on_reconnect is not None:
        # After the interface index has dropped its stale entries.
        vpp.listeners.append(on_reconnect)

    def render(view: AgentView) -> dict[str, Item]:
        return render_vpp(view, options)

    async def close() -> None:
        await vpp.close()
        if own_netns:
            handles.close()

    return VppBackend(handlers, render, close, vpp)
