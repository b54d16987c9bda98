"""The CNI invocation: environment variables and the network config on stdin.

Validation is plain code on purpose: the plugin is executed for every pod and
pydantic's import alone would cost more than the whole start-up budget, while
the handful of fields here need only type and range checks.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

# Well-known error codes (CNI spec 1.1.0, "Error"); 0-99 are reserved.
INCOMPATIBLE_VERSION = 1
UNSUPPORTED_FIELD = 2
UNKNOWN_CONTAINER = 3
INVALID_ENV = 4
IO_FAILURE = 5
DECODE_FAILURE = 6
INVALID_CONFIG = 7
TRY_AGAIN_LATER = 11
NOT_AVAILABLE = 50  # STATUS: cannot serve ADD
# Plugin-specific (100+): the agent answered the RPC with a gRPC failure that
# is not transient (e.g. UNIMPLEMENTED, INTERNAL), so retrying will not help.
AGENT_RPC_FAILED = 100
# libcni's code for a plugin's unexpected internal failure.
INTERNAL = 999

LATEST_VERSION = "1.1.0"
SUPPORTED_VERSIONS = ("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
COMMANDS = ("ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC")
# The first spec version defining each command; older configs get code 1.
COMMAND_SINCE = {"CHECK": "0.4.0", "STATUS": "1.1.0", "GC": "1.1.0"}

DEFAULT_AGENT_SOCKET = "/var/run/contiv/cni.sock"
DEFAULT_AGENT_TIMEOUT = 30.0
MIN_MTU, MAX_MTU = 68, 65535
MAX_IFNAME_LEN = 15

# Container IDs and network names: an alphanumeric first character, then
# alphanumerics, '_', '.' or '-' (spec 1.1.0, "Parameters" and "Configuration").
_NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.\-]*\Z")
# CNI_ARGS keys this plugin maps onto dedicated request fields.
POD_ARG_KEYS = ("K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_UID")
# Both spellings of the GC list: the 1.1.0 text says `cni.dev/attachments`,
# libcni (and later spec text) uses `cni.dev/valid-attachments` and sends both.
GC_ATTACHMENT_KEYS = ("cni.dev/valid-attachments", "cni.dev/attachments")


class CNIError(Exception):
    """An error to print as the spec's error result and exit non-zero with."""

    def __init__(self, code: int, msg: str, details: str = "") -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.details = details


# NamedTuples rather than dataclasses: `import dataclasses` pulls in
# `inspect`, about 13 ms of start-up for the VERSION path.
class Env(NamedTuple):
    command: str
    container_id: str
    netns: str
    ifname: str
    pod_args: dict[str, str]
    extra_args: dict[str, str]


class Attachment(NamedTuple):
    container_id: str
    ifname: str


class NetConf(NamedTuple):
    raw: bytes
    cni_version: str
    name: str
    agent_socket: str
    agent_timeout: float
    log_file: str
    mtu: int
    prev_result: dict[str, Any] | None
    attachments: tuple[Attachment, ...]


def parse_command(environ: dict[str, str] | Any) -> str:
    command = environ.get("CNI_COMMAND", "")
    if not command:
        raise CNIError(INVALID_ENV, "required env variable CNI_COMMAND is missing")
    if command not in COMMANDS:
        raise CNIError(INVALID_ENV, f"CNI_COMMAND has an unknown value {command!r}",
                       f"expected one of {', '.join(COMMANDS)}")
    return command


