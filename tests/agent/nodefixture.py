"""A node on this machine for agent tests: a network namespace linked to the
host, a private etcd the node reaches, the real agent running inside, and
the real CNI executable to call it as a container runtime would."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from lab import netns as labns
from lab.etcd import EtcdServer

VENV_BIN = Path(sys.executable).parent
CNI_PLUGIN = VENV_BIN / "contiv-cni"
AGENT = VENV_BIN / "contiv-agent"
REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@dataclass
class CniResult:
    code: int
    output: dict
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0


@dataclass
class TestNode:
    __test__ = False  # a fixture, not a test class

    name: str
    subnet_octet: int
    tmp: Path
    etcd: EtcdServer | None = None
    agent: subprocess.Popen | None = None
    pods: list[str] = field(default_factory=list)
    agent_log: Path | None = None
    agent_env: dict[str, str] = field(default_factory=dict)
    agent_args: list[str] = field(default_factory=list)

    @property
    def host_ip(self) -> str:
        return f"10.250.{self.subnet_octet}.1"

    @property
    def node_ip(self) -> str:
        return f"10.250.{self.subnet_octet}.2"

    @property
    def socket(self) -> Path:
        return self.tmp / "cni.sock"

    @property
    def rest(self) -> str:
        return f"http://{self.node_ip}:9999"

    @property
    def host_link(self) -> str:
        return f"agt{self.subnet_octet}h"

    def setup(self) -> None:
        self.setup_without_agent()
        self.start_agent()

    def setup_without_agent(self) -> None:
        labns.add_netns(self.name)
        labns.link_to_host(self.name, self.host_link, f"{self.host_ip}/30", f"{self.node_ip}/30", self.host_ip)
        self.etcd = EtcdServer(self.tmp / "etcd", host=self.host_ip)
        self.etcd.start()

    def start_agent(self) -> None:
        self.agent_log = self.tmp / "agent.log"
        command = labns.exec_in(self.name, str(AGENT), "--node", "node-1", "--etcd-endpoints", self.etcd.endpoint,
                                "--cni-socket", str(self.socket), "--state-dir", str(self.tmp / "state"),
                                "--rest-address", f"{self.node_ip}:9999", *self.agent_args)
        env = {**os.environ, **self.agent_env} if self.agent_env else None
        with open(self.agent_log, "ab") as log:
            self.agent = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_for(self.ready, 30, "the agent to become ready")

    def ready(self) -> bool:
        if self.agent is not None and self.agent.poll() is not None:
            raise AssertionError(f"agent exited with {self.agent.returncode}: {self.agent_log.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.rest}/readiness", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop_agent(self, sig: int = signal.SIGTERM) -> None:
        if self.agent is not None and self.agent.poll() is None:
            self.agent.send_signal(sig)
            self.agent.wait(timeout=15)
        self.agent = None

    def teardown(self) -> None:
        self.stop_agent(signal.SIGKILL)
        for pod in self.pods:
            labns.delete_netns(pod)
        labns.delete_netns(self.name)
        labns.ip("link", "del", self.host_link, check=False)
        if self.etcd is not None:
            self.etcd.stop(kill=True)

    # --- pods and the CNI executable ------------------------------------------------------

    def new_pod_netns(self) -> str:
        name = f"{self.name}-p{len(self.pods)}"
        labns.add_netns(name)
        self.pods.append(name)
        return name

    def network_config(self, **extra: object) -> dict:
        return {"cniVersion": "1.1.0", "name": "contiv", "type": "contiv-cni", "agentSocket": str(self.socket),
                "logFile": str(self.tmp / "cni.log"), **extra}

    def cni(self, command: str, container_id: str | None, netns: str | None, ifname: str | None = "eth0",
            config: dict | bytes | None = None, pod: str = "pod", namespace: str = "default",
            env: dict[str, str] | None = None) -> CniResult:
        environ = {"PATH": os.environ.get("PATH", ""), "CNI_COMMAND": command, "CNI_PATH": "/usr/lib/cni"}
        if container_id is not None:
            environ["CNI_CONTAINERID"] = container_id
        if netns is not None:
            environ["CNI_NETNS"] = netns if netns.startswith("/") else f"/var/run/netns/{netns}"
        if ifname is not None:
            environ["CNI_IFNAME"] = ifname
        environ["CNI_ARGS"] = f"IgnoreUnknown=1;K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={pod}"
        environ.update(env or {})
        stdin = config if isinstance(config, bytes) else json.dumps(config or self.network_config()).encode()
        done = subprocess.run([str(CNI_PLUGIN)], input=stdin, env=environ, capture_output=True, timeout=60)
        output = json.loads(done.stdout) if done.stdout.strip() else {}
        return CniResult(done.returncode, output, done.stderr.decode())

    def rest_get(self, path: str):
        return httpx.get(f"{self.rest}{path}", timeout=5).json()

    def in_pod(self, pod: str, *command: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(labns.exec_in(pod, *command), capture_output=True, text=True, **kwargs)

    def start_echo(self, pod: str, port: int = 8080) -> subprocess.Popen:
        process = subprocess.Popen(labns.exec_in(pod, sys.executable, "-m", "lab.tcpecho", "serve", "--port",
                                                 str(port)), cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None and "listening" in process.stdout.readline()
        return process

    def probe(self, pod: str, host: str, port: int = 8080, count: int = 1, interval: float = 0.0) -> dict:
        done = self.in_pod(pod, sys.executable, "-m", "lab.tcpecho", "probe", host, str(port), "--count", str(count),
                           "--interval", str(interval), cwd=REPO, timeout=count * (interval + 3) + 10)
        return json.loads(done.stdout)


def make_node(tmp: Path) -> TestNode:
    octet = 100 + secrets.randbelow(150)
    while labns.list_netns(f"agt{octet}n"):
        octet = 100 + secrets.randbelow(150)
    return TestNode(name=f"agt{octet}n", subnet_octet=octet, tmp=tmp)


STN = VENV_BIN / "contiv-stn"


def start_stn_with_nic(node: TestNode, tmp: Path) -> subprocess.Popen:
    """Give the node a "NIC" (nic0, 10.77.0.2/24, a veth to a gateway
    namespace at 10.77.0.1, with a route to 10.78.0.0/16 through it) and run
    STN in the node; the agent is told to steal nic0 through it."""
    gateway = f"{node.name}-gw"
    labns.add_netns(gateway)
    node.pods.append(gateway)
    labns.ip("link", "add", "nic0", "type", "veth", "peer", "name", "up0", "netns", gateway, netns=node.name)
    labns.ip("addr", "add", "10.77.0.2/24", "dev", "nic0", netns=node.name)
    labns.ip("link", "set", "nic0", "up", netns=node.name)
    labns.ip("addr", "add", "10.77.0.1/24", "dev", "up0", netns=gateway)
    labns.ip("link", "set", "up0", "up", netns=gateway)
    labns.ip("route", "add", "10.78.0.0/16", "via", "10.77.0.1", netns=node.name)
    socket = tmp / "stn.sock"
    stn = subprocess.Popen(labns.exec_in(node.name, str(STN), "serve", "--socket", str(socket), "--state-dir",
                                         str(tmp / "stn-state"), "--agent-liveness",
                                         f"http://{node.node_ip}:9999/liveness", "--grace-period", "60"),
                           stdout=open(tmp / "stn.log", "ab"), stderr=subprocess.STDOUT)
    wait_for(socket.exists, 20, "the STN socket")
    node.agent_env = {**node.agent_env, "CONTIV_AGENT_STEAL_INTERFACE": "nic0",
                      "CONTIV_AGENT_STN_SOCKET": str(socket)}
    return stn


def nic_state(node: TestNode, nic: str = "nic0") -> tuple[list[str], set[str]]:
    """The NIC's IPv4 addresses (CIDRs) and the destinations routed out of it."""
    addrs = json.loads(labns.ip("-j", "addr", "show", nic, netns=node.name).stdout)[0]["addr_info"]
    routes = json.loads(labns.ip("-j", "route", "show", "dev", nic, netns=node.name).stdout)
    return [f"{a['local']}/{a['prefixlen']}" for a in addrs if a["family"] == "inet"], {r["dst"] for r in routes}


def stn_show(node: TestNode, socket: str | Path) -> list[dict]:
    done = subprocess.run(labns.exec_in(node.name, str(STN), "show", "--socket", str(socket), "-o", "json"),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    return shown if isinstance(shown, list) else [shown]
