"""What node agents publish about themselves and their pods."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from model.base import StoredModel


class NodeRecord(StoredModel):
    """A node's ID claim (key `nodes/<id>`) and the addresses others need to reach it."""

    id: int = Field(ge=1)
    name: str = Field(min_length=1)
    # The node's address on the node interconnect, with prefix length.
    node_ip: str = ""
    # The address other nodes send VXLAN to, without prefix length.
    vxlan_ip: str = ""
    management_ips: tuple[str, ...] = ()

    @field_validator("node_ip")
    @classmethod
    def _interface_or_empty(cls, value: str) -> str:
        if value:
            ipaddress.ip_interface(value)
        return value

    @field_validator("vxlan_ip")
    @classmethod
    def _address_or_empty(cls, value: str) -> str:
        if value:
            ipaddress.ip_address(value)
        return value


class IpamAllocation(StoredModel):
    """One pod address handed out (key `ipam/<node-id>/<pod-ip>`)."""

    pod_ip: str
    container_id: str = Field(min_length=1)
    pod_namespace: str = ""
    pod_name: str = ""
    interface: str = "eth0"

    @field_validator("pod_ip")
    @classmethod
    def _address(cls, value: str) -> str:
        ipaddress.ip_address(value)
        return value
