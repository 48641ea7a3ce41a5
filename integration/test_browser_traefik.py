"""The browser tests of test_browser.py through a real Traefik (docs/traefik.md).

Headless Chromium makes the same calls from the same pages as for nginx, Apache and
HAProxy, to the same policies served by Traefik: its verdicts must follow the policy.
The "regex" policy of test_browser.py reflects the request's headers
(``allow_headers: "*"``), which Traefik refuses; it is checked refused, and the browser
calls go to the "app" and "wildcard" policies. Teeth: the rendering broken by hand the
way docs/traefik.md warns against (the operator's authentication before corsgen's
middleware) makes the browser refuse the 401 it read through corsgen's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgeharness.upstream import Upstream
from integration.edge import EdgeServer, Site, render
from integration.test_browser import (  # noqa: F401 (the module's fixtures)
    POLICY_TEXTS,
    VERDICT_PARAMS,
    Case,
    Frontend,
    LoadedPolicy,
    Pages,
    assert_refused_by_cors,
    call,
    frontend,
    image,
    live_site,
    needs_browser,
    pages,
    policies,
)
from integration.test_browser import test_browser_verdict_follows_the_policy as verdict_test

pytestmark = pytest.mark.slow

REFUSED = "regex"  # allow_headers: "*"
KEYS = ["app", "wildcard"]


@pytest.fixture(scope="module")
def edge_server(traefik_server: EdgeServer) -> EdgeServer:
    return traefik_server


@pytest.fixture(scope="module")
def sites(
    traefik_server: EdgeServer,
    policies: dict[str, LoadedPolicy],  # noqa: F811
) -> Iterator[dict[str, Site]]:
    """The policies Traefik expresses, live on it (one reload), unloaded afterwards."""
    loaded = traefik_server.load_many([policies[key].path for key in KEYS])
    yield dict(zip(KEYS, loaded, strict=True))
    traefik_server.unload(*(site.name for site in loaded))


def test_the_browser_policy_that_reflects_headers_is_refused_for_traefik(
    policies: dict[str, LoadedPolicy],  # noqa: F811
    tmp_path: Path,
) -> None:
    proc = render(policies[REFUSED].path, "traefik", tmp_path)
    assert proc.returncode == 1
    assert 'uses allow_headers: "*", which --target traefik cannot express' in proc.stderr


@needs_browser
@pytest.mark.parametrize(
    ("key", "page", "case"), [param for param in VERDICT_PARAMS if param.values[0] != REFUSED]
)
def test_browser_verdict_follows_the_policy_through_traefik(
    edge_server: EdgeServer,
    sites: dict[str, Site],
    policies: dict[str, LoadedPolicy],  # noqa: F811
    pages: Pages,  # noqa: F811
    frontend: Frontend,  # noqa: F811
    predict_stub: Upstream,
    image: Path,  # noqa: F811
    key: str,
    page: str,
    case: Case,
) -> None:
    verdict_test(
        edge_server, sites, policies, pages, frontend, predict_stub, image, key, page, case
    )


AUTH_ERROR = Case("auth-error", path="/private/model", status=401, stub_answers=False)


def auth_before_cors(text: str) -> str:
    """The forwarding routers' chains with the operator's basicAuth moved before corsgen's
    middleware: its 401 is written outside it, without the CORS headers."""
    edited, count = re.subn(
        r'^( +)- "(corsgen-[a-z0-9_]+-(?:allowed|other))"\n\1- "auth"$',
        r'\1- "auth"\n\1- "\2"',
        text,
        flags=re.MULTILINE,
    )
    assert count or '- "auth"' not in text, "the rendering no longer lists auth after corsgen's"
    return edited


@needs_browser
def test_authentication_before_corsgens_middleware_makes_the_browser_refuse_the_401(
    edge_server: EdgeServer,
    sites: dict[str, Site],
    pages: Pages,  # noqa: F811
    frontend: Frontend,  # noqa: F811
    predict_stub: Upstream,
    image: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    origin = pages.origin("localhost")
    before = call(
        frontend, predict_stub, live_site(edge_server, sites, "app"), origin, AUTH_ERROR, image
    )
    assert before.result.ok and before.result.status == 401, before.describe()

    policy = tmp_path / "browser-auth-first.yaml"
    policy.write_text(
        POLICY_TEXTS["app"].format(a=pages.a).replace("browser-app", "browser-auth-first")
    )
    [broken] = edge_server.load_many([policy], edit=auth_before_cors)
    try:
        after = call(frontend, predict_stub, broken, origin, AUTH_ERROR, image)
    finally:
        edge_server.unload(broken.name)
    context = f"traefik, auth before corsgen's middleware:\n{after.describe()}"
    assert_refused_by_cors(after.result, context)
    assert "No 'Access-Control-Allow-Origin' header is present" in (after.result.cors_refusal or "")
