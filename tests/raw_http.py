"""Requests sent byte for byte, where httpx would change them.

httpx upper-cases every method (``getaway`` goes out as ``GETAWAY``); a browser sends every
method but the six Fetch normalises as the page wrote it, and so must these tests.
"""

from __future__ import annotations

import http.client
import urllib.parse
import uuid

from corsgen.compare import Observed
from corsgen.evaluate import Request
from edgeharness.upstream import TEST_ID_HEADER
from tests.edge_servers import Edge


def send_as_written(
    edge: Edge, request: Request, extra_headers: tuple[tuple[str, str], ...] = ()
) -> Observed:
    """Send ``request`` to the edge's proxied location exactly as written.

    The caller must have loaded the policy and had one answer from the new configuration
    (``Edge.exchange`` waits for it); ``reached_upstream`` comes from the upstream's record.
    """
    request_id = f"{edge.name}-as-written-{uuid.uuid4().hex}"
    address = urllib.parse.urlsplit(edge.base_url)
    status, headers, body = send(
        address.hostname or "127.0.0.1",
        address.port or 80,
        request,
        f"/u/{request_id}",
        (*extra_headers, (TEST_ID_HEADER, request_id)),
    )
    return Observed(
        status=status,
        headers=headers,
        body=body,
        reached_upstream=edge.upstream.reached(request_id),
    )


def send(
    host: str,
    port: int,
    request: Request,
    path: str,
    extra_headers: tuple[tuple[str, str], ...] = (),
) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """(status, headers, body) of ``request`` sent to ``host:port`` with its method as written."""
    connection = http.client.HTTPConnection(host, port, timeout=10.0)
    try:
        connection.putrequest(request.method, path, skip_accept_encoding=True)
        for name, value in [*request.header_lines(), *extra_headers]:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, tuple(response.getheaders()), response.read()
    finally:
        connection.close()
