"""A tiny TCP echo server and prober, to run inside lab pods.

    python -m lab.tcpecho serve --port 8080
    python -m lab.tcpecho probe HOST PORT [--count N] [--interval S]

`probe` opens a new connection per attempt, sends a line and expects it
back; it prints one JSON summary line: {"ok": n, "failed": n, "errors": [...]}.
"""

from __future__ import annotations

import argparse
import json
import socket
import socketserver
import sys
import time


class _Echo(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for line in self.rfile:
            self.wfile.write(line)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(port: int, host: str = "0.0.0.0") -> None:
    with _Server((host, port), _Echo) as server:
        print(f"listening on {host}:{port}", flush=True)
        server.serve_forever()


def probe_once(host: str, port: int, timeout: float) -> str | None:
    """None on success, else what went wrong."""
    payload = f"probe {time.monotonic_ns()}\n".encode()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(payload)
            received = b""
            while not received.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if received == payload else f"bad echo {received!r}"


def probe(host: str, port: int, count: int, interval: float, timeout: float) -> dict[str, object]:
    ok, errors = 0, []
    for i in range(count):
        error = probe_once(host, port, timeout)
        if error is None:
            ok += 1
        else:
            errors.append(error)
        if i + 1 < count:
            time.sleep(interval)
    return {"ok": ok, "failed": len(errors), "errors": errors[:10]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.tcpecho")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, default=8080)
    p = sub.add_parser("probe")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--interval", type=float, default=0.0)
    p.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port)
        return 0
    result = probe(args.host, args.port, args.count, args.interval, args.timeout)
    print(json.dumps(result), flush=True)
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
