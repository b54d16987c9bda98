"""The agent's CNIReply (a decoded dict, see cni.wire) as a CNI ADD result.

Shapes per spec version:
- 0.3.x/0.4.0: interfaces {name, mac, sandbox}; ips carry "version" ("4"/"6").
- 1.0.0: ips lose "version".
- 1.1.0: interfaces and routes may carry "mtu".
A chained invocation (prevResult present) outputs the previous result's
entries first, then this plugin's, with this plugin's ip "interface" indexes
shifted past the previous interfaces.
"""

from __future__ import annotations

from typing import Any

Result = dict[str, Any]


def _legacy(version: str) -> bool:
    return version.startswith("0.")


def _ip_version(address: str) -> str:
    return "6" if ":" in address else "4"


def _interface(reply_iface: dict[str, Any], version: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": reply_iface["name"]}
    if reply_iface["mac"]:
        out["mac"] = reply_iface["mac"]
    if reply_iface["sandbox"]:
        out["sandbox"] = reply_iface["sandbox"]
    if reply_iface["mtu"] and version == "1.1.0":
        out["mtu"] = reply_iface["mtu"]
    return out


def _ip(reply_ip: dict[str, Any], version: str, index_offset: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if _legacy(version):
        out["version"] = _ip_version(reply_ip["address"])
    out["address"] = reply_ip["address"]
    if reply_ip["gateway"]:
        out["gateway"] = reply_ip["gateway"]
    if reply_ip["interface"] >= 0:
        out["interface"] = reply_ip["interface"] + index_offset
    return out


def _route(reply_route: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"dst": reply_route["dst"]}
    if reply_route["gw"]:
        out["gw"] = reply_route["gw"]
    return out


def _dns(reply_dns: dict[str, Any] | None) -> dict[str, Any]:
    if not reply_dns:
        return {}
    return {key: reply_dns[key] for key in ("nameservers", "domain", "search", "options") if reply_dns[key]}


def _prev_ip(entry: dict[str, Any], version: str) -> dict[str, Any]:
    """A prevResult ip in the output version's shape, otherwise untouched."""
    out = dict(entry)
    if _legacy(version):
        if "version" not in out and isinstance(out.get("address"), str):
            out = {"version": _ip_version(out["address"]), **out}
    else:
        out.pop("version", None)
    return out


def _merge_lists(first: list[str], second: list[str]) -> list[str]:
    return first + [item for item in second if item not in first]


def _merge_dns(prev: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    merged = dict(prev)
    for key in ("nameservers", "search", "options"):
        combined = _merge_lists(list(prev.get(key) or []), list(ours.get(key) or []))
        if combined:
            merged[key] = combined
    if not merged.get("domain") and ours.get("domain"):
        merged["domain"] = ours["domain"]
    return merged


def add_result(reply: dict[str, Any], version: str, prev: dict[str, Any] | None) -> Result:
    prev = prev or {}
    prev_interfaces = [dict(entry) for entry in prev.get("interfaces") or []]
    offset = len(prev_interfaces)
    return {
        "cniVersion": version,
        "interfaces": prev_interfaces + [_interface(i, version) for i in reply["interfaces"]],
        "ips": [_prev_ip(entry, version) for entry in prev.get("ips") or []]
        + [_ip(ip, version, offset) for ip in reply["ips"]],
        "routes": [dict(entry) for entry in prev.get("routes") or []] + [_route(r) for r in reply["routes"]],
        "dns": _merge_dns(prev.get("dns") or {}, _dns(reply["dns"])),
    }
