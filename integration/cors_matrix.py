"""The request matrix of spec sections 2 and 4, for a policy with an allow-list.

``ListedOriginsContract`` holds one test per behaviour the spec promises for a
policy whose ``origins`` is a list (not ``"*"``).  A test module subclasses it once
per policy and writes down, explicitly, what that policy allows: which origins
(and which lookalikes it must refuse), its methods, headers, max age, whether it
sends credentials, answers private-network preflights or blocks disallowed
origins.  Nothing is derived from corsgen or its templates: the expectations are
the spec applied to those stated facts.

Each class loads its policy once per server (a class-scoped ``site`` fixture on
top of the session's ``edge_server``) and unloads it at the end.  Every failure
message carries the request and the full response (``HttpResult.describe``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from edgeharness.upstream import Upstream
from integration.edge import HTPASSWD_PASSWORD, HTPASSWD_USER, STATIC_BODY, EdgeServer, Site
from integration.http_client import HttpResult

REPO = Path(__file__).resolve().parent.parent
POLICIES = Path(__file__).resolve().parent / "policies"

ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"
ACAM = "Access-Control-Allow-Methods"
ACAH = "Access-Control-Allow-Headers"
ACMA = "Access-Control-Max-Age"
ACEH = "Access-Control-Expose-Headers"
ACAPN = "Access-Control-Allow-Private-Network"
PREFLIGHT_ONLY = (ACAM, ACAH, ACMA, ACAPN)

# allow_methods: "*" stands for exactly these (spec section 1).
STAR_METHODS = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
# What a browser sends before a JSON POST with a bearer token (Chrome's form:
# lower case, sorted, no spaces).
JSON_POST_HEADERS = "authorization,content-type"
# A method and a header no policy here lists.
UNLISTED_METHOD = "PURGE"
UNLISTED_HEADER = "x-not-in-any-policy"
# Preflights asking for a JSON POST's headers, for none, and for an unlisted one.
REQUESTED_HEADERS = [
    pytest.param("POST", JSON_POST_HEADERS, id="json-post"),
    pytest.param("GET", None, id="none"),
    pytest.param("POST", UNLISTED_HEADER, id="unlisted"),
]

# An upload the size of a small photo; the stub answers with the byte count.
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 256

# Statuses the upstream answers with (/status/{code}), with a method each: CORS
# headers belong on every status, 2xx to 5xx.
UPSTREAM_STATUSES = [
    ("GET", 200),
    ("POST", 201),
    ("DELETE", 204),
    ("GET", 302),
    ("POST", 400),
    ("GET", 401),
    ("PUT", 403),
    ("GET", 404),
    ("PATCH", 409),
    ("POST", 500),
    ("GET", 502),
    ("PUT", 503),
    ("HEAD", 405),  # the stub's /status answers HEAD with 405: no body, headers all the same
]


# -- reading a response ------------------------------------------------------------
def token_list(value: str | None) -> list[str]:
    """A comma-separated header value as a sorted list of lower-cased tokens."""
    if value is None:
        return []
    return sorted(t.strip().lower() for t in value.split(",") if t.strip())


def cors_header_names(result: HttpResult) -> list[str]:
    """The names of the response's Access-Control-* headers, lower case, duplicates kept."""
    return sorted(name.lower() for name, _value in result.cors_headers())


# -- assertions --------------------------------------------------------------------
def assert_cors_headers_are(result: HttpResult, *names: str) -> None:
    """Exactly these Access-Control-* headers, each once, and no other."""
    expected = sorted(n.lower() for n in names)
    assert cors_header_names(result) == expected, (
        f"expected exactly the Access-Control-* headers {expected}, each once\n{result.describe()}"
    )


def assert_no_cors_headers(result: HttpResult) -> None:
    assert result.cors_headers() == [], (
        f"expected no Access-Control-* header at all\n{result.describe()}"
    )


