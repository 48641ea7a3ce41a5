"""The spec's request matrix for ``origins: ["*"]``, through nginx, Apache and HAProxy.

integration/policies/any-origin.yaml: every response, whatever its Origin (``null``
and lookalikes included, or none at all), carries ``Access-Control-Allow-Origin: *``
and the exposed headers; never credentials; the upstream's own CORS headers are
replaced. Preflights still list the seven methods (never ``*``) and reflect the
requested headers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edgeharness.upstream import Upstream
from integration.cors_matrix import (
    ACAC,
    ACAH,
    ACAM,
    ACAO,
    ACAPN,
    ACEH,
    ACMA,
    JSON_POST_HEADERS,
    POLICIES,
    STAR_METHODS,
    UNLISTED_HEADER,
    UNLISTED_METHOD,
    UPSTREAM_STATUSES,
    assert_cors_headers_are,
    assert_header,
    assert_list_header,
    assert_not_reached_upstream,
    assert_prediction,
    assert_reached_upstream,
    assert_status,
    assert_vary_includes,
    upload,
)
from integration.edge import HTPASSWD_PASSWORD, HTPASSWD_USER, STATIC_BODY, EdgeServer, Site
from integration.http_client import HttpResult

pytestmark = pytest.mark.slow

POLICY = POLICIES / "any-origin.yaml"
EXPOSE_HEADERS = ["X-Request-Id", "X-Model-Version"]
MAX_AGE = "86400"
# "*" covers every Origin: these are all allowed, and get "*", never themselves.
ORIGINS = [
    "https://app.example.com",
    "http://localhost:3000",
    "https://app.example.com.evil.com",
    "null",
]
# ... and a request without Origin gets "*" as well.
ORIGINS_OR_NONE = [*ORIGINS, None]


def _id(origin: str | None) -> str:
    return origin or "no-origin"


def assert_any_origin_actual_response(result: HttpResult) -> None:
    assert_cors_headers_are(result, ACAO, ACEH)
    assert_header(result, ACAO, "*")
    assert_list_header(result, ACEH, EXPOSE_HEADERS)


@pytest.fixture(scope="module")
def site(edge_server: EdgeServer) -> Iterator[Site]:
    site = edge_server.load(POLICY)
    yield site
    edge_server.unload(site.name)


# -- preflights ----------------------------------------------------------------------
@pytest.mark.parametrize("origin", ORIGINS, ids=_id)
def test_preflight_from_any_origin_is_answered_204_with_a_star(
    site: Site, predict_stub: Upstream, origin: str, test_id: str
) -> None:
    r = site.preflight(
        "/predict", origin, "POST", request_headers=JSON_POST_HEADERS, test_id=test_id
    )
    assert_status(r, 204)
    assert r.body == b"", r.describe()
    assert_cors_headers_are(r, ACAO, ACAM, ACAH, ACMA)
    assert_header(r, ACAO, "*")
    assert_not_reached_upstream(predict_stub, r)


def test_preflight_never_allows_credentials(site: Site, test_id: str) -> None:
    r = site.preflight("/predict", ORIGINS[0], "POST", test_id=test_id)
    assert_header(r, ACAC, None)


@pytest.mark.parametrize("method", ["DELETE", UNLISTED_METHOD])
def test_preflight_gets_204_with_the_seven_methods_never_a_star(
    site: Site, method: str, test_id: str
) -> None:
    r = site.preflight("/predict", ORIGINS[0], method, test_id=test_id)
    assert_status(r, 204)
    assert_list_header(r, ACAM, STAR_METHODS)


def test_preflight_reflects_the_requested_headers(site: Site, test_id: str) -> None:
    r = site.preflight(
        "/predict", ORIGINS[0], "POST", request_headers=JSON_POST_HEADERS, test_id=test_id
    )
    assert_list_header(r, ACAH, ["authorization", "content-type"])


def test_preflight_reflects_an_unlisted_header_too(site: Site, test_id: str) -> None:
    r = site.preflight(
        "/predict", ORIGINS[0], "POST", request_headers=UNLISTED_HEADER, test_id=test_id
    )
    assert_list_header(r, ACAH, [UNLISTED_HEADER])


def test_preflight_asking_for_no_headers_gets_no_allow_headers(site: Site, test_id: str) -> None:
    r = site.preflight("/predict", ORIGINS[0], "GET", test_id=test_id)
    assert_status(r, 204)
    assert_cors_headers_are(r, ACAO, ACAM, ACMA)


def test_preflight_states_the_max_age(site: Site, test_id: str) -> None:
    r = site.preflight("/predict", ORIGINS[0], "POST", test_id=test_id)
    assert_header(r, ACMA, MAX_AGE)


def test_preflight_never_exposes_headers(site: Site, test_id: str) -> None:
    r = site.preflight("/predict", ORIGINS[0], "POST", test_id=test_id)
    assert_header(r, ACEH, None)


def test_private_network_preflight_gets_no_allow_private_network_when_disabled(
    site: Site, test_id: str
) -> None:
    r = site.preflight("/predict", ORIGINS[0], "POST", private_network=True, test_id=test_id)
    assert_status(r, 204)
    assert_header(r, ACAPN, None)


def test_preflight_varies_on_the_request_method_and_headers(site: Site, test_id: str) -> None:
    r = site.preflight(
        "/predict", ORIGINS[0], "POST", request_headers=JSON_POST_HEADERS, test_id=test_id
    )
    assert_vary_includes(r, "Access-Control-Request-Method", "Access-Control-Request-Headers")


def test_preflight_to_the_authenticated_location_is_answered_without_credentials(
    site: Site, predict_stub: Upstream, test_id: str
) -> None:
    r = site.preflight(
        "/private/model", ORIGINS[0], "POST", request_headers=JSON_POST_HEADERS, test_id=test_id
    )
    assert_status(r, 204)
    assert_header(r, ACAO, "*")
    assert_not_reached_upstream(predict_stub, r)


def test_preflight_to_the_static_file_is_answered_like_any_other(site: Site, test_id: str) -> None:
    r = site.preflight("/static/hello.txt", ORIGINS[0], "GET", test_id=test_id)
    assert_status(r, 204)
    assert_cors_headers_are(r, ACAO, ACAM, ACMA)


# -- OPTIONS that is not a preflight -------------------------------------------------
@pytest.mark.parametrize("origin", ORIGINS, ids=_id)
def test_options_without_request_method_goes_upstream_with_a_star(
    site: Site, predict_stub: Upstream, origin: str, test_id: str
) -> None:
    r = site.request("OPTIONS", "/echo", origin=origin, test_id=test_id)
    assert_status(r, 200)
    assert_reached_upstream(predict_stub, r)
    assert_any_origin_actual_response(r)


def test_options_with_request_method_but_no_origin_goes_upstream_with_a_star(
    site: Site, predict_stub: Upstream, test_id: str
) -> None:
    r = site.request(
        "OPTIONS", "/echo", headers={"Access-Control-Request-Method": "POST"}, test_id=test_id
    )
    assert_status(r, 200)
    assert_reached_upstream(predict_stub, r)
    assert_any_origin_actual_response(r)


# -- actual requests -----------------------------------------------------------------
@pytest.mark.parametrize("origin", ORIGINS_OR_NONE, ids=_id)
def test_upload_from_any_origin_or_none_gets_a_star(
    site: Site, predict_stub: Upstream, origin: str | None, test_id: str
) -> None:
    r = upload(site, origin, test_id)
    assert_prediction(r)
    assert_reached_upstream(predict_stub, r)
    assert_any_origin_actual_response(r)
    assert_vary_includes(r, "Accept-Encoding")


@pytest.mark.parametrize(
    "upstream_status", UPSTREAM_STATUSES, ids=[f"{m}-{s}" for m, s in UPSTREAM_STATUSES]
)
def test_every_upstream_status_carries_a_star(
    site: Site, upstream_status: tuple[str, int], test_id: str
) -> None:
    method, status = upstream_status
    r = site.request(method, f"/status/{status}", origin=ORIGINS[0], test_id=test_id)
    assert_status(r, status)
    assert_any_origin_actual_response(r)
    assert_vary_includes(r, "Accept-Encoding")


@pytest.mark.parametrize("origin", ORIGINS_OR_NONE, ids=_id)
def test_upstream_cors_headers_are_replaced_and_credentials_dropped(
    site: Site, origin: str | None, test_id: str
) -> None:
    # The stub sends ACAO *, ACAC true, ACAM * and its own ACEH.
    r = site.get("/with-cors", origin=origin, test_id=test_id)
    assert_status(r, 200)
    assert_any_origin_actual_response(r)
    assert_vary_includes(r, "Accept-Encoding")


def test_authentication_401_carries_a_star(
    site: Site, predict_stub: Upstream, test_id: str
) -> None:
    r = site.get("/private/model", origin=ORIGINS[0], test_id=test_id)
    assert_status(r, 401)
    assert_not_reached_upstream(predict_stub, r)
    assert_any_origin_actual_response(r)


def test_authenticated_request_reaches_the_upstream_with_a_star(
    site: Site, predict_stub: Upstream, test_id: str
) -> None:
    r = site.get(
        "/private/model",
        origin=ORIGINS[0],
        auth=(HTPASSWD_USER, HTPASSWD_PASSWORD),
        test_id=test_id,
    )
    assert_status(r, 200)
    assert_reached_upstream(predict_stub, r)
    assert_any_origin_actual_response(r)


@pytest.mark.parametrize("origin", ORIGINS_OR_NONE, ids=_id)
def test_static_file_gets_a_star(site: Site, origin: str | None, test_id: str) -> None:
    r = site.get("/static/hello.txt", origin=origin, test_id=test_id)
    assert_status(r, 200)
    assert r.text == STATIC_BODY, r.describe()
    assert_any_origin_actual_response(r)
