"""Handlers that apply Linux items through netlink (pyroute2) and /proc/sys."""

from __future__ import annotations

import errno
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.exceptions import NetlinkError

from vswitch.dataplane.linux.items import ROUTE_PROTO, Address, Fdb, Neighbor, Route, Sysctl, Veth, Vxlan
from vswitch.dataplane.linux.netns import HOST, NetnsGone, NetnsHandles
from vswitch.engine.item import Item

NUD_PERMANENT = 0x80
NTF_SELF = 0x02
RT_SCOPE = {"universe": 0, "link": 253}
RT_SCOPE_NAME = {v: k for k, v in RT_SCOPE.items()}
RTNH_F_ONLINK = 4
MAIN_TABLE = 254
# Host ends of pod veths are named with this prefix, so a dump finds the
# agent's own links, including those whose pod is forgotten.
VETH_PREFIX = "cv"
VXLAN_IFNAME = "vxlan-contiv"

I = TypeVar("I", bound=Item)
_GONE = {errno.ENOENT, errno.ENODEV, errno.ESRCH, errno.EADDRNOTAVAIL, errno.ENXIO}


def _gone(exc: NetlinkError) -> bool:
    return exc.code in _GONE


async def _ifindex(ipr: AsyncIPRoute, ifname: str) -> int:
    found = await ipr.link_lookup(ifname=ifname)
    if not found:
        raise LookupError(f"no interface {ifname}")
    return found[0]


async def _link_names(ipr: AsyncIPRoute) -> dict[int, str]:
    return {link["index"]: link.get("ifname") async for link in await ipr.link("dump")}


async def _delete_link(ipr: AsyncIPRoute, ifname: str) -> None:
    """Delete a link by name; a link already gone is fine."""
    try:
        await ipr.link("del", index=await _ifindex(ipr, ifname))
    except LookupError:
        pass
    except NetlinkError as exc:
        if not _gone(exc):
            raise


async def _add_link(ipr: AsyncIPRoute, spec: dict[str, object]) -> None:
    """Add a link and bring it up. One left over from an interrupted attempt
    (EEXIST) is replaced, since its settings are unknown."""
    try:
        await ipr.link("add", **spec)
    except NetlinkError as exc:
        if exc.code != errno.EEXIST:
            raise
        await _delete_link(ipr, str(spec["ifname"]))
        await ipr.link("add", **spec)
    await ipr.link("set", index=await _ifindex(ipr, str(spec["ifname"])), state="up")


def _by_netns(items: Iterable[I], attr: str = "netns") -> dict[str, list[I]]:
    grouped: dict[str, list[I]] = defaultdict(list)
    for item in items:
        grouped[getattr(item, attr)].append(item)
    return grouped


class SysctlHandler:
    kind = Sysctl.kind

    async def create(self, item: Sysctl) -> None:
        Path("/proc/sys", item.name).write_text(item.value + "\n")

    async def update(self, old: Sysctl, new: Sysctl) -> None:
        await self.create(new)

    async def delete(self, item: Sysctl) -> None:
        # A sysctl is a setting, not an object: leaving it as it is keeps the
        # node's forwarding working for whatever else relies on it.
        return None

    async def dump(self, desired: Iterable[Sysctl]) -> list[Sysctl]:
        found = []
        for item in desired:
            try:
                found.append(Sysctl(name=item.name, value=Path("/proc/sys", item.name).read_text().strip()))
            except OSError:
                continue
        return found


class VethHandler:
    kind = Veth.kind

    def __init__(self, netns: NetnsHandles) -> None:
        self.netns = netns

    async def create(self, item: Veth) -> None:
        host = await self.netns.get(HOST)
        pod = await self.netns.get(item.pod_netns)
        peer: dict[str, object] = {"ifname": item.pod_ifname, "address": item.pod_mac, "mtu": item.mtu}
        # A veth with both ends on the node (VPP's host interconnect) stays put.
        fd = os.open(item.pod_netns, os.O_RDONLY) if item.pod_netns != HOST else None
        try:
            if fd is not None:
                peer["net_ns_fd"] = fd
            await _add_link(host, dict(ifname=item.host_ifname, kind="veth", address=item.host_mac, mtu=item.mtu,
                                       peer=peer))
        finally:
            if fd is not None:
                os.close(fd)
        await pod.link("set", index=await _ifindex(pod, item.pod_ifname), state="up")

    async def delete(self, item: Veth) -> None:
        await _delete_link(await self.netns.get(HOST), item.host_ifname)
        if item.pod_netns:
            self.netns.forget(item.pod_netns)

    async def dump(self, desired: Iterable[Veth]) -> list[Veth]:
        wanted = {item.host_ifname: item for item in desired}
        host = await self.netns.get(HOST)
        found = []
        async for link in await host.link("dump"):
            name = link.get("ifname") or ""
            info = link.get(("IFLA_LINKINFO", "IFLA_INFO_KIND"))
            if not name.startswith(VETH_PREFIX) or info != "veth":
                continue
            host_mac, mtu = link.get("IFLA_ADDRESS"), link.get("IFLA_MTU")
            want = wanted.get(name)
            peer = await self._peer(want, link["index"]) if want else None
            if want is None or peer is None:
                found.append(Veth(host_ifname=name, host_mac=host_mac, pod_netns="", pod_ifname="",
                                  pod_mac="", mtu=mtu))
                continue
            found.append(Veth(host_ifname=name, host_mac=host_mac, pod_netns=want.pod_netns,
                              pod_ifname=want.pod_ifname, pod_mac=peer[0], mtu=min(mtu, peer[1])))
        return found

    async def _peer(self, want: Veth, host_index: int) -> tuple[str, int] | None:
        """The pod end's MAC and MTU, if the pod end is where it should be and
        is this very veth's peer."""
        try:
            pod = await self.netns.get(want.pod_netns)
            index = await _ifindex(pod, want.pod_ifname)
            async for link in await pod.link("dump"):
                if link["index"] == index and link.get("IFLA_LINK") == host_index:
                    return link.get("IFLA_ADDRESS"), link.get("IFLA_MTU")
        except LookupError:
            return None
        except (NetnsGone, NetlinkError):
            return None
        return None


