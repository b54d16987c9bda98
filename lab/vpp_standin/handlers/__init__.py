"""Message handlers; importing the package registers all of them."""

from . import af_packet, cli_inband, interfaces, ip, memclnt, neighbor, stn, tap, vxlan
from .base import HANDLERS, HandlerContext, Reply, handles

__all__ = [
    "HANDLERS",
    "HandlerContext",
    "Reply",
    "handles",
    "af_packet",
    "cli_inband",
    "interfaces",
    "ip",
    "memclnt",
    "neighbor",
    "stn",
    "tap",
    "vxlan",
]