def assert_header(result: HttpResult, name: str, value: str | None) -> None:
    """Header ``name`` appears once with exactly ``value`` (None: not at all)."""
    assert result.header(name) == value, f"expected {name}: {value!r}\n{result.describe()}"


def assert_list_header(result: HttpResult, name: str, tokens: Iterable[str] | None) -> None:
    """Header ``name`` appears once, as a case-insensitive comma-separated list equal to
    ``tokens`` in any order (None: the header is absent)."""
    value = result.header(name)
    if tokens is None:
        assert value is None, f"expected no {name}\n{result.describe()}"
        return
    expected = sorted(t.lower() for t in tokens)
    assert value is not None and token_list(value) == expected, (
        f"expected {name} to list {expected}\n{result.describe()}"
    )


def assert_vary_includes(result: HttpResult, *tokens: str) -> None:
    vary = result.vary()
    missing = [t for t in tokens if t.lower() not in vary]
    assert not missing, f"Vary lacks {missing}\n{result.describe()}"


def assert_status(result: HttpResult, status: int) -> None:
    assert result.status == status, f"expected status {status}\n{result.describe()}"


def assert_reached_upstream(stub: Upstream, result: HttpResult) -> None:
    seen = stub.requests(result.test_id)
    assert len(seen) == 1, (
        f"expected the upstream to get this request once, it got it {len(seen)} times\n"
        f"{result.describe()}"
    )


def assert_not_reached_upstream(stub: Upstream, result: HttpResult) -> None:
    seen = stub.requests(result.test_id)
    assert seen == [], (
        f"expected the edge to answer alone; the upstream got {seen}\n{result.describe()}"
    )


def upload(site: Site, origin: str | None, test_id: str) -> HttpResult:
    """A real multipart upload to /predict, as a page's fetch() with FormData sends it."""
    return site.post(
        "/predict",
        origin=origin,
        files={"file": ("photo.png", IMAGE, "image/png")},
        test_id=test_id,
    )


def assert_prediction(result: HttpResult) -> None:
    assert_status(result, 200)
    body = result.json()
    assert body["bytes"] == len(IMAGE) and body["label"], (
        f"the upload did not arrive intact\n{result.describe()}"
    )


def assert_answered_without_cors_headers(result: HttpResult, status: int, *vary: str) -> None:
    """``status``, no Access-Control-* header, and a Vary with Origin (and ``vary``): what
    every request without an allowed Origin gets, so that caches keep the two apart."""
    assert_status(result, status)
    assert_no_cors_headers(result)
    assert_vary_includes(result, "Origin", *vary)