class AddressHandler:
    kind = Address.kind

    def __init__(self, netns: NetnsHandles) -> None:
        self.netns = netns

    async def create(self, item: Address) -> None:
        ipr = await self.netns.get(item.netns)
        address, prefixlen = item.cidr.split("/")
        try:
            await ipr.addr("add", index=await _ifindex(ipr, item.ifname), address=address, prefixlen=int(prefixlen))
        except NetlinkError as exc:
            if exc.code != errno.EEXIST:
                raise

    async def delete(self, item: Address) -> None:
        try:
            ipr = await self.netns.get(item.netns)
            address, prefixlen = item.cidr.split("/")
            await ipr.addr("del", index=await _ifindex(ipr, item.ifname), address=address, prefixlen=int(prefixlen))
        except (NetnsGone, LookupError):
            pass
        except NetlinkError as exc:
            if not _gone(exc):
                raise

    async def dump(self, desired: Iterable[Address]) -> list[Address]:
        found = []
        for netns, items in _by_netns(desired).items():
            try:
                ipr = await self.netns.get(netns)
                names = await _link_names(ipr)
                present = {(names.get(a["index"]), f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}")
                           async for a in await ipr.addr("dump")}
            except NetnsGone:
                continue
            found.extend(item for item in items if (item.ifname, item.cidr) in present)
        return found


class RouteHandler:
    kind = Route.kind

    def __init__(self, netns: NetnsHandles) -> None:
        self.netns = netns

    async def create(self, item: Route) -> None:
        ipr = await self.netns.get(item.netns)
        spec: dict[str, object] = dict(dst=item.dst, oif=await _ifindex(ipr, item.ifname), table=MAIN_TABLE,
                                       proto=ROUTE_PROTO, scope=RT_SCOPE[item.scope])
        if item.gateway:
            spec["gateway"] = item.gateway
        if item.onlink:
            spec["flags"] = RTNH_F_ONLINK
        if item.src:
            spec["prefsrc"] = item.src
        if item.metric:
            spec["priority"] = item.metric
        await ipr.route("replace", **spec)

    async def update(self, old: Route, new: Route) -> None:
        if old.metric != new.metric:
            # The metric is part of a route's identity: replace would add a second one.
            await self.delete(old)
        await self.create(new)

    async def delete(self, item: Route) -> None:
        try:
            ipr = await self.netns.get(item.netns)
            await ipr.route("del", dst=item.dst, table=MAIN_TABLE, proto=ROUTE_PROTO, priority=item.metric)
        except NetnsGone:
            pass
        except NetlinkError as exc:
            if not _gone(exc):
                raise

    async def dump(self, desired: Iterable[Route]) -> list[Route]:
        grouped = _by_netns(desired)
        grouped.setdefault(HOST, [])
        found = []
        for netns, items in grouped.items():
            wanted = {item.key(): item for item in items}
            try:
                ipr = await self.netns.get(netns)
                names = await _link_names(ipr)
                routes = [r async for r in await ipr.route("dump", table=MAIN_TABLE)]
            except NetnsGone:
                continue
            for r in routes:
                if r.get("proto") != ROUTE_PROTO:
                    continue
                dst = r.get("RTA_DST") or "0.0.0.0"
                route = Route(netns=netns, dst=f"{dst}/{r['dst_len']}", ifname=names.get(r.get("RTA_OIF"), ""),
                              gateway=r.get("RTA_GATEWAY") or "", scope=RT_SCOPE_NAME.get(r["scope"], "universe"),
                              onlink=bool(r["flags"] & RTNH_F_ONLINK), src=r.get("RTA_PREFSRC") or "",
                              metric=r.get("RTA_PRIORITY") or 0, link_key="")
                want = wanted.get(route.key())
                if want is not None:
                    # Dependencies are the renderer's, not the kernel's: adopt them.
                    route = route.model_copy(update={"link_key": want.link_key, "after": want.after})
                found.append(route)
        return found


