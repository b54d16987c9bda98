"""The agent's configuration: one model, from a YAML file, the environment and flags.

Later sources win: file < environment (CONTIV_AGENT_<FIELD>, nested with
"__", e.g. CONTIV_AGENT_ADDRESSES__POD_SUBNET) < command-line flags.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kvstore import EtcdConfig
from vswitch.dataplane.vpp.options import VppOptions

ENV_PREFIX = "CONTIV_AGENT_"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the field."""


class AddressPlan(BaseModel):
    """Subnets of ARCHITECTURE.md; each node's share follows from its ID."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pod_subnet: ipaddress.IPv4Network = ipaddress.IPv4Network("10.1.0.0/16")
    pod_subnet_prefix: int = Field(default=24, ge=8, le=30)
    host_interconnect: ipaddress.IPv4Network = ipaddress.IPv4Network("172.30.0.0/16")
    host_interconnect_prefix: int = Field(default=24, ge=8, le=30)
    node_interconnect: ipaddress.IPv4Network = ipaddress.IPv4Network("192.168.16.0/24")
    vxlan_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("192.168.30.0/24")
    service_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.96.0.0/12")

    @model_validator(mode="after")
    def _fits(self) -> AddressPlan:
        if self.pod_subnet_prefix < self.pod_subnet.prefixlen:
            raise ValueError(f"pod_subnet_prefix /{self.pod_subnet_prefix} is larger than pod_subnet {self.pod_subnet}")
        if self.host_interconnect_prefix < self.host_interconnect.prefixlen:
            raise ValueError(f"host_interconnect_prefix /{self.host_interconnect_prefix} is larger than "
                             f"host_interconnect {self.host_interconnect}")
        if self.pod_subnet.overlaps(self.service_cidr):
            raise ValueError(f"pod_subnet {self.pod_subnet} overlaps service_cidr {self.service_cidr}")
        return self

    @property
    def max_node_id(self) -> int:
        pods = 2 ** (self.pod_subnet_prefix - self.pod_subnet.prefixlen) - 1
        hosts = 2 ** (self.host_interconnect_prefix - self.host_interconnect.prefixlen) - 1
        return min(pods, hosts, self.vxlan_cidr.num_addresses - 2, self.node_interconnect.num_addresses - 2)

    def _check(self, node_id: int) -> None:
        if not 1 <= node_id <= self.max_node_id:
            raise ValueError(f"node ID {node_id} is outside 1..{self.max_node_id} of this address plan")

    def pod_subnet_of(self, node_id: int) -> ipaddress.IPv4Network:
        self._check(node_id)
        size = 2 ** (32 - self.pod_subnet_prefix)
        base = int(self.pod_subnet.network_address) + node_id * size
        return ipaddress.IPv4Network((base, self.pod_subnet_prefix))

    def pod_gateway_of(self, node_id: int) -> ipaddress.IPv4Address:
        return self.pod_subnet_of(node_id).network_address + 1

    def host_interconnect_of(self, node_id: int) -> ipaddress.IPv4Network:
        """The subnet between VPP (its first address) and the node's Linux (its second)."""
        self._check(node_id)
        size = 2 ** (32 - self.host_interconnect_prefix)
        base = int(self.host_interconnect.network_address) + node_id * size
        return ipaddress.IPv4Network((base, self.host_interconnect_prefix))

    def vxlan_ip_of(self, node_id: int) -> ipaddress.IPv4Address:
        self._check(node_id)
        return self.vxlan_cidr.network_address + node_id

    def node_ip_of(self, node_id: int) -> ipaddress.IPv4Interface:
        self._check(node_id)
        return ipaddress.IPv4Interface((int(self.node_interconnect.network_address) + node_id,
                                        self.node_interconnect.prefixlen))


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    node_name: str = Field(min_length=1, max_length=253)
    etcd: EtcdConfig = EtcdConfig()
    prefix: str = "/contiv"
    dataplane: Literal["linux", "vpp"] = "linux"
    vpp: VppOptions = VppOptions()
    addresses: AddressPlan = AddressPlan()
    # This node's address on the node network (CIDR); by default the plan's
    # address for the node's ID.
    node_ip: ipaddress.IPv4Interface | None = None
    cni_socket: Path = Path("/var/run/contiv/cni.sock")
    rest_address: str = "127.0.0.1:9999"
    state_dir: Path = Path("/var/lib/contiv/agent")
    # Node-to-node connectivity: a VXLAN full mesh, or direct routes via the
    # other nodes' addresses for nodes on one L2 segment.
    node_mesh: Literal["vxlan", "nooverlay"] = "vxlan"
    # The interface that holds node_ip (the node's "NIC").
    uplink_interface: str = "eth0"
    uplink_mtu: int = Field(default=1500, ge=576, le=9216)
    vxlan_vni: int = Field(default=10, ge=1, le=16777215)
    vxlan_port: int = Field(default=4789, ge=1, le=65535)
    # Pod interfaces' MTU; by default the uplink's, less the VXLAN overhead
    # (50 bytes) when the mesh is VXLAN.
    pod_mtu_override: int | None = Field(default=None, alias="pod_mtu", ge=576, le=9000)
    healing_interval: float = Field(default=30.0, gt=0)
    # The NIC to take from Linux through STN before the dataplane starts (a
    # NodeConfig in etcd can name it too); "first" means the NIC that holds
    # the default route.
    steal_interface: str | None = None
    stn_socket: Path = Path("/var/run/contiv/stn.sock")
    # Where pod network namespaces may live; a CNI request naming any other
    # path is refused.
    netns_dirs: tuple[Path, ...] = (Path("/var/run/netns"), Path("/run/netns"), Path("/proc"))

    @model_validator(mode="after")
    def _rest_address(self) -> AgentConfig:
        host, sep, port = self.rest_address.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"rest_address {self.rest_address!r} is not host:port")
        return self

    @property
    def pod_mtu(self) -> int:
        if self.pod_mtu_override is not None:
            return self.pod_mtu_override
        return self.uplink_mtu - (50 if self.node_mesh == "vxlan" else 0)

    @property
    def rest_host(self) -> str:
        return self.rest_address.rpartition(":")[0]

    @property
    def rest_port(self) -> int:
        return int(self.rest_address.rpartition(":")[2])


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX):].lower().split("__")
        target = result
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return result


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif value is not None:
            merged[key] = value
    return merged


def load_config(file: Path | None = None, overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> AgentConfig:
    data: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = yaml.safe_load(file.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config file {file}: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {file} must hold a mapping, not {type(loaded).__name__}")
        data = loaded
    data = _merge(data, _env_overrides(os.environ if environ is None else environ))
    data = _merge(data, overrides or {})
    try:
        return AgentConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}"
                             for err in exc.errors())
        raise ConfigError(f"invalid agent configuration: {problems}") from None