def _required(environ: Any, name: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise CNIError(INVALID_ENV, f"required env variable {name} is missing")
    return value


def validate_container_id(value: str) -> None:
    if not _NAME_RE.match(value):
        raise CNIError(INVALID_ENV, "CNI_CONTAINERID has invalid characters",
                       f"{value!r}: must start with an alphanumeric character, "
                       "followed by alphanumerics, '_', '.' or '-'")


def validate_ifname(value: str) -> None:
    problem = ""
    if len(value) > MAX_IFNAME_LEN:
        problem = f"longer than {MAX_IFNAME_LEN} characters"
    elif value in (".", ".."):
        problem = "'.' or '..'"
    elif any(c in "/:" or c.isspace() for c in value):
        problem = "contains '/', ':' or whitespace"
    if problem:
        raise CNIError(INVALID_ENV, f"CNI_IFNAME is invalid: {problem}", repr(value))


def parse_cni_args(raw: str) -> tuple[dict[str, str], dict[str, str]]:
    """Split CNI_ARGS ("K=V;K2=V2") into the pod keys and the rest."""
    pod: dict[str, str] = {}
    extra: dict[str, str] = {}
    for pair in raw.split(";"):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CNIError(INVALID_ENV, f"CNI_ARGS has an invalid pair {pair!r}", "expected KEY=VALUE;KEY=VALUE")
        (pod if key in POD_ARG_KEYS else extra)[key] = value
    return pod, extra


def parse_env(environ: Any, command: str) -> Env:
    """The per-attachment variables the command needs (spec 1.1.0, section 2).

    DEL does not require CNI_NETNS: the namespace may already be gone and the
    agent must still release what the container held."""
    if command not in ("ADD", "DEL", "CHECK"):
        return Env(command, "", "", "", {}, {})
    container_id = _required(environ, "CNI_CONTAINERID")
    netns = _required(environ, "CNI_NETNS") if command != "DEL" else environ.get("CNI_NETNS", "")
    ifname = _required(environ, "CNI_IFNAME")
    validate_container_id(container_id)
    validate_ifname(ifname)
    pod, extra = parse_cni_args(environ.get("CNI_ARGS", ""))
    return Env(command=command, container_id=container_id, netns=netns, ifname=ifname,
               pod_args=pod, extra_args=extra)


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def decode_config(raw: bytes) -> dict[str, Any]:
    try:
        config = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CNIError(DECODE_FAILURE, "network config on stdin is not valid JSON", str(exc)) from exc
    if not isinstance(config, dict):
        raise CNIError(DECODE_FAILURE, "network config on stdin is not a JSON object",
                       f"got {type(config).__name__}")
    return config


def check_version(config: dict[str, Any], command: str) -> str:
    version = config.get("cniVersion")
    if version is None or version == "":
        raise CNIError(INVALID_CONFIG, "network config is missing cniVersion")
    if not isinstance(version, str):
        raise CNIError(INVALID_CONFIG, "network config field cniVersion must be a string")
    if version not in SUPPORTED_VERSIONS:
        raise CNIError(INCOMPATIBLE_VERSION, f"incompatible CNI version {version}",
                       f"supported versions: {', '.join(SUPPORTED_VERSIONS)}")
    since = COMMAND_SINCE.get(command)
    if since and _version_tuple(version) < _version_tuple(since):
        raise CNIError(INCOMPATIBLE_VERSION, f"config version {version} does not allow {command}",
                       f"{command} needs cniVersion {since} or later")
    return version


def _name(config: dict[str, Any]) -> str:
    name = config.get("name")
    if name is None or name == "":
        raise CNIError(INVALID_CONFIG, "network config is missing name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise CNIError(INVALID_CONFIG, "network config field name is invalid",
                       f"{name!r}: must start with an alphanumeric character, "
                       "followed by alphanumerics, '_', '.' or '-'")
    return name


def _agent_socket(config: dict[str, Any]) -> str:
    # `grpcServer` is the Contiv-VPP spelling; `agentSocket` says what it is.
    given = {key: config[key] for key in ("agentSocket", "grpcServer") if config.get(key) is not None}
    if len(given) > 1:
        raise CNIError(INVALID_CONFIG, "network config has both agentSocket and grpcServer", "give only one")
    if not given:
        return DEFAULT_AGENT_SOCKET
    key, value = given.popitem()
    if isinstance(value, str) and value.startswith("unix:"):
        value = value[len("unix:"):]
        if value.startswith("//"):
            value = value[2:]
    if not isinstance(value, str) or not value.startswith("/"):
        raise CNIError(INVALID_CONFIG, f"network config field {key} must be an absolute unix socket path",
                       repr(config[key]))
    return value


def _is_number(value: Any) -> bool:
    # bool is an int subclass, but `true` is not a number in the config.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _agent_timeout(config: dict[str, Any]) -> float:
    value = config.get("agentTimeout")
    if value is None:
        return DEFAULT_AGENT_TIMEOUT
    if not _is_number(value) or not value > 0:
        raise CNIError(INVALID_CONFIG, "network config field agentTimeout must be a positive number of seconds",
                       repr(value))
    return float(value)


def _mtu(config: dict[str, Any]) -> int:
    value = config.get("mtu")
    if value is None:
        return 0
    if not _is_number(value) or value != int(value) or not MIN_MTU <= value <= MAX_MTU:
        raise CNIError(INVALID_CONFIG, f"network config field mtu must be an integer from {MIN_MTU} to {MAX_MTU}",
                       repr(value))
    return int(value)


def _log_file(config: dict[str, Any]) -> str:
    value = config.get("logFile", "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CNIError(INVALID_CONFIG, "network config field logFile must be a string", repr(value))
    return value


def _prev_result(config: dict[str, Any]) -> dict[str, Any] | None:
    prev = config.get("prevResult")
    if prev is None:
        return None
    if not isinstance(prev, dict):
        raise CNIError(INVALID_CONFIG, "network config field prevResult must be an object")
    for key in ("interfaces", "ips", "routes"):
        entries = prev.get(key)
        if entries is not None and not (isinstance(entries, list) and all(isinstance(e, dict) for e in entries)):
            raise CNIError(INVALID_CONFIG, f"prevResult.{key} must be a list of objects")
    if prev.get("dns") is not None and not isinstance(prev["dns"], dict):
        raise CNIError(INVALID_CONFIG, "prevResult.dns must be an object")
    return prev


def _attachments(config: dict[str, Any]) -> tuple[Attachment, ...]:
    present = [key for key in GC_ATTACHMENT_KEYS if key in config]
    if not present:
        # Absent (not merely empty) would make the agent forget every
        # attachment of the network; refuse rather than guess.
        raise CNIError(INVALID_CONFIG, f"GC network config is missing {GC_ATTACHMENT_KEYS[0]}")
    key = present[0]
    entries = config[key]
    if entries is None:
        # libcni sends null when the runtime knows of no attachment.
        return ()
    if not isinstance(entries, list):
        raise CNIError(INVALID_CONFIG, f"network config field {key} must be a list")
    attachments = []
    for index, entry in enumerate(entries):
        container_id = entry.get("containerID") if isinstance(entry, dict) else None
        ifname = entry.get("ifname") if isinstance(entry, dict) else None
        if not isinstance(container_id, str) or not isinstance(ifname, str) or not container_id or not ifname:
            raise CNIError(INVALID_CONFIG, f"{key}[{index}] needs string containerID and ifname", repr(entry))
        attachments.append(Attachment(container_id, ifname))
    return tuple(attachments)


def parse_config(raw: bytes, config: dict[str, Any], command: str) -> NetConf:
    """Validate the decoded config for `command`; `raw` travels to the agent."""
    version = check_version(config, command)
    return NetConf(
        raw=raw,
        cni_version=version,
        name=_name(config),
        agent_socket=_agent_socket(config),
        agent_timeout=_agent_timeout(config),
        log_file=_log_file(config),
        mtu=_mtu(config),
        prev_result=_prev_result(config) if command in ("ADD", "DEL", "CHECK") else None,
        attachments=_attachments(config) if command == "GC" else (),
    )
