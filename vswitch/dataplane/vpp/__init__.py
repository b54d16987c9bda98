"""The VPP dataplane: vpp-papi over VPP's API socket."""

from vswitch.dataplane.vpp.backend import VppBackend, vpp_backend, vpp_handlers
from vswitch.dataplane.vpp.connection import AsyncVppConnection, SyncVppConnection, VppApiError, VppUnavailable
from vswitch.dataplane.vpp.options import VppOptions
from vswitch.dataplane.vpp.render import render_vpp

__all__ = ["AsyncVppConnection", "SyncVppConnection", "VppApiError", "VppBackend", "VppOptions", "VppUnavailable",
           "render_vpp", "vpp_backend", "vpp_handlers"]
