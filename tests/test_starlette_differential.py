"""Starlette's own CORSMiddleware and corsgen's edges, side by side over the same requests.

For each case a FastAPI application with ``app.add_middleware(CORSMiddleware, ...)`` is
written to a file, served by uvicorn on 127.0.0.1, and translated by ``corsgen init
--from-fastapi``'s translator into a policy that real nginx, Apache, HAProxy and Caddy load.
Every request goes to the app and to each edge; what a browser acts on (status class,
``Access-Control-*`` headers, ``Vary``) is compared, and every difference must be one that
docs/migrating-from-fastapi.md lists on purpose — and every difference listed there must be
found here (issue 18 item 5).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from corsgen.evaluate import Request, split_list
from corsgen.from_fastapi import translate_fastapi
from edgeharness.apps import UvicornApp
from tests.edge_servers import Edge
from tests.raw_http import send, send_as_written
from tests.test_init import FASTAPI_DOCS_SETTINGS

pytestmark = pytest.mark.slow

MIGRATING = Path(__file__).resolve().parent.parent / "docs" / "migrating-from-fastapi.md"

APP_SOURCE = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse

app = FastAPI()
app.add_middleware(CORSMiddleware, {settings})

METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]


@app.get("/health")
def health() -> dict:
    return {{"status": "ok"}}


@app.api_route("/u/{{rest:path}}", methods=METHODS)
def answer(rest: str) -> PlainTextResponse:
    return PlainTextResponse("ok")
"""

CASES = {
    "fastapi-docs": FASTAPI_DOCS_SETTINGS,
    "explicit-lists": {
        "allow_origins": ["https://app.example.com"],
        "allow_origin_regex": r"https://pr-[0-9]+\.preview\.example\.dev",
        "allow_methods": ["GET", "POST", "PUT"],
        "allow_headers": ["Authorization", "X-Trace-Id"],
        "expose_headers": ["X-Request-Id"],
        "max_age": 3600,
    },
    "any-origin": {
        "allow_origins": ["*"],
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["Authorization"],
    },
}
ALLOWED = {
    "fastapi-docs": "http://localhost:8080",
    "explicit-lists": "https://pr-7.preview.example.dev",
    "any-origin": "https://app.example.com",
}
OTHER = "https://evil.example"


Headers = tuple[tuple[str, str], ...]


def requests_for(allowed: str) -> list[tuple[str, str, Request, Headers]]:
    """(whose origin, label, request, extra header lines) for one case."""
    cookie: Headers = (("Cookie", "session=1"),)
    cases: list[tuple[str, str, Request, Headers]] = []
    for who, origin in (("allowed", allowed), ("other", OTHER)):
        cases += [
            (who, f"{who} GET", Request("GET", origin), ()),
            (who, f"{who} GET with a cookie", Request("GET", origin), cookie),
            (who, f"{who} POST", Request("POST", origin), ()),
            (who, f"{who} preflight PUT", Request("OPTIONS", origin, "PUT"), ()),
            (
                who,
                f"{who} preflight with headers",
                Request("OPTIONS", origin, "POST", "authorization, x-other"),
                (),
            ),
            (who, f"{who} preflight PATCH", Request("OPTIONS", origin, "PATCH"), ()),
            (
                who,
                f"{who} preflight private network",
                Request("OPTIONS", origin, "GET", request_private_network="true"),
                (),
            ),
            (who, f"{who} OPTIONS without request method", Request("OPTIONS", origin), ()),
        ]
    cases += [
        ("none", "no Origin GET", Request("GET"), ()),
        ("none", "no Origin OPTIONS", Request("OPTIONS", request_method="GET"), ()),
    ]
    return cases


ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"
ACAM = "access-control-allow-methods"
ACEH = "access-control-expose-headers"
ACRPN_VARY = "access-control-request-private-network"
# Compared as sets: order and (for header names) case carry no meaning (spec section 4).
LISTS = {ACAM: False, "access-control-allow-headers": True, ACEH: True}


@dataclass(frozen=True)
class View:
    """What a browser acts on: the status, the Access-Control-* values, the Vary tokens."""

    status: int
    cors: dict[str, object]
    vary: frozenset[str]

    @classmethod
    def of(cls, status: int, headers: tuple[tuple[str, str], ...]) -> View:
        cors: dict[str, object] = {}
        for name, value in headers:
            lower = name.lower()
            if lower in LISTS:
                fold = LISTS[lower]
                cors[lower] = frozenset(
                    item.lower() if fold else item for item in split_list(value)
                )
            elif lower.startswith("access-control-"):
                cors[lower] = value
        vary = frozenset(
            token.lower()
            for name, value in headers
            if name.lower() == "vary"
            for token in split_list(value)
        )
        return cls(status, cors, vary)


