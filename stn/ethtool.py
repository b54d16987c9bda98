"""Kernel driver and bus address of a link, by the ETHTOOL_GDRVINFO ioctl.

The ioctl runs on a socket opened inside the daemon's network namespace, so it
answers for links of that namespace; /sys/class/net would show the links of
the namespace sysfs was mounted in instead.
"""

from __future__ import annotations

import array
import errno
import fcntl
import re
import socket
import struct

from pydantic import BaseModel, ConfigDict

from stn.models import validate_interface_name

_SIOCETHTOOL = 0x8946
_ETHTOOL_GDRVINFO = 0x00000003
# struct ethtool_drvinfo: cmd, driver[32], version[32], fw_version[32],
# bus_info[32], erom_version[32], reserved2[12], then five u32 counters.
_DRVINFO_SIZE = 196
_DRIVER = slice(4, 36)
_BUS_INFO = slice(100, 132)
_PCI_ADDRESS = re.compile(r"^[0-9a-fA-F]{4,}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")


class DriverInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    driver: str | None = None
    pci_address: str | None = None


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def driver_info(sock: socket.socket, interface_name: str) -> DriverInfo:
    """Driver and PCI address; empty when the link has none (veth has no bus).

    Raises OSError when the kernel refuses the ioctl for other reasons than
    "not supported".
    """
    name = validate_interface_name(interface_name).encode()
    buf = array.array("B", struct.pack("I", _ETHTOOL_GDRVINFO) + bytes(_DRVINFO_SIZE - 4))
    address, _ = buf.buffer_info()
    ifreq = struct.pack("16sP", name, address)
    try:
        fcntl.ioctl(sock.fileno(), _SIOCETHTOOL, ifreq)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL):  # a link without ethtool support
            return DriverInfo()
        raise
    raw = buf.tobytes()
    driver = _cstr(raw[_DRIVER]) or None
    bus = _cstr(raw[_BUS_INFO])
    return DriverInfo(driver=driver, pci_address=bus if _PCI_ADDRESS.match(bus) else None)
