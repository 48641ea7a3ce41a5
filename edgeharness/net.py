"""Ports on 127.0.0.1: every server the harness starts listens there and nowhere else."""

from __future__ import annotations

import http.client
import socket

# Every port this process has handed out. The kernel may give the same free port to two
# bind(0) calls in a row once the first socket is closed; two sites of one server config
# on one port make nginx answer both with the first site (a test then sees the wrong
# headers), so a port is never handed out twice by one process.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now and new to this process.

    The socket is closed before the port is used, so another process could take it in
    between; callers that bind later retry or report clearly.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def answers_ok(port: int, path: str) -> bool:
    """Whether GET ``path`` on 127.0.0.1:``port`` answers 200 right now.

    http.client rather than httpx: no proxy settings from the environment, and no TLS
    context built per call (every server here is plain http on this machine).
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
