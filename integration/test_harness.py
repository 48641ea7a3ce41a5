"""Smoke tests of the integration harness itself.

They use hand-written snippets (so they test the harness, not corsgen's
output), plus one load of the example policy through the real CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeharness.upstream import Upstream
from integration import http_client
from integration.edge import (
    HTPASSWD_PASSWORD,
    HTPASSWD_USER,
    STATIC_BODY,
    EdgeServer,
    EdgeServerError,
    Site,
)

pytestmark = pytest.mark.slow

EXAMPLE_POLICY = Path(__file__).resolve().parent.parent / "examples" / "predict-api.yaml"
# Smallest valid PNG-ish payload: the stub only counts bytes.
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def marker_snippets(target: str, name: str, marker: str) -> dict[str, str]:
    """Snippets of the right file names that only add an ``X-Harness`` header."""
    if target == "nginx":
        var = "$harness_" + name.replace("-", "_")
        return {
            f"{name}.http.conf": f'map $request_method {var} {{ default "{marker}"; }}\n',
            f"{name}.location.conf": f"add_header X-Harness {var} always;\n",
        }
    if target == "haproxy":
        return {f"{name}.haproxy.cfg": f'http-after-response set-header X-Harness "{marker}"\n'}
    if target == "caddy":
        return {f"{name}.caddy": f'header X-Harness "{marker}"\n'}
    if target == "envoy":
        return {f"{name}.envoy.yaml": envoy_part(f"{{key: X-Harness, value: '{marker}'}}")}
    return {f"{name}.conf": f'Header always set X-Harness "{marker}"\n'}


def envoy_part(header: str, append: str = "OVERWRITE_IF_EXISTS_OR_ADD") -> str:
    """A file of the three keys a rendered Envoy file has, adding one header only."""
    return (
        "http_filters: []\n"
        "virtual_host:\n"
        f"  response_headers_to_add:\n  - header: {header}\n    append_action: {append}\n"
        "local_reply_config: {mappers: []}\n"
    )


def load_marker(server: EdgeServer, name: str, marker: str) -> Site:
    return server.load_snippets(name, marker_snippets(server.target, name, marker))


def duplicate_acao_snippets(target: str, name: str) -> dict[str, str]:
    """Snippets that add an ACAO next to the upstream's own: two header lines."""
    acao = 'Access-Control-Allow-Origin "https://edge.test"'
    if target == "nginx":
        return {f"{name}.http.conf": "", f"{name}.location.conf": f"add_header {acao} always;\n"}
    if target == "haproxy":
        return {f"{name}.haproxy.cfg": f"http-after-response add-header {acao}\n"}
    if target == "caddy":
        return {f"{name}.caddy": f"header +{acao}\n"}
    if target == "envoy":
        header = "{key: Access-Control-Allow-Origin, value: 'https://edge.test'}"
        return {f"{name}.envoy.yaml": envoy_part(header, "APPEND_IF_EXISTS_OR_ADD")}
    return {f"{name}.conf": f"Header always add {acao}\n"}


def test_stub_answers_directly(predict_stub: Upstream, test_id: str) -> None:
    result = http_client.send(
        "POST",
        f"{predict_stub.url}/predict",
        files={"file": ("x.png", IMAGE, "image/png")},
        test_id=test_id,
    )
    assert result.status == 200, result.describe()
    body = result.json()
    assert body["bytes"] == len(IMAGE) and body["label"] and 0 < body["score"] <= 1, (
        result.describe()
    )
    assert result.header("x-request-id"), result.describe()
    assert result.vary() == ["accept-encoding"], result.describe()
    assert [(r["method"], r["path"]) for r in predict_stub.requests(test_id)] == [
        ("POST", "/predict")
    ]


def test_predict_through_edge(
    edge_server: EdgeServer, predict_stub: Upstream, test_id: str
) -> None:
    site = load_marker(edge_server, "harness-a", "one")
    result = site.post("/predict", files={"file": ("x.png", IMAGE, "image/png")}, test_id=test_id)
    assert result.status == 200, result.describe()
    assert result.json()["bytes"] == len(IMAGE), result.describe()
    assert result.header("X-Harness") == "one", result.describe()
    assert predict_stub.reached(test_id)

    for code in (201, 404, 503):
        result = site.request("PUT", f"/status/{code}")
        assert result.status == code, result.describe()
        assert result.header("X-Harness") == "one", result.describe()