class NeighborHandler:
    kind = Neighbor.kind

    def __init__(self, netns: NetnsHandles) -> None:
        self.netns = netns

    async def create(self, item: Neighbor) -> None:
        ipr = await self.netns.get(item.netns)
        await ipr.neigh("replace", dst=item.ip, lladdr=item.mac, ifindex=await _ifindex(ipr, item.ifname),
                        state=NUD_PERMANENT)

    async def update(self, old: Neighbor, new: Neighbor) -> None:
        await self.create(new)

    async def delete(self, item: Neighbor) -> None:
        try:
            ipr = await self.netns.get(item.netns)
            await ipr.neigh("del", dst=item.ip, ifindex=await _ifindex(ipr, item.ifname))
        except (NetnsGone, LookupError):
            pass
        except NetlinkError as exc:
            if not _gone(exc):
                raise

    async def dump(self, desired: Iterable[Neighbor]) -> list[Neighbor]:
        grouped = _by_netns(desired)
        grouped.setdefault(HOST, [])
        found = []
        for netns, items in grouped.items():
            try:
                ipr = await self.netns.get(netns)
                names = await _link_names(ipr)
                present = {(names.get(n["ifindex"]), n.get("NDA_DST")): n.get("NDA_LLADDR")
                           async for n in await ipr.neigh("dump") if n["state"] & NUD_PERMANENT}
            except NetnsGone:
                continue
            for item in items:
                mac = present.pop((item.ifname, item.ip), None)
                if mac is not None:
                    found.append(item.model_copy(update={"mac": mac}))
            if netns == HOST:
                # Entries on the mesh device are all ours: report the stale ones too.
                found.extend(Neighbor(netns=HOST, ifname=ifname, ip=ip, mac=mac, link_key="")
                             for (ifname, ip), mac in present.items() if ifname == VXLAN_IFNAME and ip)
        return found


class VxlanHandler:
    kind = Vxlan.kind

    def __init__(self, netns: NetnsHandles) -> None:
        self.netns = netns

    async def create(self, item: Vxlan) -> None:
        await _add_link(await self.netns.get(HOST), dict(
            ifname=item.ifname, kind="vxlan", vxlan_id=item.vni, vxlan_local=item.local_ip, vxlan_port=item.port,
            vxlan_learning=0, address=item.mac, mtu=item.mtu))

    async def delete(self, item: Vxlan) -> None:
        await _delete_link(await self.netns.get(HOST), item.ifname)

    async def dump(self, desired: Iterable[Vxlan]) -> list[Vxlan]:
        host = await self.netns.get(HOST)
        found = []
        async for link in await host.link("dump"):
            if link.get("ifname") != VXLAN_IFNAME or link.get(("IFLA_LINKINFO", "IFLA_INFO_KIND")) != "vxlan":
                continue
            data = link.get(("IFLA_LINKINFO", "IFLA_INFO_DATA"))
            found.append(Vxlan(ifname=VXLAN_IFNAME, vni=data.get("IFLA_VXLAN_ID"),
                               local_ip=data.get("IFLA_VXLAN_LOCAL") or "", port=data.get("IFLA_VXLAN_PORT"),
                               mac=link.get("IFLA_ADDRESS"), mtu=link.get("IFLA_MTU")))
        return found


class FdbHandler:
    kind = Fdb.kind

    def __init__(self, netns: NetnsHandles) -> None:
        self.netns = netns

    async def create(self, item: Fdb) -> None:
        host = await self.netns.get(HOST)
        # NTF_SELF: the entry belongs to the VXLAN device itself, not to a
        # bridge it is a port of; the kernel refuses a replace without it.
        await host.fdb("replace", ifindex=await _ifindex(host, item.ifname), lladdr=item.mac, dst=item.dst,
                       state=NUD_PERMANENT, flags=NTF_SELF)

    async def update(self, old: Fdb, new: Fdb) -> None:
        await self.create(new)

    async def delete(self, item: Fdb) -> None:
        host = await self.netns.get(HOST)
        try:
            await host.fdb("del", ifindex=await _ifindex(host, item.ifname), lladdr=item.mac, dst=item.dst,
                           flags=NTF_SELF)
        except LookupError:
            pass
        except NetlinkError as exc:
            if not _gone(exc):
                raise

    async def dump(self, desired: Iterable[Fdb]) -> list[Fdb]:
        wanted = {item.key(): item for item in desired}
        host = await self.netns.get(HOST)
        try:
            index = await _ifindex(host, VXLAN_IFNAME)
        except LookupError:
            return []
        found = []
        async for entry in await host.fdb("dump", ifindex=index):
            dst, mac = entry.get("NDA_DST"), entry.get("NDA_LLADDR")
            if entry.get("ifindex") != index or not dst or not entry["state"] & NUD_PERMANENT:
                continue
            item = Fdb(ifname=VXLAN_IFNAME, mac=mac, dst=dst, link_key="")
            want = wanted.get(item.key())
            found.append(item.model_copy(update={"link_key": want.link_key}) if want else item)
        return found


def linux_handlers(netns: NetnsHandles) -> list:
    return [SysctlHandler(), VethHandler(netns), AddressHandler(netns), RouteHandler(netns), NeighborHandler(netns),
            VxlanHandler(netns), FdbHandler(netns)]
