"""The Linux kernel dataplane: netlink for links, addresses, routes and neighbours."""

from vswitch.dataplane.linux.handlers import linux_handlers
from vswitch.dataplane.linux.netns import NetnsHandles

__all__ = ["NetnsHandles", "linux_handlers"]
