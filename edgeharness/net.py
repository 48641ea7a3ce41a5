"""Ports on 127.0.0.1: every server the harness starts listens there and nowhere else."""

from __future__ import annotations

import http.client
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now.

    The socket is closed before the port is used, so another process could take it in
    between; callers that bind later retry or report clearly.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
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
