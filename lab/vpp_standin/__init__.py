"""A stand-in for VPP that speaks VPP's binary API on a unix socket.

Clients use vpp_papi unchanged; the stand-in decodes and encodes with
vpp_papi's own serializer classes from the same .api.json files VPP ships,
and keeps an in-memory model of interfaces, VRFs, routes, neighbours and
VXLAN tunnels with VPP's rules and retvals.
"""

from .config import StandinConfig
from .control import ControlClient
from .counters import CountersSnapshot
from .faults import FaultAction, FaultInjector, FaultRule
from .harness import (
    StandinProcess,
    StandinThread,
    async_wait_until,
    running_standin,
    standin_subprocess,
    wait_until,
)
from .retval import Retval
from .server import VppStandin
from .snapshot import StandinSnapshot

__all__ = [
    "ControlClient",
    "CountersSnapshot",
    "FaultAction",
    "FaultInjector",
    "FaultRule",
    "Retval",
    "StandinConfig",
    "StandinProcess",
    "StandinSnapshot",
    "StandinThread",
    "VppStandin",
    "async_wait_until",
    "running_standin",
    "standin_subprocess",
    "wait_until",
]
