"""Behaviour switches of the stand-in, settable at start and at run time."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field


class StandinConfig(BaseModel):
    # None: decide like VPP does, by whether /dev/vhost-net exists on this host.
    vhost_net: bool | None = None
    # Real VPP opens the host interface of an af_packet; off by default because
    # test hosts rarely have the interfaces a test names.
    check_host_interfaces: bool = False
    # Real VPP opens the netns named in tap_create_v3.host_namespace.
    check_host_namespaces: bool = False
    # Dump the FIB entries VPP adds on its own (default drops, connected and
    # local routes of interface addresses), as ip_route_dump on VPP does.
    special_routes: bool = True
    version: str = Field(default="26.06-release")
    build_date: str = Field(default="2026-06-24T00:00:00")
    build_directory: str = Field(default="/w/workspace/vpp")

    def vhost_net_available(self) -> bool:
        if self.vhost_net is None:
            return os.path.exists("/dev/vhost-net")
        return self.vhost_net
