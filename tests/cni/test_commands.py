"""The real `contiv-cni` executable against a fake agent: what reaches the
agent, and what the runtime gets on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cni.api import cni_pb2
from tests.cni.cni_testlib import FakeAgent, attachment_env, run_plugin

POD_ARGS = ("IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;"
            "K8S_POD_INFRA_CONTAINER_ID=c0ffee01;K8S_POD_UID=4f0c-uid")


def test_add_request_fields_reach_the_agent(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["mtu"] = 1400
    run = run_plugin("ADD", config, attachment_env(args=POD_ARGS))
    assert run.returncode == 0, run
    request = agent.only_request("Add")
    assert request.cni_version == "1.1.0"
    assert request.container_id == "c0ffee01"
    assert request.netns == "/var/run/netns/pod1"
    assert request.ifname == "eth0"
    assert (request.pod_namespace, request.pod_name, request.pod_uid) == ("shop", "web-0", "4f0c-uid")
    assert dict(request.extra_args) == {"IgnoreUnknown": "1", "K8S_POD_INFRA_CONTAINER_ID": "c0ffee01"}
    assert request.network_name == "contiv-net"
    assert request.mtu == 1400
    assert json.loads(request.network_config) == config


def test_raw_config_is_forwarded_byte_for_byte(agent: FakeAgent, config: dict[str, Any]) -> None:
    raw = ('{ "name": "contiv-net",\n  "cniVersion": "1.0.0", "agentSocket": "%s", "custom": {"a": [1]} }\n'
           % agent.socket_path).encode()
    assert run_plugin("ADD", raw, attachment_env()).returncode == 0
    request = agent.only_request("Add")
    assert request.network_config == raw
    assert request.mtu == 0  # not configured: the agent's default


def test_add_result_1_1_0(agent: FakeAgent, config: dict[str, Any]) -> None:
    run = run_plugin("ADD", config, attachment_env())
    assert run.returncode == 0, run
    assert run.stdout.count("\n") == 1
    assert run.json() == {
        "cniVersion": "1.1.0",
        "interfaces": [
            {"name": "tap-c0ffee01", "mac": "02:fe:00:00:00:01"},
            {"name": "eth0", "mac": "02:fe:00:00:00:02", "sandbox": "/var/run/netns/pod1", "mtu": 1450},
        ],
        "ips": [
            {"address": "10.1.1.2/32", "gateway": "10.1.1.1", "interface": 1},
            {"address": "fd00::2/128", "interface": 1},
            {"address": "172.30.1.2/24"},
        ],
        "routes": [{"dst": "0.0.0.0/0", "gw": "10.1.1.1"}, {"dst": "10.96.0.0/12"}],
        "dns": {"nameservers": ["10.96.0.10"], "domain": "cluster.local",
                "search": ["default.svc.cluster.local"], "options": ["ndots:5"]},
    }


def test_add_result_1_0_0_has_no_interface_mtu(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["cniVersion"] = "1.0.0"
    result = run_plugin("ADD", config, attachment_env()).json()
    assert result["cniVersion"] == "1.0.0"
    assert all("mtu" not in iface for iface in result["interfaces"])
    assert all("version" not in ip for ip in result["ips"])
    assert result["ips"][0] == {"address": "10.1.1.2/32", "gateway": "10.1.1.1", "interface": 1}


@pytest.mark.parametrize("version", ["0.4.0", "0.3.1"])
def test_add_result_legacy_ips_carry_version(agent: FakeAgent, config: dict[str, Any], version: str) -> None:
    config["cniVersion"] = version
    result = run_plugin("ADD", config, attachment_env()).json()
    assert result["cniVersion"] == version
    assert [ip["version"] for ip in result["ips"]] == ["4", "6", "4"]
    assert result["ips"][0] == {"version": "4", "address": "10.1.1.2/32", "gateway": "10.1.1.1", "interface": 1}
    assert all(set(iface) <= {"name", "mac", "sandbox"} for iface in result["interfaces"])
    assert agent.only_request("Add").cni_version == version


def test_chained_add_keeps_prev_result_entries_first(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["cniVersion"] = "1.0.0"
    config["prevResult"] = {
        "cniVersion": "1.0.0",
        "interfaces": [{"name": "br0", "mac": "aa:bb:cc:dd:ee:ff"}, {"name": "veth0"}],
        "ips": [{"address": "192.168.0.5/24", "gateway": "192.168.0.1", "interface": 1}],
        "routes": [{"dst": "192.168.0.0/16"}],
        "dns": {"nameservers": ["192.168.0.53"], "domain": "lab"},
    }
    result = run_plugin("ADD", config, attachment_env()).json()
    assert [i["name"] for i in result["interfaces"]] == ["br0", "veth0", "tap-c0ffee01", "eth0"]
    assert result["ips"][0] == config["prevResult"]["ips"][0]
    # our ips point at our interfaces, now after the previous two
    assert [ip.get("interface") for ip in result["ips"]] == [1, 3, 3, None]
    assert result["routes"][0] == {"dst": "192.168.0.0/16"}
    assert len(result["routes"]) == 3
    assert result["dns"]["nameservers"] == ["192.168.0.53", "10.96.0.10"]
    assert result["dns"]["domain"] == "lab"
    assert result["dns"]["search"] == ["default.svc.cluster.local"]


def test_chained_add_converts_prev_ips_to_the_config_version(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["cniVersion"] = "0.4.0"
    config["prevResult"] = {"cniVersion": "0.4.0", "interfaces": [],
                            "ips": [{"address": "fd01::5/64"}]}
    result = run_plugin("ADD", config, attachment_env()).json()
    assert result["ips"][0] == {"version": "6", "address": "fd01::5/64"}
    config["cniVersion"] = "1.1.0"
    config["prevResult"] = {"cniVersion": "1.1.0", "ips": [{"version": "4", "address": "10.9.0.5/24"}]}
    result = run_plugin("ADD", config, attachment_env()).json()
    assert result["ips"][0] == {"address": "10.9.0.5/24"}


def test_add_twice_relays_the_agents_same_answer(agent: FakeAgent, config: dict[str, Any]) -> None:
    first = run_plugin("ADD", config, attachment_env())
    second = run_plugin("ADD", config, attachment_env())
    assert first.returncode == second.returncode == 0
    assert first.json() == second.json()
    assert [name for name, _ in agent.requests] == ["Add", "Add"]


def test_del_without_netns(agent: FakeAgent, config: dict[str, Any]) -> None:
    run = run_plugin("DEL", config, attachment_env(netns=None, args=POD_ARGS))
    assert (run.returncode, run.stdout) == (0, "")
    request = agent.only_request("Delete")
    assert (request.container_id, request.netns, request.ifname) == ("c0ffee01", "", "eth0")
    assert request.pod_name == "web-0"


def test_del_with_netns_and_prev_result(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["prevResult"] = {"cniVersion": "1.1.0", "interfaces": [{"name": "eth0"}], "ips": []}
    run = run_plugin("DEL", config, attachment_env())
    assert (run.returncode, run.stdout) == (0, "")
    request = agent.only_request("Delete")
    assert request.netns == "/var/run/netns/pod1"
    assert json.loads(request.network_config)["prevResult"] == config["prevResult"]


def test_del_repeated_is_success(agent: FakeAgent, config: dict[str, Any]) -> None:
    for _ in range(2):
        assert run_plugin("DEL", config, attachment_env(netns=None)).returncode == 0
    assert [name for name, _ in agent.requests] == ["Delete", "Delete"]


def test_check_success_prints_nothing(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["prevResult"] = {"cniVersion": "1.1.0", "interfaces": [{"name": "eth0", "sandbox": "/ns"}],
                            "ips": [{"address": "10.1.1.2/32", "interface": 0}]}
    run = run_plugin("CHECK", config, attachment_env(args=POD_ARGS))
    assert (run.returncode, run.stdout) == (0, "")
    request = agent.only_request("Check")
    assert (request.container_id, request.netns, request.ifname, request.pod_uid) == \
        ("c0ffee01", "/var/run/netns/pod1", "eth0", "4f0c-uid")
    assert json.loads(request.network_config)["prevResult"] == config["prevResult"]


def test_status_ready(agent: FakeAgent, config: dict[str, Any]) -> None:
    run = run_plugin("STATUS", config)
    assert (run.returncode, run.stdout) == (0, "")
    assert agent.only_request("Status").cni_version == "1.1.0"


def test_gc_sends_valid_attachments(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["cni.dev/valid-attachments"] = [{"containerID": "c1", "ifname": "eth0"},
                                           {"containerID": "c2", "ifname": "net1"}]
    config["cni.dev/attachments"] = config["cni.dev/valid-attachments"]
    agent.handlers["GarbageCollect"] = lambda request: cni_pb2.GCReply(removed=3)
    run = run_plugin("GC", config, {"CNI_PATH": "/opt/cni/bin"})
    assert (run.returncode, run.stdout) == (0, "")
    request = agent.only_request("GarbageCollect")
    assert request.cni_version == "1.1.0"
    assert request.network_name == "contiv-net"
    assert [(a.container_id, a.ifname) for a in request.valid_attachments] == [("c1", "eth0"), ("c2", "net1")]


def test_gc_accepts_the_1_1_0_spec_key_and_null(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["cni.dev/attachments"] = [{"containerID": "c9", "ifname": "eth0"}]
    assert run_plugin("GC", config).returncode == 0
    del config["cni.dev/attachments"]
    config["cni.dev/valid-attachments"] = None
    assert run_plugin("GC", config).returncode == 0
    gcs = [request for name, request in agent.requests if name == "GarbageCollect"]
    assert [[a.container_id for a in r.valid_attachments] for r in gcs] == [["c9"], []]


def test_version_needs_no_agent(sock_dir: Path) -> None:
    run = run_plugin("VERSION", {"cniVersion": "1.0.0"})
    assert run.returncode == 0
    assert run.json() == {"cniVersion": "1.0.0",
                          "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]}
    assert run_plugin("VERSION", None).json()["cniVersion"] == "1.1.0"


def test_version_does_not_import_grpc() -> None:
    import subprocess
    import sys

    code = ("import os, sys; os.environ['CNI_COMMAND'] = 'VERSION'; sys.stdin = open(os.devnull); "
            "from cni.plugin import main; main(); "
            "assert not [m for m in sys.modules if m.split('.')[0] in "
            "('grpc', 'google', 'pydantic', 'click', 'asyncio', 'dataclasses')], sorted(sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def test_agent_commands_import_no_protobuf_pydantic_or_click(agent: FakeAgent, config: dict[str, Any]) -> None:
    import subprocess
    import sys

    code = ("import io, os, sys, json; os.environ.update(CNI_COMMAND='STATUS'); "
            f"sys.stdin = io.TextIOWrapper(io.BytesIO(json.dumps({config!r}).encode())); "
            "from cni.plugin import main; rc = main(); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('google', 'pydantic', 'click')]; "
            "assert rc == 0 and not bad, (rc, bad)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_log_file_gets_one_line_per_invocation(agent: FakeAgent, config: dict[str, Any]) -> None:
    log = Path(config["logFile"])
    assert run_plugin("ADD", config, attachment_env()).returncode == 0
    assert run_plugin("DEL", config, attachment_env(netns=None)).returncode == 0
    agent.handlers["Check"] = lambda request: cni_pb2.CNIReply(error_code=3, error_msg="no such container")
    assert run_plugin("CHECK", config, attachment_env()).returncode == 3
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    assert "command=ADD" in lines[0] and "container=c0ffee01" in lines[0] and lines[0].endswith(" ok")
    assert "duration_ms=" in lines[0]
    assert "command=DEL" in lines[1]
    assert "command=CHECK" in lines[2] and "error code=3" in lines[2] and "no such container" in lines[2]


def test_nothing_but_json_on_stdout_with_grpc_tracing(agent: FakeAgent, config: dict[str, Any]) -> None:
    # gRPC's own diagnostics must not leak into the result.
    run = run_plugin("ADD", config, {**attachment_env(), "GRPC_VERBOSITY": "debug", "GRPC_TRACE": "api"})
    assert run.returncode == 0
    assert run.stdout.count("\n") == 1
    json.loads(run.stdout)
