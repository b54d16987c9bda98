"""`python -m lab.vpp_standin.vppexec -c startup.conf`: the stand-in behind VPP's command line.

For testing code that starts and supervises VPP as a process: it reads the
same startup.conf, serves the API on the socket `socksvr { socket-name ... }`
names and fails, exits and cleans up the way VPP does. Everything else in the
file is parsed for syntax only.

Environment: CONTIV_STANDIN_APIDIR (the .api.json folder, default
shared/vpp-api beside the checkout) and CONTIV_STANDIN_VHOST_NET (yes, no or auto).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from pathlib import Path

import click

from .cli import _VHOST_CHOICES, run_standin
from .config import StandinConfig

# shared/ beside the checkout.
DEFAULT_APIDIR = Path(__file__).resolve().parents[2].parent / "shared" / "vpp-api"
DEFAULT_API_SOCKET = Path("/run/vpp/api.sock")

# A section body: words and nested bodies, e.g. `plugin x { enable }` is
# ["plugin", "x", ["enable"]].
Body = list["str | Body"]

_TOKEN = re.compile(r"[{}]|[^\s{}#]+|#[^\n]*|\n")


class ConfigError(ValueError):
    pass


def parse_startup_conf(text: str, source: str = "startup.conf") -> dict[str, Body]:
    """Top-level `name { ... }` sections of VPP's startup.conf syntax."""
    line = 1
    stack: list[Body] = []
    sections: dict[str, Body] = {}
    name: str | None = None
    opened_at = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
        elif token.startswith("#"):
            continue
        elif token == "{":
            if not stack and name is None:
                raise ConfigError(f"{source}:{line}: '{{' without a section name")
            if not stack:
                opened_at = line
            body: Body = []
            if stack:
                stack[-1].append(body)
            else:
                assert name is not None
                if name in sections:
                    raise ConfigError(f"{source}:{line}: section '{name}' given twice")
                sections[name] = body
            stack.append(body)
        elif token == "}":
            if not stack:
                raise ConfigError(f"{source}:{line}: unexpected '}}'")
            stack.pop()
            if not stack:
                name = None
        elif stack:
            stack[-1].append(token)
        elif name is None:
            name = token
        else:
            raise ConfigError(f"{source}:{line}: section '{name}' must be followed by '{{', not '{token}'")
    if stack:
        raise ConfigError(f"{source}:{opened_at}: section opened here is never closed")
    if name is not None:
        raise ConfigError(f"{source}:{line}: section '{name}' has no body")
    return sections


def api_socket_of(sections: dict[str, Body]) -> Path:
    body = sections.get("socksvr", [])
    for index, word in enumerate(body):
        if word == "default":
            return DEFAULT_API_SOCKET
        if word == "socket-name":
            value = body[index + 1] if index + 1 < len(body) else None
            if not isinstance(value, str):
                raise ConfigError("socksvr: socket-name needs a path")
            return Path(value)
    return DEFAULT_API_SOCKET


def _exit_on_signal(signum: int, frame: object) -> None:
    # Until the event loop takes over the signals (loading the API
    # definitions takes a while), a stop request still means a clean exit.
    raise SystemExit(0)


@click.command(help="Run the VPP stand-in the way VPP runs: from a startup.conf.")
@click.option("-c", "config_path", required=True, type=click.Path(path_type=Path), help="startup.conf to read.")
@click.option("--log-level", default="WARNING", show_default=True)
def main(config_path: Path, log_level: str) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        text = config_path.read_text()
    except OSError as exc:
        click.echo(f"vpp: open configuration file '{config_path}' failed: {exc.strerror}", err=True)
        sys.exit(1)
    try:
        socket_path = api_socket_of(parse_startup_conf(text, str(config_path)))
    except ConfigError as exc:
        click.echo(f"vpp: {exc}", err=True)
        sys.exit(1)
    vhost = os.environ.get("CONTIV_STANDIN_VHOST_NET", "auto")
    if vhost not in _VHOST_CHOICES:
        click.echo(f"vpp: CONTIV_STANDIN_VHOST_NET must be yes, no or auto, not {vhost!r}", err=True)
        sys.exit(1)
    apidir = Path(os.environ.get("CONTIV_STANDIN_APIDIR", DEFAULT_APIDIR))
    if not apidir.is_dir():
        click.echo(f"vpp: API definitions folder {apidir} does not exist", err=True)
        sys.exit(1)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_on_signal)
    try:
        asyncio.run(run_standin(socket_path, apidir, StandinConfig(vhost_net=_VHOST_CHOICES[vhost]), None))
    finally:
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()


if __name__ == "__main__":
    main(prog_name="vpp")