# Each difference on purpose, by the first cell of its row in the table of
# docs/migrating-from-fastapi.md, "Behaviour after the move".
ALLOWED_PREFLIGHT = "allowed preflight"
REFUSED_ORIGIN = "preflight from an origin not allowed"
REFUSED_METHOD_OR_HEADERS = "preflight asking for a method or header not allowed"
PRIVATE_NETWORK = "preflight with `Access-Control-Request-Private-Network` when not enabled"
PREFLIGHT_VARY = "`Vary` on preflight answers"
STAR_METHODS = '`allow_methods=["*"]`'
OTHER_ORIGIN_HEADERS = "response to an origin not allowed"
ANY_ORIGIN_WITHOUT_ORIGIN = '`allow_origins=["*"]`, request without `Origin`'
ANY_ORIGIN_VARY = '`allow_origins=["*"]`, `Vary` on responses'


def documented_rows(case: str, who: str, request: Request, theirs: View, ours: View) -> set[str]:
    """The documented difference each departure of ``ours`` from ``theirs`` is, by its row.

    A departure no row explains comes back as ``"undocumented: ..."``.
    """
    rows: set[str] = set()
    preflight = request.is_preflight
    any_origin = CASES[case].get("allow_origins") == ["*"]

    def undocumented(what: str) -> str:
        return f"undocumented: {what} (Starlette {theirs}, corsgen {ours})"

    if theirs.status != ours.status:
        if preflight and (theirs.status, ours.status) == (200, 204):
            rows.add(ALLOWED_PREFLIGHT)
        elif preflight and (theirs.status, ours.status) == (400, 403):
            rows.add(REFUSED_ORIGIN)
        elif preflight and (theirs.status, ours.status) == (400, 204):
            rows.add(
                PRIVATE_NETWORK if request.request_private_network else REFUSED_METHOD_OR_HEADERS
            )
        else:
            rows.add(undocumented("status"))
    for name in sorted(set(theirs.cors) | set(ours.cors)):
        if theirs.cors.get(name) == ours.cors.get(name):
            continue
        only_starlette = name not in ours.cors
        if preflight and ours.status == 403 and only_starlette:
            rows.add(REFUSED_ORIGIN)
        elif preflight and name == ACAM and CASES[case].get("allow_methods") == ["*"]:
            rows.add(STAR_METHODS)
        elif not preflight and who == "other" and only_starlette and name in (ACAC, ACEH):
            rows.add(OTHER_ORIGIN_HEADERS)
        elif not preflight and who == "none" and any_origin and name == ACAO and not only_starlette:
            rows.add(ANY_ORIGIN_WITHOUT_ORIGIN)
        else:
            rows.add(undocumented(name))
    for token in sorted(theirs.vary ^ ours.vary):
        if preflight and token == ACRPN_VARY and token in theirs.vary:
            rows.add(PREFLIGHT_VARY)
        elif not preflight and any_origin and token == "origin" and token in theirs.vary:
            rows.add(ANY_ORIGIN_VARY)
        else:
            rows.add(undocumented(f"Vary {token}"))
    return rows


def table_rows(markdown: str, heading: str) -> set[str]:
    """The first cells of the first table under ``heading`` (its header row excluded)."""
    rows: list[str] = []
    for line in markdown.split(heading, 1)[1].splitlines():
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    return {row.split("|")[1].strip() for row in rows[2:]}


@pytest.fixture(scope="module")
def starlette_apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, UvicornApp]]:
    apps: dict[str, UvicornApp] = {}
    try:
        for case, settings in CASES.items():
            directory = tmp_path_factory.mktemp(case)
            keywords = ", ".join(f"{key}={value!r}" for key, value in settings.items())
            (directory / "cors_app.py").write_text(APP_SOURCE.format(settings=keywords))
            app = UvicornApp(directory / "uvicorn.log", directory, "cors_app:app")
            app.start()
            apps[case] = app
        yield apps
    finally:
        for app in apps.values():
            app.stop()


def test_every_difference_from_starlettes_middleware_is_one_the_migration_guide_lists(
    starlette_apps: dict[str, UvicornApp],
    nginx_edge: Edge,
    apache_edge: Edge,
    haproxy_edge: Edge,
    caddy_edge: Edge,
) -> None:
    found: dict[str, list[str]] = {}
    for case, app in starlette_apps.items():
        source_path = app.app_dir / "cors_app.py"
        translation = translate_fastapi(
            source_path.read_text(), source_path, Path(f"{case}.yaml"), case
        )
        for edge in (nginx_edge, apache_edge, haproxy_edge, caddy_edge):
            edge.load(edge.render_files(translation.policy))
            with httpx.Client(timeout=10.0) as client:
                edge.exchange(client, Request("GET"))  # the new configuration answers
            for who, label, request, extra in requests_for(ALLOWED[case]):
                status, headers, _ = send("127.0.0.1", app.port, request, "/u/x", extra)
                observed = send_as_written(edge, request, extra)
                theirs = View.of(status, headers)
                ours = View.of(observed.status, observed.headers)
                for row in documented_rows(case, who, request, theirs, ours):
                    found.setdefault(row, []).append(f"{case} / {edge.name} / {label}")
    undocumented = sorted(
        f"{row}: {where[0]}" for row, where in found.items() if row.startswith("undocumented")
    )
    assert not undocumented, "\n".join(undocumented)
    listed = table_rows(MIGRATING.read_text(), "## Behaviour after the move")
    assert set(found) == listed, (
        f"found but not listed: {sorted(set(found) - listed)}; "
        f"listed but not found: {sorted(listed - set(found))}"
    )