def test_reload_takes_effect(edge_server: EdgeServer) -> None:
    first = load_marker(edge_server, "harness-b", "one")
    assert first.get("/health").header("X-Harness") == "one"
    second = load_marker(edge_server, "harness-b", "two")
    assert second.port == first.port and second.generation > first.generation
    result = second.get("/health")
    assert result.status == 200 and result.header("X-Harness") == "two", result.describe()
    assert http_client.send("GET", second.url("/__generation")).text.strip() == str(
        second.generation
    )


def test_several_sites_at_once(edge_server: EdgeServer) -> None:
    c = load_marker(edge_server, "harness-c", "c")
    d = load_marker(edge_server, "harness-d", "d")
    assert c.port != d.port
    assert c.get("/health").header("X-Harness") == "c"
    assert d.get("/health").header("X-Harness") == "d"
    edge_server.unload("harness-c", "harness-d")
    assert "harness-c" not in edge_server.sites


def test_private_location_needs_auth(edge_server: EdgeServer, predict_stub: Upstream) -> None:
    site = load_marker(edge_server, "harness-a", "one")
    denied = site.get("/private/thing")
    assert denied.status == 401, denied.describe()
    assert denied.has("www-authenticate"), denied.describe()
    assert not predict_stub.reached(denied.test_id)

    allowed = site.get("/private/thing", auth=(HTPASSWD_USER, HTPASSWD_PASSWORD))
    assert allowed.status == 200, allowed.describe()
    assert allowed.json()["path"] == "/private/thing", allowed.describe()
    assert predict_stub.reached(allowed.test_id)


def test_request_log_tells_edge_from_upstream(
    edge_server: EdgeServer, predict_stub: Upstream
) -> None:
    site = load_marker(edge_server, "harness-a", "one")
    proxied = site.request("DELETE", "/status/204")
    assert proxied.status == 204, proxied.describe()
    assert [(r["method"], r["path"]) for r in predict_stub.requests(proxied.test_id)] == [
        ("DELETE", "/status/204")
    ]
    # Served by the edge itself: never reaches the stub.
    static = site.get("/static/hello.txt")
    assert static.status == 200 and static.text == STATIC_BODY, static.describe()
    assert static.header("X-Harness") == "one", static.describe()
    assert not predict_stub.reached(static.test_id)


def test_duplicate_headers_stay_visible(edge_server: EdgeServer) -> None:
    site = edge_server.load_snippets(
        "harness-dup", duplicate_acao_snippets(edge_server.target, "harness-dup")
    )
    result = site.get("/with-cors", origin="https://app.example.com")
    if edge_server.target == "envoy":
        # Envoy appends to a header it keeps as one (ACAO is one of those) by joining the
        # values into one line: the browser sees the same two values.
        assert result.values("Access-Control-Allow-Origin") == ["*,https://edge.test"]
        edge_server.unload("harness-dup")
        return
    assert sorted(result.values("Access-Control-Allow-Origin")) == ["*", "https://edge.test"], (
        result.describe()
    )
    with pytest.raises(AssertionError, match="appears 2 times"):
        result.header("Access-Control-Allow-Origin")
    assert "< access-control-allow-origin: *" in result.describe().lower()
    edge_server.unload("harness-dup")


def test_broken_config_is_reported_and_rolled_back(edge_server: EdgeServer) -> None:
    good = load_marker(edge_server, "harness-a", "one")
    snippets = marker_snippets(edge_server.target, "harness-a", "one")
    broken = {name: text + "this is not a directive\n" for name, text in snippets.items()}
    with pytest.raises(EdgeServerError, match="config test failed"):
        edge_server.load_snippets("harness-a", broken)
    assert edge_server.generation == good.generation
    assert good.get("/health").header("X-Harness") == "one"


def test_example_policy_through_corsgen(edge_server: EdgeServer, predict_stub: Upstream) -> None:
    site = edge_server.load(EXAMPLE_POLICY)
    assert site.name == "predict-api"
    result = site.get("/health", origin="http://localhost:3000")
    assert result.status == 200, result.describe()
    assert predict_stub.reached(result.test_id)