class ListedOriginsContract:
    """Spec sections 2 and 4 for one allow-list policy; subclass once per policy.

    Subclasses set every class attribute below; ``policy_file`` may be overridden
    to write the policy at run time.
    """

    POLICY: ClassVar[Path]
    # Origins the policy allows, as a browser sends them.
    ALLOWED: ClassVar[list[str]]
    # Origins it must not allow: lookalikes of the allowed ones, "null" when unlisted.
    NOT_ALLOWED: ClassVar[list[str]]
    # Allowed origins with some letters upper-cased: the spec lets the server choose.
    CASE_VARIANTS: ClassVar[list[str]] = []
    METHODS: ClassVar[set[str]]
    # The explicit allow_headers list; None when there is none (or it is "*").
    ALLOW_HEADERS: ClassVar[list[str] | None] = None
    # allow_headers: "*" (reflect Access-Control-Request-Headers).
    REFLECTS_HEADERS: ClassVar[bool] = False
    EXPOSE_HEADERS: ClassVar[list[str] | None] = None
    MAX_AGE: ClassVar[str]
    CREDENTIALS: ClassVar[bool] = False
    PRIVATE_NETWORK: ClassVar[bool] = False
    BLOCKS: ClassVar[bool] = False

    # -- parametrisation -------------------------------------------------------------
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        cls = type(self)
        params = {
            "allowed_origin": cls.ALLOWED,
            "not_allowed_origin": cls.NOT_ALLOWED,
            "case_variant": cls.CASE_VARIANTS,
        }
        for name, values in params.items():
            if name in metafunc.fixturenames:
                metafunc.parametrize(name, values, ids=[v or "empty" for v in values])
        if "upstream_status" in metafunc.fixturenames:
            metafunc.parametrize(
                "upstream_status", UPSTREAM_STATUSES, ids=[f"{m}-{s}" for m, s in UPSTREAM_STATUSES]
            )

    # -- the policy, loaded once per server -------------------------------------------
    @classmethod
    def policy_file(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return cls.POLICY

    # A class-scoped fixture is a classmethod: pytest runs it once per class, and
    # instance methods as class fixtures are deprecated (an error from pytest 10 on).
    @pytest.fixture(scope="class")
    @classmethod
    def site(
        cls, edge_server: EdgeServer, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Site]:
        site = edge_server.load(cls.policy_file(tmp_path_factory))
        yield site
        edge_server.unload(site.name)

    # -- what the policy's answers contain -------------------------------------------
    def preflight_headers(self, requested_headers: str | None) -> list[str]:
        """The Access-Control-* headers of an allowed preflight's answer (no ACAPN asked)."""
        names = [ACAO, ACAM, ACMA]
        if self.CREDENTIALS:
            names.append(ACAC)
        if self.allow_headers_for(requested_headers) is not None:
            names.append(ACAH)
        return names

    def actual_headers(self) -> list[str]:
        """The Access-Control-* headers of any non-preflight answer to an allowed origin."""
        names = [ACAO]
        if self.CREDENTIALS:
            names.append(ACAC)
        if self.EXPOSE_HEADERS:
            names.append(ACEH)
        return names

    def allow_headers_for(self, requested_headers: str | None) -> list[str] | None:
        """ACAH on an allowed preflight: the explicit list whatever was asked, or the
        reflected request (absent when nothing was asked), or none at all."""
        if self.REFLECTS_HEADERS:
            return token_list(requested_headers) or None
        return self.ALLOW_HEADERS or None

    def assert_allowed_actual_response(self, result: HttpResult, origin: str, *vary: str) -> None:
        assert_cors_headers_are(result, *self.actual_headers())
        assert_header(result, ACAO, origin)
        assert_header(result, ACAC, "true" if self.CREDENTIALS else None)
        assert_list_header(result, ACEH, self.EXPOSE_HEADERS or None)
        assert_vary_includes(result, "Origin", *vary)

    def assert_blocked_at_edge(self, stub: Upstream, result: HttpResult) -> None:
        assert_answered_without_cors_headers(result, 403)
        assert_not_reached_upstream(stub, result)

    def assert_not_allowed_actual_response(
        self, stub: Upstream, result: HttpResult, status: int, *vary: str
    ) -> None:
        """A not-allowed origin's actual request: refused at the edge when the policy blocks,
        else answered as if it had no Origin."""
        if self.BLOCKS:
            self.assert_blocked_at_edge(stub, result)
        else:
            assert_answered_without_cors_headers(result, status, *vary)

    # == preflight from an allowed origin ==============================================
    def test_allowed_preflight_is_answered_204_with_an_empty_body(
        self, site: Site, allowed_origin: str, test_id: str
    ) -> None:
        r = site.preflight(
            "/predict", allowed_origin, "POST", request_headers=JSON_POST_HEADERS, test_id=test_id
        )
        assert_status(r, 204)
        assert r.body == b"", r.describe()

    def test_allowed_preflight_never_reaches_the_upstream(
        self, site: Site, predict_stub: Upstream, allowed_origin: str, test_id: str
    ) -> None:
        r = site.preflight(
            "/predict", allowed_origin, "POST", request_headers=JSON_POST_HEADERS, test_id=test_id
        )
        assert_not_reached_upstream(predict_stub, r)

    def test_allowed_preflight_carries_exactly_the_preflight_headers(
        self, site: Site, allowed_origin: str, test_id: str
    ) -> None:
        r = site.preflight(
            "/predict", allowed_origin, "POST", request_headers=JSON_POST_HEADERS, test_id=test_id
        )
        assert_cors_headers_are(r, *self.preflight_headers(JSON_POST_HEADERS))

    def test_allowed_preflight_echoes_the_origin(
        self, site: Site, allowed_origin: str, test_id: str
    ) -> None:
        r = site.preflight("/predict", allowed_origin, "POST", test_id=test_id)
        assert_header(r, ACAO, allowed_origin)

    def test_allowed_preflight_allows_credentials_exactly_when_the_policy_does(
        self, site: Site, allowed_origin: str, test_id: str
    ) -> None:
        r = site.preflight("/predict", allowed_origin, "POST", test_id=test_id)
        assert_header(r, ACAC, "true" if self.CREDENTIALS else None)

    @pytest.mark.parametrize("method", ["POST", UNLISTED_METHOD])
    def test_allowed_preflight_gets_204_with_every_method_of_the_policy(
        self, site: Site, method: str, test_id: str
    ) -> None:
        # An unlisted method is not refused at the edge: the browser refuses it.
        r = site.preflight("/predict", self.ALLOWED[0], method, test_id=test_id)
        assert_status(r, 204)
        assert_list_header(r, ACAM, self.METHODS)

    @pytest.mark.parametrize(("method", "requested_headers"), REQUESTED_HEADERS)
    def test_allowed_preflight_gets_204_with_the_policy_headers_whatever_is_asked(
        self, site: Site, method: str, requested_headers: str | None, test_id: str
    ) -> None:
        r = site.preflight(
            "/predict", self.ALLOWED[0], method, request_headers=requested_headers, test_id=test_id
        )
        assert_status(r, 204)
        assert_list_header(r, ACAH, self.allow_headers_for(requested_headers))

    def test_allowed_preflight_states_the_max_age(self, site: Site, test_id: str) -> None:
        r = site.preflight("/predict", self.ALLOWED[0], "POST", test_id=test_id)
        assert_header(r, ACMA, self.MAX_AGE)

    def test_allowed_preflight_never_exposes_headers(self, site: Site, test_id: str) -> None:
        r = site.preflight("/predict", self.ALLOWED[0], "POST", test_id=test_id)
        assert_header(r, ACEH, None)

    @pytest.mark.parametrize("asked", [True, False], ids=["asked", "not-asked"])
    def test_private_network_is_allowed_only_when_asked_for_and_enabled(
        self, site: Site, asked: bool, test_id: str
    ) -> None:
        r = site.preflight(
            "/predict", self.ALLOWED[0], "POST", private_network=asked, test_id=test_id
        )
        assert_status(r, 204)
        assert_header(r, ACAPN, "true" if asked and self.PRIVATE_NETWORK else None)

    def test_allowed_preflight_varies_on_origin_and_the_request_headers(
        self, site: Site, test_id: str
    ) -> None:
        r = site.preflight(
            "/predict", self.ALLOWED[0], "POST", request_headers=JSON_POST_HEADERS, test_id=test_id
        )
        assert_vary_includes(
            r, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"
        )

    def test_preflight_to_the_authenticated_location_is_answered_without_credentials(
        self, site: Site, predict_stub: Upstream, allowed_origin: str, test_id: str
    ) -> None:
        r = site.preflight(
            "/private/model",
            allowed_origin,
            "POST",
            request_headers=JSON_POST_HEADERS,
            test_id=test_id,
        )
        assert_status(r, 204)
        assert_cors_headers_are(r, *self.preflight_headers(JSON_POST_HEADERS))
        assert_header(r, ACAO, allowed_origin)
        assert_not_reached_upstream(predict_stub, r)

    def test_preflight_to_the_static_file_is_answered_like_any_other(
        self, site: Site, test_id: str
    ) -> None:
        r = site.preflight("/static/hello.txt", self.ALLOWED[0], "GET", test_id=test_id)
        assert_status(r, 204)
        assert_cors_headers_are(r, *self.preflight_headers(None))
        assert_header(r, ACAO, self.ALLOWED[0])

    # == preflight from a not-allowed origin ===========================================
    def test_not_allowed_preflight_is_refused_403_without_cors_headers(
        self, site: Site, not_allowed_origin: str, test_id: str
    ) -> None:
        r = site.preflight(
            "/predict",
            not_allowed_origin,
            "POST",
            request_headers=JSON_POST_HEADERS,
            private_network=True,
            test_id=test_id,
        )
        assert_status(r, 403)
        assert_no_cors_headers(r)

    def test_not_allowed_preflight_never_reaches_the_upstream(
        self, site: Site, predict_stub: Upstream, not_allowed_origin: str, test_id: str
    ) -> None:
        r = site.preflight("/predict", not_allowed_origin, "POST", test_id=test_id)
        assert_not_reached_upstream(predict_stub, r)

    def test_not_allowed_preflight_varies_on_origin_and_the_request_headers(
        self, site: Site, test_id: str
    ) -> None:
        r = site.preflight("/predict", self.NOT_ALLOWED[0], "POST", test_id=test_id)
        assert_vary_includes(
            r, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"
        )

    def test_not_allowed_preflight_to_the_authenticated_location_is_refused_403(
        self, site: Site, predict_stub: Upstream, test_id: str
    ) -> None:
        r = site.preflight("/private/model", self.NOT_ALLOWED[0], "POST", test_id=test_id)
        assert_status(r, 403)
        assert_no_cors_headers(r)
        assert_not_reached_upstream(predict_stub, r)

    # == OPTIONS that is not a preflight ===============================================
    def test_options_without_request_method_from_allowed_origin_goes_upstream(
        self, site: Site, predict_stub: Upstream, test_id: str
    ) -> None:
        r = site.request("OPTIONS", "/echo", origin=self.ALLOWED[0], test_id=test_id)
        assert_status(r, 200)
        assert_reached_upstream(predict_stub, r)
        self.assert_allowed_actual_response(r, self.ALLOWED[0], "Accept-Encoding")

    def test_options_with_request_method_but_no_origin_goes_upstream_without_cors_headers(
        self, site: Site, predict_stub: Upstream, test_id: str
    ) -> None:
        r = site.request(
            "OPTIONS",
            "/echo",
            headers={"Access-Control-Request-Method": "POST"},
            test_id=test_id,
        )
        assert_answered_without_cors_headers(r, 200, "Accept-Encoding")
        assert_reached_upstream(predict_stub, r)

    def test_options_without_request_method_from_not_allowed_origin_gets_no_cors_headers(
        self, site: Site, predict_stub: Upstream, not_allowed_origin: str, test_id: str
    ) -> None:
        r = site.request("OPTIONS", "/echo", origin=not_allowed_origin, test_id=test_id)
        self.assert_not_allowed_actual_response(predict_stub, r, 200, "Accept-Encoding")
        if not self.BLOCKS:
            assert_reached_upstream(predict_stub, r)

    # == actual requests from an allowed origin ========================================
    def test_upload_from_allowed_origin_reaches_the_model_with_cors_headers(
        self, site: Site, predict_stub: Upstream, allowed_origin: str, test_id: str
    ) -> None:
        r = upload(site, allowed_origin, test_id)
        assert_prediction(r)
        assert_reached_upstream(predict_stub, r)
        self.assert_allowed_actual_response(r, allowed_origin)

    def test_upload_response_keeps_the_upstreams_vary_and_adds_origin(
        self, site: Site, test_id: str
    ) -> None:
        r = upload(site, self.ALLOWED[0], test_id)
        assert_prediction(r)
        assert_vary_includes(r, "Origin", "Accept-Encoding")

    def test_json_post_with_authorization_after_its_preflight_reaches_the_upstream(
        self, site: Site, predict_stub: Upstream, test_id: str
    ) -> None:
        r = site.post(
            "/echo",
            origin=self.ALLOWED[0],
            headers={"Authorization": "Bearer token-123"},
            json_body={"input": [1, 2, 3]},
            test_id=test_id,
        )
        assert_status(r, 200)
        assert_reached_upstream(predict_stub, r)
        received = {k.lower(): v for k, v in r.json()["headers"]}
        assert received.get("authorization") == "Bearer token-123", r.describe()
        self.assert_allowed_actual_response(r, self.ALLOWED[0])

    def test_every_upstream_status_carries_the_cors_headers_of_an_allowed_origin(
        self, site: Site, upstream_status: tuple[str, int], test_id: str
    ) -> None:
        method, status = upstream_status
        r = site.request(method, f"/status/{status}", origin=self.ALLOWED[0], test_id=test_id)
        assert_status(r, status)
        self.assert_allowed_actual_response(r, self.ALLOWED[0], "Accept-Encoding")

    def test_upstream_cors_headers_are_replaced_by_the_policys(
        self, site: Site, allowed_origin: str, test_id: str
    ) -> None:
        r = site.get("/with-cors", origin=allowed_origin, test_id=test_id)
        assert_status(r, 200)
        assert r.header("X-Upstream") == "stub", r.describe()
        self.assert_allowed_actual_response(r, allowed_origin)

    def test_upstream_vary_is_merged_not_replaced(self, site: Site, test_id: str) -> None:
        r = site.get("/with-cors", origin=self.ALLOWED[0], test_id=test_id)
        assert_vary_includes(r, "Accept-Encoding", "Origin")

    def test_authentication_401_still_carries_the_cors_headers_of_an_allowed_origin(
        self, site: Site, predict_stub: Upstream, allowed_origin: str, test_id: str
    ) -> None:
        r = site.get("/private/model", origin=allowed_origin, test_id=test_id)
        assert_status(r, 401)
        assert r.has("WWW-Authenticate"), r.describe()
        assert_not_reached_upstream(predict_stub, r)
        self.assert_allowed_actual_response(r, allowed_origin)

    def test_authenticated_request_from_allowed_origin_reaches_the_upstream(
        self, site: Site, predict_stub: Upstream, test_id: str
    ) -> None:
        r = site.get(
            "/private/model",
            origin=self.ALLOWED[0],
            auth=(HTPASSWD_USER, HTPASSWD_PASSWORD),
            test_id=test_id,
        )
        assert_status(r, 200)
        assert_reached_upstream(predict_stub, r)
        self.assert_allowed_actual_response(r, self.ALLOWED[0], "Accept-Encoding")

    def test_static_file_from_allowed_origin_gets_the_same_cors_headers(
        self, site: Site, predict_stub: Upstream, allowed_origin: str, test_id: str
    ) -> None:
        r = site.get("/static/hello.txt", origin=allowed_origin, test_id=test_id)
        assert_status(r, 200)
        assert r.text == STATIC_BODY, r.describe()
        assert_not_reached_upstream(predict_stub, r)
        self.assert_allowed_actual_response(r, allowed_origin)

    # == actual requests from a not-allowed origin =====================================
    def test_upload_from_not_allowed_origin_gets_no_cors_headers(
        self, site: Site, predict_stub: Upstream, not_allowed_origin: str, test_id: str
    ) -> None:
        r = upload(site, not_allowed_origin, test_id)
        self.assert_not_allowed_actual_response(predict_stub, r, 200, "Accept-Encoding")
        if not self.BLOCKS:
            assert_prediction(r)
            assert_reached_upstream(predict_stub, r)

    def test_upstream_error_for_not_allowed_origin_gets_no_cors_headers(
        self, site: Site, predict_stub: Upstream, upstream_status: tuple[str, int], test_id: str
    ) -> None:
        method, status = upstream_status
        r = site.request(method, f"/status/{status}", origin=self.NOT_ALLOWED[0], test_id=test_id)
        self.assert_not_allowed_actual_response(predict_stub, r, status, "Accept-Encoding")

    def test_upstream_cors_headers_are_removed_for_not_allowed_origin(
        self, site: Site, predict_stub: Upstream, not_allowed_origin: str, test_id: str
    ) -> None:
        r = site.get("/with-cors", origin=not_allowed_origin, test_id=test_id)
        self.assert_not_allowed_actual_response(predict_stub, r, 200, "Accept-Encoding")

    def test_authentication_401_for_not_allowed_origin_gets_no_cors_headers(
        self, site: Site, predict_stub: Upstream, test_id: str
    ) -> None:
        r = site.get("/private/model", origin=self.NOT_ALLOWED[0], test_id=test_id)
        self.assert_not_allowed_actual_response(predict_stub, r, 401)

    def test_static_file_for_not_allowed_origin_gets_no_cors_headers(
        self, site: Site, predict_stub: Upstream, test_id: str
    ) -> None:
        r = site.get("/static/hello.txt", origin=self.NOT_ALLOWED[0], test_id=test_id)
        self.assert_not_allowed_actual_response(predict_stub, r, 200)

    # == requests without Origin =======================================================
    def test_upload_without_origin_gets_no_cors_headers_but_varies_on_origin(
        self, site: Site, predict_stub: Upstream, test_id: str
    ) -> None:
        r = upload(site, None, test_id)
        assert_answered_without_cors_headers(r, 200, "Accept-Encoding")
        assert_prediction(r)
        assert_reached_upstream(predict_stub, r)

    def test_upstream_error_without_origin_gets_no_cors_headers(
        self, site: Site, upstream_status: tuple[str, int], test_id: str
    ) -> None:
        method, status = upstream_status
        r = site.request(method, f"/status/{status}", test_id=test_id)
        assert_answered_without_cors_headers(r, status, "Accept-Encoding")

    def test_upstream_cors_headers_are_removed_without_origin(
        self, site: Site, test_id: str
    ) -> None:
        r = site.get("/with-cors", test_id=test_id)
        assert_answered_without_cors_headers(r, 200, "Accept-Encoding")

    def test_authentication_401_without_origin_gets_no_cors_headers(
        self, site: Site, test_id: str
    ) -> None:
        r = site.get("/private/model", test_id=test_id)
        assert_answered_without_cors_headers(r, 401)

    def test_static_file_without_origin_gets_no_cors_headers(
        self, site: Site, test_id: str
    ) -> None:
        r = site.get("/static/hello.txt", test_id=test_id)
        assert_answered_without_cors_headers(r, 200)

    # == an Origin differing only by ASCII case: the server may choose ================
    def test_origin_differing_only_by_case_is_echoed_as_sent_or_not_at_all(
        self, site: Site, predict_stub: Upstream, case_variant: str, test_id: str
    ) -> None:
        # Either choice is allowed; what is checked is that each is applied whole.
        actual = site.get("/status/200", origin=case_variant, test_id=test_id)
        if actual.status == 200:
            if actual.has(ACAO):
                self.assert_allowed_actual_response(actual, case_variant)
            else:
                assert_no_cors_headers(actual)
        else:
            assert self.BLOCKS, actual.describe()
            self.assert_blocked_at_edge(predict_stub, actual)
        pre = site.preflight("/predict", case_variant, "POST", test_id=test_id + "-pre")
        if pre.status == 204:
            assert_header(pre, ACAO, case_variant)
        else:
            assert_status(pre, 403)
            assert_no_cors_headers(pre)
        assert_not_reached_upstream(predict_stub, pre)
