"""Every error path: the spec's error JSON on stdout, its code as exit status,
and a message naming the problem."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cni.api import cni_pb2
from tests.cni.cni_testlib import FakeAgent, assert_error, attachment_env, run_plugin


def test_malformed_stdin_is_6(config: dict[str, Any]) -> None:
    assert_error(run_plugin("ADD", b'{"cniVersion": "1.1.0", "name": ', attachment_env()), 6, "JSON")
    assert_error(run_plugin("ADD", b"", attachment_env()), 6, "JSON")
    assert_error(run_plugin("ADD", b"\xff\xfe", attachment_env()), 6, "JSON")
    assert_error(run_plugin("STATUS", b'["a list"]'), 6, "JSON object")


def test_missing_cni_command_is_4(config: dict[str, Any]) -> None:
    assert_error(run_plugin(None, config, attachment_env()), 4, "CNI_COMMAND")
    assert_error(run_plugin("FROB", config, attachment_env()), 4, "CNI_COMMAND", "FROB")


@pytest.mark.parametrize("command", ["ADD", "DEL", "CHECK"])
@pytest.mark.parametrize("variable", ["CNI_CONTAINERID", "CNI_IFNAME"])
def test_missing_attachment_variable_is_4(agent: FakeAgent, config: dict[str, Any], command: str,
                                          variable: str) -> None:
    env = attachment_env()
    del env[variable]
    assert_error(run_plugin(command, config, env), 4, variable)
    env[variable] = ""
    assert_error(run_plugin(command, config, env), 4, variable)
    assert agent.requests == []


@pytest.mark.parametrize("command", ["ADD", "CHECK"])
def test_missing_netns_is_4_for_add_and_check(agent: FakeAgent, config: dict[str, Any], command: str) -> None:
    assert_error(run_plugin(command, config, attachment_env(netns=None)), 4, "CNI_NETNS")
    assert agent.requests == []


@pytest.mark.parametrize("container_id", ["-abc", "_abc", ".abc", "abc/def", "abc def", "ab:c", "caf\u00e9"])
def test_bad_container_id_is_4(agent: FakeAgent, config: dict[str, Any], container_id: str) -> None:
    # libcni/skel treat invalid characters as an invalid env variable (code 4).
    assert_error(run_plugin("ADD", config, attachment_env(container_id=container_id)), 4, "CNI_CONTAINERID")


@pytest.mark.parametrize("container_id", ["A", "0", "Abc_1.2-3", "a" * 64])
def test_good_container_ids_pass(agent: FakeAgent, config: dict[str, Any], container_id: str) -> None:
    assert run_plugin("DEL", config, attachment_env(container_id=container_id, netns=None)).returncode == 0


@pytest.mark.parametrize("ifname", ["a" * 16, ".", "..", "eth/0", "eth:0", "eth 0", "eth\t0"])
def test_bad_ifname_is_4(agent: FakeAgent, config: dict[str, Any], ifname: str) -> None:
    assert_error(run_plugin("ADD", config, attachment_env(ifname=ifname)), 4, "CNI_IFNAME")


def test_ifname_of_15_characters_passes(agent: FakeAgent, config: dict[str, Any]) -> None:
    assert run_plugin("ADD", config, attachment_env(ifname="a" * 15)).returncode == 0


def test_bad_cni_args_is_4(agent: FakeAgent, config: dict[str, Any]) -> None:
    assert_error(run_plugin("ADD", config, attachment_env(args="K8S_POD_NAME=x;junk")), 4, "CNI_ARGS", "junk")


@pytest.mark.parametrize("version", ["2.0.0", "0.2.0", "1.1", "banana"])
def test_unknown_cni_version_is_1(agent: FakeAgent, config: dict[str, Any], version: str) -> None:
    config["cniVersion"] = version
    error = assert_error(run_plugin("ADD", config, attachment_env()), 1, version)
    assert error["cniVersion"] == "1.1.0"


@pytest.mark.parametrize("command,version", [("STATUS", "1.0.0"), ("GC", "0.4.0"), ("CHECK", "0.3.1")])
def test_command_newer_than_config_version_is_1(agent: FakeAgent, config: dict[str, Any], command: str,
                                                version: str) -> None:
    config["cniVersion"] = version
    config["cni.dev/valid-attachments"] = []
    error = assert_error(run_plugin(command, config, attachment_env()), 1, command)
    assert error["cniVersion"] == version
    assert agent.requests == []


@pytest.mark.parametrize("change,words", [
    ({"name": None}, ["name"]),
    ({"name": ""}, ["name"]),
    ({"name": "bad name"}, ["name"]),
    ({"name": 5}, ["name"]),
    ({"cniVersion": None}, ["cniVersion"]),
    ({"cniVersion": 1}, ["cniVersion"]),
    ({"mtu": 0}, ["mtu"]),
    ({"mtu": 70000}, ["mtu"]),
    ({"mtu": "1500"}, ["mtu"]),
    ({"mtu": True}, ["mtu"]),
    ({"mtu": 1500.5}, ["mtu"]),
    ({"agentSocket": "relative.sock"}, ["agentSocket"]),
    ({"grpcServer": "/x.sock"}, ["agentSocket", "grpcServer"]),
    ({"agentTimeout": 0}, ["agentTimeout"]),
    ({"logFile": 3}, ["logFile"]),
    ({"prevResult": []}, ["prevResult"]),
    ({"prevResult": {"interfaces": {}}}, ["prevResult.interfaces"]),
])
def test_invalid_config_is_7(agent: FakeAgent, config: dict[str, Any], change: dict[str, Any],
                             words: list[str]) -> None:
    for key, value in change.items():
        if value is None:
            del config[key]
        else:
            config[key] = value
    assert_error(run_plugin("ADD", config, attachment_env()), 7, *words)
    assert agent.requests == []


def test_gc_attachment_list_is_validated(agent: FakeAgent, config: dict[str, Any]) -> None:
    assert_error(run_plugin("GC", config), 7, "cni.dev/valid-attachments")
    config["cni.dev/valid-attachments"] = [{"containerID": "c1"}]
    assert_error(run_plugin("GC", config), 7, "containerID", "ifname")
    config["cni.dev/valid-attachments"] = {"containerID": "c1", "ifname": "eth0"}
    assert_error(run_plugin("GC", config), 7, "list")
    assert agent.requests == []


def test_grpc_server_alias_with_unix_prefix(agent: FakeAgent, config: dict[str, Any]) -> None:
    del config["agentSocket"]
    config["grpcServer"] = "unix://" + agent.socket_path
    assert run_plugin("STATUS", config).returncode == 0


@pytest.mark.parametrize("command,code", [("ADD", 11), ("DEL", 11), ("CHECK", 11), ("GC", 11), ("STATUS", 50)])
def test_agent_socket_missing(sock_dir: Path, command: str, code: int) -> None:
    config = {"cniVersion": "1.1.0", "name": "contiv-net", "agentSocket": str(sock_dir / "absent.sock"),
              "cni.dev/valid-attachments": []}
    run = run_plugin(command, config, attachment_env())
    assert_error(run, code, "unreachable", "absent.sock")
    assert run.seconds < 10  # no waiting for a socket that is not there


def test_agent_socket_not_listening_is_11(sock_dir: Path) -> None:
    path = sock_dir / "stale.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # bound, never listening: connection refused
    try:
        config = {"cniVersion": "1.1.0", "name": "contiv-net", "agentSocket": str(path)}
        assert_error(run_plugin("ADD", config, attachment_env()), 11, "unreachable")
    finally:
        stale.close()


@pytest.fixture
def hung_agent(agent: FakeAgent) -> Iterator[FakeAgent]:
    release = threading.Event()

    def hang(request: Any) -> Any:
        release.wait(timeout=30)
        return cni_pb2.CNIReply()

    agent.handlers.update(Add=hang, Delete=hang, Status=lambda r: (hang(r), cni_pb2.StatusReply(ready=True))[1])
    yield agent
    release.set()


@pytest.mark.parametrize("command,code", [("ADD", 11), ("DEL", 11), ("STATUS", 50)])
def test_agent_not_answering_within_timeout(hung_agent: FakeAgent, config: dict[str, Any], command: str,
                                            code: int) -> None:
    config["agentTimeout"] = 0.5
    run = run_plugin(command, config, attachment_env())
    assert_error(run, code, "did not answer", "0.5s")
    assert hung_agent.received.is_set()  # it was the agent, not the connection, that timed out
    assert run.seconds < 10


def test_status_not_ready_is_50(agent: FakeAgent, config: dict[str, Any]) -> None:
    agent.handlers["Status"] = lambda request: cni_pb2.StatusReply(ready=False, message="IPAM pool exhausted")
    assert_error(run_plugin("STATUS", config), 50, "IPAM pool exhausted")


def test_check_unknown_container_is_3_from_the_agent(agent: FakeAgent, config: dict[str, Any]) -> None:
    agent.handlers["Check"] = lambda request: cni_pb2.CNIReply(
        error_code=3, error_msg="container unknown", error_details=f"no pod for {request.container_id}")
    config["prevResult"] = {"cniVersion": "1.1.0", "interfaces": [], "ips": []}
    error = assert_error(run_plugin("CHECK", config, attachment_env()), 3, "container unknown", "c0ffee01")
    assert error["cniVersion"] == "1.1.0"


@pytest.mark.parametrize("command,method", [("ADD", "Add"), ("DEL", "Delete"), ("CHECK", "Check")])
def test_agent_error_is_passed_through(agent: FakeAgent, config: dict[str, Any], command: str,
                                       method: str) -> None:
    config["cniVersion"] = "1.0.0"
    agent.handlers[method] = lambda request: cni_pb2.CNIReply(
        error_code=107, error_msg="vpp tap create failed", error_details="retval -3",
        interfaces=[cni_pb2.Interface(name="ignored")])
    error = assert_error(run_plugin(command, config, attachment_env()), 107, "vpp tap create failed", "retval -3")
    assert error["cniVersion"] == "1.0.0"


def test_agent_error_code_above_255_exits_1(agent: FakeAgent, config: dict[str, Any]) -> None:
    agent.handlers["Add"] = lambda request: cni_pb2.CNIReply(error_code=999, error_msg="internal")
    assert_error(run_plugin("ADD", config, attachment_env()), 999, "internal")


def test_gc_error_is_passed_through(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["cni.dev/valid-attachments"] = []
    agent.handlers["GarbageCollect"] = lambda request: cni_pb2.GCReply(error_code=11, error_msg="etcd down")
    assert_error(run_plugin("GC", config), 11, "etcd down")


def test_agent_grpc_failure_is_100(agent: FakeAgent, config: dict[str, Any]) -> None:
    def broken(request: Any) -> Any:
        raise RuntimeError("agent bug")

    agent.handlers["Add"] = broken
    assert_error(run_plugin("ADD", config, attachment_env()), 100, "node agent failed Add", "UNKNOWN")


def test_error_log_line(agent: FakeAgent, config: dict[str, Any]) -> None:
    config["mtu"] = 1
    assert_error(run_plugin("ADD", config, attachment_env()), 7, "mtu")
    line = Path(config["logFile"]).read_text()
    assert line.count("\n") == 1 and "command=ADD" in line and "error code=7" in line


def test_unwritable_log_file_does_not_change_the_outcome(agent: FakeAgent, config: dict[str, Any],
                                                         sock_dir: Path) -> None:
    (sock_dir / "file").write_text("")
    config["logFile"] = str(sock_dir / "file" / "cni.log")  # parent is a file
    assert run_plugin("DEL", config, attachment_env(netns=None)).returncode == 0
