"""Several nodes on one underlay bridge, each a network namespace running the
real agent, sharing one etcd on the bridge's address."""

from __future__ import annotations

import secrets
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from lab import netns as labns
from lab.etcd import EtcdServer
from tests.agent.nodefixture import AGENT, TestNode, wait_for


@dataclass
class MeshNode(TestNode):
    index: int = 0
    cluster: "MeshCluster | None" = None

    @property
    def node_ip(self) -> str:
        return f"10.252.{self.subnet_octet}.{self.index}"

    @property
    def socket(self) -> Path:
        return self.tmp / f"{self.name}.sock"

    def start_agent(self) -> None:
        assert self.cluster is not None
        self.agent_log = self.tmp / f"{self.name}.log"
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CONTIV_AGENT_NODE_IP": f"{self.node_ip}/24",
               "CONTIV_AGENT_HEALING_INTERVAL": "2"}
        command = labns.exec_in(self.name, str(AGENT), "--node", self.name, "--etcd-endpoints",
                                self.cluster.etcd.endpoint, "--cni-socket", str(self.socket),
                                "--state-dir", str(self.tmp / self.name / "state"),
                                "--rest-address", f"{self.node_ip}:9999")
        with open(self.agent_log, "ab") as log:
            self.agent = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_for(self.ready, 30, f"agent of {self.name} to become ready")

    def node_id(self) -> int:
        return self.rest_get("/contiv/v1/ipam")["nodeId"]

    def routes(self) -> set[str]:
        import json
        return {r["dst"] for r in json.loads(labns.ip("-j", "route", "show", netns=self.name).stdout)}


@dataclass
class MeshCluster:
    octet: int
    tmp: Path
    etcd: EtcdServer | None = None
    nodes: list[MeshNode] = field(default_factory=list)

    @property
    def bridge(self) -> str:
        return f"msh{self.octet}br"

    @property
    def bridge_ip(self) -> str:
        return f"10.252.{self.octet}.254"

    def setup(self) -> None:
        labns.ip("link", "add", self.bridge, "type", "bridge")
        labns.ip("addr", "add", f"{self.bridge_ip}/24", "dev", self.bridge)
        labns.ip("link", "set", self.bridge, "up")
        self.etcd = EtcdServer(self.tmp / "etcd", host=self.bridge_ip)
        self.etcd.start()

    def add_node(self) -> MeshNode:
        index = len(self.nodes) + 1
        node = MeshNode(name=f"msh{self.octet}n{index}", subnet_octet=self.octet, tmp=self.tmp, index=index,
                        cluster=self)
        node.etcd = self.etcd
        labns.add_netns(node.name)
        host_end = f"msh{self.octet}v{index}"
        labns.ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", node.name)
        labns.ip("link", "set", host_end, "master", self.bridge, "up")
        labns.ip("addr", "add", f"{node.node_ip}/24", "dev", "eth0", netns=node.name)
        labns.ip("link", "set", "eth0", "up", netns=node.name)
        self.nodes.append(node)
        node.start_agent()
        return node

    def teardown(self) -> None:
        for node in self.nodes:
            node.stop_agent(signal.SIGKILL)
            for pod in node.pods:
                labns.delete_netns(pod)
            labns.delete_netns(node.name)
            labns.ip("link", "del", f"msh{self.octet}v{node.index}", check=False)
        labns.ip("link", "del", self.bridge, check=False)
        if self.etcd is not None:
            self.etcd.stop(kill=True)


def make_cluster(tmp: Path) -> MeshCluster:
    octet = 10 + secrets.randbelow(200)
    while labns.list_netns(f"msh{octet}n"):
        octet = 10 + secrets.randbelow(200)
    return MeshCluster(octet=octet, tmp=tmp)


__all__ = ["MeshCluster", "MeshNode", "make_cluster", "httpx"]
