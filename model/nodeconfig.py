"""Per-node configuration, written by the CRD controller from NodeConfig CRs."""

from __future__ import annotations

import ipaddress

from pydantic import Field, model_validator

from model.base import StoredModel


class InterfaceConfig(StoredModel):
    name: str = Field(min_length=1, max_length=15)
    # An address with its prefix length ("192.168.16.1/24"), or DHCP.
    ip: str | None = None
    dhcp: bool = False

    @model_validator(mode="after")
    def _one_address_source(self) -> InterfaceConfig:
        if self.ip and self.dhcp:
            raise ValueError(f"interface {self.name}: give either ip or dhcp, not both")
        if self.ip:
            ipaddress.ip_interface(self.ip)
        return self


class NodeConfig(StoredModel):
    node_name: str = Field(min_length=1)
    main_interface: InterfaceConfig | None = None
    gateway: str | None = None
    other_interfaces: tuple[InterfaceConfig, ...] = ()
    # The NIC that STN takes away from Linux and hands to the dataplane.
    steal_interface: str | None = None
    steal_first_nic: bool = False
    nat_external_traffic: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> NodeConfig:
        if self.gateway:
            ipaddress.ip_address(self.gateway)
        if self.steal_interface and self.steal_first_nic:
            raise ValueError("give either steal_interface or steal_first_nic, not both")
        names = [i.name for i in self.other_interfaces]
        if self.main_interface:
            names.append(self.main_interface.name)
        if len(names) != len(set(names)):
            raise ValueError("an interface is configured twice")
        return self
