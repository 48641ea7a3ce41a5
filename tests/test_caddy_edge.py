"""Caddy's own answers keep the policy's headers: 502 when the upstream is down, 401 of
basic_auth; the upstream's CORS headers never appear twice. A real Caddy on 127.0.0.1.

The request matrix and the differential tests cover the rest on every edge; these are the
rows that rest on how Caddy writes its error responses (docs/caddy.md): the snippet's
header lines without defer are in the response before reverse_proxy or basic_auth fail,
and Caddy keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from corsgen.compare import differences
from corsgen.evaluate import Request, evaluate
from corsgen.render import render
from edgeharness.availability import require_installed
from edgeharness.upstream import Upstream
from tests.conftest import parse
from tests.edge_servers import CaddyEdge, Edge, running, starter_policy

APP = "https://app.example.com"
POLICY = f"""\
version: 1
name: caddy-errors
origins: [{APP}]
allow_credentials: true
expose_headers: [X-Request-Id]
"""


class CaddyWithoutUpstream(CaddyEdge):
    name = "caddy-down"
    upstream_down = True


@pytest.fixture(scope="module")
def caddy_down(upstream: Upstream) -> Iterator[Edge]:
    require_installed(CaddyEdge.server)
    edge = CaddyWithoutUpstream(upstream)
    yield from running(edge, edge.render_files(starter_policy()))


def exchange(edge: Edge, request: Request, location: str = "proxy"):
    with httpx.Client(timeout=10.0) as client:
        return edge.exchange(client, request, location=location).observed


def header_values(observed, name: str) -> list[str]:
    return [value for key, value in observed.headers if key.lower() == name.lower()]


def test_caddys_own_502_carries_the_headers_of_an_allowed_origin(caddy_down: Edge):
    caddy_down.load(render(parse(POLICY), "caddy").files)
    observed = exchange(caddy_down, Request("GET", APP))
    assert observed.status == 502
    assert header_values(observed, "Access-Control-Allow-Origin") == [APP]
    assert header_values(observed, "Access-Control-Allow-Credentials") == ["true"]
    assert header_values(observed, "Access-Control-Expose-Headers") == ["X-Request-Id"]
    assert "Origin" in ", ".join(header_values(observed, "Vary"))


def test_caddys_own_502_for_a_not_allowed_origin_has_no_cors_headers(caddy_down: Edge):
    caddy_down.load(render(parse(POLICY), "caddy").files)
    observed = exchange(caddy_down, Request("GET", "https://evil.example"))
    assert observed.status == 502
    assert not [key for key, _ in observed.headers if key.lower().startswith("access-control-")]
    assert "Origin" in ", ".join(header_values(observed, "Vary"))


def test_preflights_are_answered_even_when_the_upstream_is_down(caddy_down: Edge):
    caddy_down.load(render(parse(POLICY), "caddy").files)
    policy = parse(POLICY)
    for request in (
        Request("OPTIONS", APP, "PUT"),
        Request("OPTIONS", "https://evil.example", "PUT"),
    ):
        observed = exchange(caddy_down, request)
        assert differences(evaluate(policy, request), observed) == []


def test_the_401_of_basic_auth_carries_the_headers_and_the_preflight_passes_it(caddy_edge: Edge):
    caddy_edge.load(render(parse(POLICY), "caddy").files)
    denied = exchange(caddy_edge, Request("GET", APP), location="auth")
    assert denied.status == 401
    assert header_values(denied, "Access-Control-Allow-Origin") == [APP]
    assert header_values(denied, "Www-Authenticate")  # basic_auth's own answer
    preflight = exchange(caddy_edge, Request("OPTIONS", APP, "PUT"), location="auth")
    assert preflight.status == 204 and preflight.reached_upstream is None


def test_the_upstreams_cors_headers_are_replaced_once_each(caddy_edge: Edge):
    # The upstream stub sends CORS headers of its own on every answer.
    caddy_edge.load(render(parse(POLICY), "caddy").files)
    observed = exchange(caddy_edge, Request("GET", APP), location="proxy")
    assert observed.reached_upstream
    for name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"):
        assert len(header_values(observed, name)) == 1, name
    for name in ("Access-Control-Allow-Methods", "Access-Control-Max-Age"):
        assert header_values(observed, name) == [], name
