"""The Linux side of STN: read, strip and restore one link's configuration.

All calls go through one AsyncIPRoute opened in the daemon's network namespace
(or its own) and one ethtool socket opened in the same namespace; both stay
open for the life of the daemon, so no namespace switch happens per request.
Every step is idempotent: removing what is already gone and adding what
already exists are not errors, which is what makes a repeated restore (after
a crash in the middle of one) safe.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Iterable
from typing import Any

from pyroute2 import AsyncIPRoute
from pyroute2 import netns as pr_netns
from pyroute2.netlink.exceptions import NetlinkError

from stn.ethtool import driver_info
from stn.models import FOREVER, Family, LinkInfo, SavedAddress, SavedRoute, StolenInterface

log = logging.getLogger(__name__)

_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_RTM_F_CLONED = 0x200
_RTNH_F_ONLINK = 0x4
_FAMILIES = {socket.AF_INET: Family.INET, socket.AF_INET6: Family.INET6}
_AF = {Family.INET: socket.AF_INET, Family.INET6: socket.AF_INET6}
# IFA_F_* flags a caller may set; the others (permanent, tentative, dadfailed,
# deprecated, ...) are kernel state.
_IFA_SETTABLE = 0x02 | 0x10 | 0x100 | 0x200 | 0x400 | 0x800  # nodad homeaddress mngtmpaddr noprefixroute mcautojoin stable-privacy
# Gone already: no such route/address.
_GONE = (errno.ESRCH, errno.ENOENT, errno.EADDRNOTAVAIL)
# A gateway route whose on-link route is not back yet.
_NOT_YET = (errno.ENETUNREACH, errno.EHOSTUNREACH)


class LinkNotFound(LookupError):
    """No link of that name in the namespace."""


class RestoreIncomplete(RuntimeError):
    """Some routes could not be put back; the message names them."""


def _attrs(msg: Any) -> dict[str, Any]:
    return {name: value for name, value, *_ in (tuple(a) for a in msg["attrs"])}


class NetlinkHost:
    """The links of one network namespace."""

    def __init__(self, netns: str | None) -> None:
        self.netns = netns
        self._ipr: AsyncIPRoute | None = None
        self._ethtool: socket.socket | None = None

    async def open(self) -> None:
        # flags=0: a missing namespace is an error, never silently created.
        self._ipr = AsyncIPRoute(netns=self.netns, flags=0)
        # Fails now, not on the first request, if the namespace is unusable.
        [link async for link in await self._ipr.link("dump")]
        if self.netns is None:
            self._ethtool = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        else:
            self._ethtool = pr_netns.create_socket(self.netns, socket.AF_INET, socket.SOCK_DGRAM, flags=0)

    def close(self) -> None:
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None
        if self._ethtool is not None:
            self._ethtool.close()
            self._ethtool = None

    @property
    def ipr(self) -> AsyncIPRoute:
        if self._ipr is None:
            raise RuntimeError("netlink is not open")
        return self._ipr

    async def link_index(self, name: str) -> int:
        indexes = await self.ipr.link_lookup(ifname=name)
        if not indexes:
            raise LinkNotFound(name)
        return int(indexes[0])

    async def _link_msg(self, name: str) -> Any:
        try:
            return (await self.ipr.link("get", index=await self.link_index(name)))[0]
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                raise LinkNotFound(name) from None
            raise

    # ---- capture -------------------------------------------------------

    async def capture_link(self, name: str) -> tuple[LinkInfo, bool]:
        """The link's properties, and whether it is a loopback."""
        msg = await self._link_msg(name)
        attrs = _attrs(msg)
        drv = driver_info(self._ethtool, name) if self._ethtool is not None else None
        link = LinkInfo(
            name=name,
            index=msg["index"],
            mac_address=attrs.get("IFLA_ADDRESS") or "",
            mtu=attrs.get("IFLA_MTU", 0),
            admin_up=bool(msg["flags"] & _IFF_UP),
            oper_state=attrs.get("IFLA_OPERSTATE", ""),
            pci_address=drv.pci_address if drv else None,
            driver=drv.driver if drv else None,
        )
        return link, bool(msg["flags"] & _IFF_LOOPBACK)

    async def capture_addresses(self, index: int) -> list[SavedAddress]:
        saved = []
        async for msg in await self.ipr.addr("dump", index=index):
            if msg["index"] != index or msg["family"] not in _FAMILIES:
                continue
            attrs = _attrs(msg)
            local = attrs.get("IFA_LOCAL")
            address = attrs.get("IFA_ADDRESS")
            cache = attrs.get("IFA_CACHEINFO") or {}
            saved.append(
                SavedAddress(
                    family=_FAMILIES[msg["family"]],
                    # IPv4 reports the own address as IFA_LOCAL and a peer as
                    # IFA_ADDRESS; IPv6 reports the own one as IFA_ADDRESS.
                    address=local or address,
                    prefix_len=msg["prefixlen"],
                    peer=address if local and address and address != local else None,
                    broadcast=attrs.get("IFA_BROADCAST"),
                    label=attrs.get("IFA_LABEL"),
                    scope=msg["scope"],
                    flags=attrs.get("IFA_FLAGS", msg["flags"]),
                    valid_lifetime=cache.get("ifa_valid", FOREVER),
                    preferred_lifetime=cache.get("ifa_preferred", FOREVER),
                    protocol=attrs.get("IFA_PROTO", 0),
                )
            )
        return saved

    async def capture_routes(self, index: int) -> list[SavedRoute]:
        saved = []
        async for msg in await self.ipr.route("dump", family=socket.AF_UNSPEC):
            if msg["family"] not in _FAMILIES or msg["flags"] & _RTM_F_CLONED:
                continue
            attrs = _attrs(msg)
            if "RTA_MULTIPATH" in attrs:
                if any(hop.get("oif") == index for hop in attrs["RTA_MULTIPATH"]):
                    log.warning("multipath route to %s/%s uses the link; multipath routes are left alone",
                                attrs.get("RTA_DST", "default"), msg["dst_len"])
                continue
            if attrs.get("RTA_OIF") != index:
                continue
            metrics = attrs.get("RTA_METRICS")
            saved.append(
                SavedRoute(
                    family=_FAMILIES[msg["family"]],
                    destination=attrs.get("RTA_DST"),
                    dst_len=msg["dst_len"],
                    gateway=attrs.get("RTA_GATEWAY"),
                    metric=attrs.get("RTA_PRIORITY"),
                    scope=msg["scope"],
                    table=attrs.get("RTA_TABLE", msg["table"]),
                    protocol=msg["proto"],
                    type=msg["type"],
                    preferred_source=attrs.get("RTA_PREFSRC"),
                    source=attrs.get("RTA_SRC"),
                    src_len=msg["src_len"],
                    tos=msg["tos"],
                    flags=msg["flags"],
                    metrics={
                        name.removeprefix("RTAX_").lower(): value
                        for name, value in _attrs(metrics).items()
                        if isinstance(value, int)  # RTAX_CC_ALGO is a name; not restored
                    } if metrics is not None else {},
                    ipv6_preference=attrs.get("RTA_PREF", 0) or 0,
                )
            )
        return saved

    # ---- strip ---------------------------------------------------------

    async def remove_routes(self, index: int, routes: Iterable[SavedRoute]) -> None:
        for route in routes:
            await self._ignore(_GONE, self.ipr.route("del", **self._route_spec(route, index)))

    async def remove_addresses(self, index: int, addresses: Iterable[SavedAddress]) -> None:
        for addr in addresses:
            spec: dict[str, Any] = {"index": index, "family": _AF[addr.family],
                                    "address": addr.address, "prefixlen": addr.prefix_len}
            if addr.peer is not None:
                spec["local"], spec["address"] = addr.address, addr.peer
            await self._ignore(_GONE, self.ipr.addr("del", **spec))

    async def remaining(self, index: int) -> tuple[list[SavedAddress], list[SavedRoute]]:
        return await self.capture_addresses(index), await self.capture_routes(index)

    # ---- restore -------------------------------------------------------

    async def restore_link(self, link: LinkInfo) -> int:
        """MAC, MTU and admin state as saved; returns the link's current index."""
        msg = await self._link_msg(link.name)
        index = msg["index"]
        attrs = _attrs(msg)
        if link.mac_address and attrs.get("IFLA_ADDRESS") != link.mac_address:
            try:
                await self.ipr.link("set", index=index, address=link.mac_address)
            except NetlinkError as exc:
                if exc.code != errno.EBUSY:
                    raise
                # Drivers without live MAC change need the link down first.
                await self.ipr.link("set", index=index, state="down")
                await self.ipr.link("set", index=index, address=link.mac_address)
        if link.mtu and attrs.get("IFLA_MTU") != link.mtu:
            await self.ipr.link("set", index=index, mtu=link.mtu)
        current = (await self.ipr.link("get", index=index))[0]
        if link.admin_up and not current["flags"] & _IFF_UP:
            await self.ipr.link("set", index=index, state="up")
        elif not link.admin_up and current["flags"] & _IFF_UP:
            await self.ipr.link("set", index=index, state="down")
        return index

    async def restore_addresses(self, index: int, addresses: Iterable[SavedAddress], keep_forever: bool) -> None:
        """Adds the saved addresses back with their flags, scope, label and lifetimes.

        keep_forever: how much of a DHCP lease is left is unknown at restore
        time and the DHCP client that held it may be gone; an address that
        expires would cut the node off again, so a DHCP interface gets its
        addresses back as permanent until its DHCP client renews them.
        """
        for addr in addresses:
            spec: dict[str, Any] = {
                "index": index,
                "family": _AF[addr.family],
                "address": addr.address,
                "prefixlen": addr.prefix_len,
                "scope": addr.scope,
            }
            if addr.peer is not None:
                spec["local"], spec["address"] = addr.address, addr.peer
            if addr.broadcast is not None:
                spec["broadcast"] = addr.broadcast
            if addr.label is not None:
                spec["label"] = addr.label
            if addr.flags & _IFA_SETTABLE:
                spec["IFA_FLAGS"] = addr.flags & _IFA_SETTABLE
            if addr.protocol:
                spec["proto"] = addr.protocol
            finite = addr.valid_lifetime != FOREVER or addr.preferred_lifetime != FOREVER
            if finite and not keep_forever:
                spec["valid_lft"] = addr.valid_lifetime
                spec["preferred_lft"] = min(addr.preferred_lifetime, addr.valid_lifetime)
            await self._ignore((errno.EEXIST,), self.ipr.addr("add", **spec))

    async def restore_routes(self, index: int, routes: Iterable[SavedRoute]) -> None:
        """Adds every saved route; a gateway route waits for its on-link route.

        Passes repeat while they make progress, so the order of the saved list
        never matters. Address-derived kernel routes are the kernel's to add.
        """
        pending = [r for r in routes if not r.derived_from_address]
        errors: list[tuple[SavedRoute, NetlinkError]] = []
        while pending:
            retry: list[tuple[SavedRoute, NetlinkError]] = []
            for route in pending:
                try:
                    await self.ipr.route("add", **self._route_spec(route, index))
                except NetlinkError as exc:
                    if exc.code == errno.EEXIST:
                        continue
                    (retry if exc.code in _NOT_YET else errors).append((route, exc))
            if len(retry) == len(pending):
                errors.extend(retry)
                break
            pending = [route for route, _ in retry]
        if errors:
            raise RestoreIncomplete(
                "could not restore routes: "
                + ", ".join(f"{r.prefix} table {r.table} ({os.strerror(e.code)})" for r, e in errors)
            )

    # ---- helpers -------------------------------------------------------

    @staticmethod
    def _route_spec(route: SavedRoute, index: int) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "family": _AF[route.family],
            "dst_len": route.dst_len,
            "oif": index,
            "table": route.table,
            "proto": route.protocol,
            "scope": route.scope,
            "type": route.type,
            "tos": route.tos,
        }
        if route.destination is not None:
            spec["dst"] = route.destination
        if route.gateway is not None:
            spec["gateway"] = route.gateway
        if route.metric is not None:
            spec["priority"] = route.metric
        if route.preferred_source is not None:
            spec["prefsrc"] = route.preferred_source
        if route.source is not None:
            spec["src"] = route.source
            spec["src_len"] = route.src_len
        if route.flags & _RTNH_F_ONLINK:
            spec["flags"] = _RTNH_F_ONLINK
        if route.metrics:
            spec["metrics"] = {f"RTAX_{name.upper()}": value for name, value in route.metrics.items()}
        if route.ipv6_preference:
            spec["pref"] = route.ipv6_preference
        return spec

    @staticmethod
    async def _ignore(codes: tuple[int, ...], call: Any) -> None:
        try:
            await call
        except NetlinkError as exc:
            if exc.code not in codes:
                raise


def describe(record: StolenInterface) -> str:
    """One line for logs."""
    return (f"{record.interface_name} ({len(record.addresses)} addresses, {len(record.routes)} routes, "
            f"{len(record.default_routes)} default)")
