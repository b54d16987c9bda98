"""`contiv-cni`: the CNI plugin executable.

The container runtime executes it once per CNI operation. Each command is
turned into one RemoteCNI RPC to the node agent; the reply is printed as the
CNI result. Only the JSON result or error goes to stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from cni import spec
from cni.spec import CNIError


def _read_stdin(command: str) -> bytes:
    if sys.stdin is None:  # started with fd 0 closed
        return b""
    # VERSION input is optional (it only carries cniVersion); never wait on a
    # terminal for it.
    if command == "VERSION" and sys.stdin.isatty():
        return b""
    try:
        return sys.stdin.buffer.read()
    except OSError as exc:
        raise CNIError(spec.IO_FAILURE, "cannot read the network config from stdin", str(exc)) from exc


def _loose_config(raw: bytes) -> dict[str, Any]:
    """The config as far as it decodes, for the error's cniVersion and the log
    file when validation fails."""
    try:
        config = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return config if isinstance(config, dict) else {}


def _version_report(raw: bytes) -> dict[str, Any]:
    version = _loose_config(raw).get("cniVersion")
    return {
        "cniVersion": version if version in spec.SUPPORTED_VERSIONS else spec.LATEST_VERSION,
        "supportedVersions": list(spec.SUPPORTED_VERSIONS),
    }


def _cni_request(env: spec.Env, conf: spec.NetConf) -> dict[str, Any]:
    return {
        "cni_version": conf.cni_version,
        "container_id": env.container_id,
        "netns": env.netns,
        "ifname": env.ifname,
        "pod_namespace": env.pod_args.get("K8S_POD_NAMESPACE", ""),
        "pod_name": env.pod_args.get("K8S_POD_NAME", ""),
        "pod_uid": env.pod_args.get("K8S_POD_UID", ""),
        "extra_args": env.extra_args,
        "network_name": conf.name,
        "mtu": conf.mtu,
        "network_config": conf.raw,
    }


def _call(conf: spec.NetConf, method: str, request: dict[str, Any], unavailable_code: int) -> dict[str, Any]:
    from cni import transport

    try:
        return transport.call(conf.agent_socket, method, request, conf.agent_timeout)
    except transport.AgentError as exc:
        code = unavailable_code if exc.transient else spec.AGENT_RPC_FAILED
        raise CNIError(code, exc.msg, exc.details) from exc


def _raise_reply_error(reply: dict[str, Any]) -> None:
    if reply["error_code"]:
        raise CNIError(reply["error_code"], reply["error_msg"] or f"node agent error {reply['error_code']}",
                       reply.get("error_details", ""))


_RPC_OF = {"ADD": "Add", "DEL": "Delete", "CHECK": "Check"}


def _attachment_command(env: spec.Env, conf: spec.NetConf) -> dict[str, Any] | None:
    reply = _call(conf, _RPC_OF[env.command], _cni_request(env, conf), spec.TRY_AGAIN_LATER)
    _raise_reply_error(reply)
    if env.command != "ADD":
        return None  # DEL and CHECK print nothing on success
    from cni.result import add_result

    return add_result(reply, conf.cni_version, conf.prev_result)


def _status(conf: spec.NetConf) -> None:
    # Unreachable counts as "cannot serve ADD" too (spec: STATUS error 50).
    reply = _call(conf, "Status", {"cni_version": conf.cni_version}, spec.NOT_AVAILABLE)
    if not reply["ready"]:
        raise CNIError(spec.NOT_AVAILABLE, reply["message"] or "node agent cannot serve ADD now")


def _gc(conf: spec.NetConf) -> None:
    request = {
        "cni_version": conf.cni_version,
        "network_name": conf.name,
        "valid_attachments": [{"container_id": a.container_id, "ifname": a.ifname} for a in conf.attachments],
    }
    reply = _call(conf, "GarbageCollect", request, spec.TRY_AGAIN_LATER)
    _raise_reply_error(reply)


def _run(command: str, raw: bytes) -> dict[str, Any] | None:
    if command == "VERSION":
        return _version_report(raw)
    env = spec.parse_env(os.environ, command)
    conf = spec.parse_config(raw, spec.decode_config(raw), command)
    if command == "STATUS":
        _status(conf)
        return None
    if command == "GC":
        _gc(conf)
        return None
    return _attachment_command(env, conf)


def _log(log_file: str, command: str, container_id: str, seconds: float, outcome: str) -> None:
    if not log_file:
        return
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = (f"{stamp} command={command or '-'} container={container_id or '-'} "
            f"duration_ms={seconds * 1000:.1f} {outcome}\n")
    # One write() on an O_APPEND descriptor keeps concurrent invocations'
    # lines whole; logging must never change the outcome of the operation.
    try:
        os.makedirs(os.path.dirname(log_file) or ".", exist_ok=True)
        fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        pass


def _emit(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()


def main() -> int:
    started = time.monotonic()
    command = ""
    raw = b""
    try:
        try:
            command = spec.parse_command(os.environ)
            raw = _read_stdin(command)
            output = _run(command, raw)
        except CNIError:
            raise
        except Exception as exc:
            # A bug must still answer the runtime in the spec's error shape.
            raise CNIError(spec.INTERNAL, "contiv-cni internal error", f"{type(exc).__name__}: {exc}") from exc
        exit_code = 0
        outcome = "ok"
    except CNIError as exc:
        loose_version = _loose_config(raw).get("cniVersion")
        output = {
            "cniVersion": loose_version if loose_version in spec.SUPPORTED_VERSIONS else spec.LATEST_VERSION,
            "code": exc.code,
            "msg": exc.msg,
            "details": exc.details,
        }
        exit_code = exc.code if 0 < exc.code < 256 else 1
        outcome = f"error code={exc.code} msg={exc.msg!r}"
    if output is not None:
        _emit(output)
    if command and command != "VERSION":
        log_file = _loose_config(raw).get("logFile")
        _log(log_file if isinstance(log_file, str) else "", command, os.environ.get("CNI_CONTAINERID", ""),
             time.monotonic() - started, outcome)
    return exit_code
