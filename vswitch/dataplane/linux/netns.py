"""Netlink handles into network namespaces, opened once and reused.

pyroute2 opens a socket inside another namespace by forking a helper
process; a thread that enters the namespace with setns(2), opens the socket
and leaves again does the same in well under a millisecond, and the socket
stays bound to that namespace for its whole life.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from pathlib import Path

from pyroute2 import AsyncIPRoute

CLONE_NEWNET = 0x40000000
HOST = ""  # the agent's own namespace

_libc = ctypes.CDLL(None, use_errno=True)


class NetnsGone(Exception):
    """The namespace no longer exists (its pod is gone)."""


def _netlink_socket_in(netns_path: str) -> int:
    result: dict[str, int | BaseException] = {}

    def enter_and_open() -> None:
        try:
            own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        except OSError as exc:
            result["error"] = exc
            return
        try:
            target = os.open(netns_path, os.O_RDONLY)
        except OSError as exc:
            os.close(own)
            result["error"] = NetnsGone(f"network namespace {netns_path}: {exc.strerror}")
            return
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                result["error"] = NetnsGone(f"cannot enter {netns_path}: {os.strerror(err)}")
                return
            try:
                result["fd"] = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0).detach()
            finally:
                if _libc.setns(own, CLONE_NEWNET) != 0:
                    # This thread is stuck in the pod's namespace; it ends here
                    # and never runs anything else, so that is harmless.
                    pass
        finally:
            os.close(own)
            os.close(target)

    thread = threading.Thread(target=enter_and_open, name="netns-open")
    thread.start()
    thread.join()
    error = result.get("error")
    if isinstance(error, BaseException):
        raise error
    return int(result["fd"])  # type: ignore[arg-type]


def is_netns(path: str) -> bool:
    """True if `path` is a network namespace (a bind mount of nsfs, or a
    /proc/<pid>/ns/net link)."""
    try:
        # Every namespace file lives on the one nsfs device; Python's statvfs
        # has no f_type to check NSFS_MAGIC directly.
        return os.stat(path).st_dev == os.stat("/proc/self/ns/net").st_dev
    except OSError:
        return False


class NetnsHandles:
    """One AsyncIPRoute per namespace, keyed by path; HOST is the agent's own."""

    def __init__(self) -> None:
        self._handles: dict[str, tuple[AsyncIPRoute, int]] = {}

    async def get(self, netns: str) -> AsyncIPRoute:
        inode = 0 if netns == HOST else _inode(netns)
        cached = self._handles.get(netns)
        if cached is not None:
            handle, cached_inode = cached
            if cached_inode == inode:
                return handle
            # Same path, new namespace (a pod sandbox recreated): reopen.
            handle.close()
        if netns == HOST:
            handle = AsyncIPRoute()
        else:
            handle = AsyncIPRoute(fileno=_netlink_socket_in(netns))
        await handle.setup_endpoint()
        self._handles[netns] = (handle, inode)
        return handle

    def forget(self, netns: str) -> None:
        cached = self._handles.pop(netns, None)
        if cached is not None:
            cached[0].close()

    def close(self) -> None:
        for handle, _ in self._handles.values():
            handle.close()
        self._handles.clear()


def _inode(path: str) -> int:
    try:
        return os.stat(path).st_ino
    except OSError as exc:
        raise NetnsGone(f"network namespace {path}: {exc.strerror}") from None


def netns_exists(path: str) -> bool:
    return Path(path).exists() and is_netns(path)
