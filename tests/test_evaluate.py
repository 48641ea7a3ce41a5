"""The reference evaluator answers as spec section 2 and 4 say, values and absences exact."""

from __future__ import annotations

import pytest

from corsgen.compare import Observed, differences
from corsgen.evaluate import (
    ACAC,
    ACAH,
    ACAM,
    ACAO,
    ACAPN,
    ACEH,
    ACMA,
    PREFLIGHT_VARY,
    Answer,
    Request,
    evaluate,
    match_origin,
)
from corsgen.origins import read_origin
from tests.conftest import demo_policy, minimal, parse

POLICY = parse(demo_policy())


def preflight(origin: str | None, **extra: str) -> Request:
    return Request("OPTIONS", origin, extra.pop("method", "PUT"), **extra)


# Test pre-flight response


def test_an_allowed_preflight_is_answered_at_the_edge_with_every_preflight_header() -> None:
    verdict = evaluate(POLICY, preflight("https://app.example.com", request_headers="X-A"))

    assert verdict.answer is Answer.EDGE_204
    assert verdict.status == 204
    assert verdict.headers == {
        ACAO: "https://app.example.com",
        ACAC: "true",
        ACAM: "GET, POST",
        ACAH: "Authorization, Content-Type",
        ACMA: "600",
    }
    assert ACEH not in verdict.headers
    assert verdict.vary == PREFLIGHT_VARY
    assert not verdict.either


def test_a_preflight_from_a_lookalike_gets_403_and_no_cors_headers() -> None:
    verdict = evaluate(POLICY, preflight("https://app.example.com.evil.com"))

    assert verdict.answer is Answer.EDGE_403
    assert verdict.headers == {}
    assert verdict.vary == PREFLIGHT_VARY
    assert not verdict.either


def test_a_preflight_asking_for_an_unlisted_method_still_gets_204_with_the_policy_lists() -> None:
    verdict = evaluate(POLICY, preflight("https://app.example.com", method="DELETE"))

    assert verdict.status == 204
    assert verdict.headers[ACAM] == "GET, POST"
    assert verdict.notes[-1:] == (
        "the browser will refuse the DELETE request: it is not in Access-Control-Allow-Methods",
    )


def test_reflected_headers_are_absent_when_none_were_requested() -> None:
    policy = parse(minimal(allow_headers='"*"'))

    asked = evaluate(policy, preflight("https://app.example.com", request_headers="x-a, X-B"))
    not_asked = evaluate(policy, preflight("https://app.example.com"))

    assert asked.headers[ACAH] == "x-a, X-B"
    assert ACAH not in not_asked.headers


def test_private_network_access_is_granted_only_when_asked_and_enabled() -> None:
    enabled = parse(minimal(allow_private_network="true"))

    asked = evaluate(enabled, preflight("https://app.example.com", request_private_network="true"))
    not_asked = evaluate(enabled, preflight("https://app.example.com"))
    disabled = evaluate(
        POLICY, preflight("https://app.example.com", request_private_network="true")
    )

    assert asked.headers[ACAPN] == "true"
    assert ACAPN not in not_asked.headers
    assert ACAPN not in disabled.headers


def test_with_private_network_enabled_preflight_answers_vary_on_its_request_header() -> None:
    # The answer depends on Access-Control-Request-Private-Network: a cache must not hand
    # the answer without ACAPN to a preflight that asked for it.
    enabled = parse(minimal(allow_private_network="true"))

    allowed = evaluate(enabled, preflight("https://app.example.com"))
    refused = evaluate(enabled, preflight("https://evil.example"))
    actual = evaluate(enabled, Request("GET", "https://app.example.com"))

    assert allowed.vary == (*PREFLIGHT_VARY, "Access-Control-Request-Private-Network")
    assert refused.vary == allowed.vary
    assert actual.vary == ("Origin",)
    assert evaluate(POLICY, preflight("https://app.example.com")).vary == PREFLIGHT_VARY


def test_notes_say_how_long_each_engine_caches_a_preflight() -> None:
    long = parse(minimal(max_age="86400"))

    assert evaluate(long, preflight("https://app.example.com")).notes[0] == (
        "the browser caches this answer for max_age (86400 s) or its engine's cap, whichever "
        "is less: Chromium 7200 s, Firefox 86400 s, Safari 600 s"
    )
    assert evaluate(long, preflight("https://evil.example")).notes == ()


def test_notes_call_private_network_access_legacy_and_say_what_local_network_access_needs() -> None:
    enabled = parse(minimal(allow_private_network="true"))

    notes = evaluate(enabled, preflight("https://app.example.com")).notes
    refused = evaluate(
        POLICY, preflight("https://app.example.com", request_private_network="true")
    ).notes

    assert notes[1].startswith("allow_private_network is legacy: ")
    assert "Local Network Access" in notes[1] and "secure context" in notes[1]
    assert "asks the user for permission" in notes[1]
    assert refused[1].startswith("older Chrome refuses the request: it asked for private")


def test_options_without_a_requested_method_is_not_a_preflight() -> None:
    verdict = evaluate(POLICY, Request("OPTIONS", "https://app.example.com"))

    assert not verdict.preflight
    assert verdict.answer is Answer.UPSTREAM
    assert verdict.headers == {
        ACAO: "https://app.example.com",
        ACAC: "true",
        ACEH: "X-Request-Id",
    }


# Test standard response


def test_an_allowed_actual_request_passes_upstream_with_acao_acac_and_aceh_only() -> None:
    verdict = evaluate(POLICY, Request("POST", "https://a.b.example.org"))

    assert verdict.answer is Answer.UPSTREAM
    assert verdict.status is None
    assert verdict.headers == {
        ACAO: "https://a.b.example.org",
        ACAC: "true",
        ACEH: "X-Request-Id",
    }
    assert verdict.vary == ("Origin",)
    assert verdict.origin.entry == "https://*.example.org"


def test_a_not_allowed_actual_request_passes_upstream_without_any_cors_header() -> None:
    verdict = evaluate(POLICY, Request("GET", "https://example.org"))

    assert verdict.answer is Answer.UPSTREAM
    assert verdict.headers == {}
    assert verdict.vary == ("Origin",)


def test_block_disallowed_origins_refuses_every_non_preflight_from_a_foreign_origin() -> None:
    policy = parse(minimal(block_disallowed_origins="true"))

    get = evaluate(policy, Request("GET", "https://evil.example"))
    options = evaluate(policy, Request("OPTIONS", "https://evil.example"))
    without_origin = evaluate(policy, Request("GET"))

    assert get.answer is Answer.EDGE_403
    assert options.answer is Answer.EDGE_403
    assert without_origin.answer is Answer.UPSTREAM


# Test non-CORS response


def test_a_request_without_origin_gets_only_vary_origin() -> None:
    verdict = evaluate(POLICY, Request("GET"))

    assert verdict.headers == {}
    assert verdict.vary == ("Origin",)
    assert verdict.origin.reason == "the request has no Origin header"


def test_an_empty_origin_header_counts_as_none() -> None:
    assert evaluate(POLICY, Request("OPTIONS", "", "GET")).answer is Answer.UPSTREAM


def test_any_origin_puts_a_literal_star_on_every_response_and_needs_no_vary_origin() -> None:
    policy = parse(
        """
        version: 1
        name: public
        origins: "*"
        expose_headers: [X-Total]
        """
    )

    actual = evaluate(policy, Request("GET"))
    null = evaluate(policy, Request("GET", "null"))
    flight = evaluate(policy, preflight("https://anything.example"))

    assert actual.headers == {ACAO: "*", ACEH: "X-Total"}
    assert actual.vary == ()
    assert actual.vary_optional == ("Origin",)
    assert null.headers[ACAO] == "*"
    assert flight.headers[ACAO] == "*"
    assert ACEH not in flight.headers
    assert ACAC not in flight.headers


# Test origin matching


@pytest.mark.parametrize(
    ("origin", "entry"),
    [
        ("https://app.example.com", "https://app.example.com"),
        ("https://x.example.org", "https://*.example.org"),
        ("https://a.b.example.org", "https://*.example.org"),
        ("http://127.0.0.1", "http://127.0.0.1:*"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:*"),
        ("https://pr-12.preview.example.dev", r"^https://pr-[0-9]+\.preview\.example\.dev$"),
    ],
)
def test_a_browser_origin_matching_an_entry_is_allowed_by_that_entry(
    origin: str, entry: str
) -> None:
    match = match_origin(POLICY, origin)

    assert match.allowed
    assert not match.either
    assert match.entry == entry


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com.evil.com",
        "https://evilapp.example.com",
        "https://x.app.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://app.example.com@evil.com",
        "https://evil.com@app.example.com",
        "https://app.example.com/",
        "https://app.example.com.",
        "https://app.example.com:",
        "https://example.org",
        "https://example.org.evil.com",
        "https://evilexample.org",
        "http://localhost:3001",
        "http://localhost",
        "https://pr-12xpreview.example.dev",
        "null",
        "https://*.example.org",
    ],
)
def test_a_lookalike_is_never_allowed_not_even_as_the_servers_choice(origin: str) -> None:
    match = match_origin(POLICY, origin)

    assert not match.allowed
    assert not match.either


@pytest.mark.parametrize(
    ("origin", "entry"),
    [
        ("HTTPS://APP.EXAMPLE.COM", "https://app.example.com"),
        ("https://App.Example.com", "https://app.example.com"),
        ("https://X.EXAMPLE.ORG", "https://*.example.org"),
        ("HTTP://127.0.0.1:080", "http://127.0.0.1:*"),
    ],
)
def test_an_origin_in_other_ascii_case_is_the_servers_choice(origin: str, entry: str) -> None:
    # corsgen's nginx maps fold ASCII case, its Apache regexes do not: either answer comes.
    verdict = evaluate(POLICY, preflight(origin))

    assert verdict.origin.allowed and verdict.origin.either
    assert verdict.origin.entry == entry
    assert [v.answer for v in verdict.acceptable()] == [Answer.EDGE_204, Answer.EDGE_403]
    assert verdict.headers[ACAO] == origin  # echoed as sent, never normalised


@pytest.mark.parametrize(
    ("origin", "entry", "how"),
    [
        ("https://app.example.com:443", "https://app.example.com", "the default port 443"),
        ("http://localhost:03000", "http://localhost:3000", "a leading zero in the port"),
        ("HTTP://localhost:03000", "http://localhost:3000", "upper case, a leading zero"),
        ("https://x.example.org:443", "https://*.example.org", "the default port 443"),
        (
            "HTTPS://PR-1.preview.example.dev",
            r"^https://pr-[0-9]+\.preview\.example\.dev$",
            "upper",
        ),
        (
            "https://pr-1.preview.example.dev:443",
            r"^https://pr-[0-9]+\.preview\.example\.dev$",
            "443",
        ),
    ],
)
def test_a_normalised_form_no_browser_sends_is_refused_as_both_servers_refuse_it(
    origin: str, entry: str, how: str
) -> None:
    # Both targets compare the Origin as sent with the normalised entry (and run regexes on
    # it case-sensitively): `explain` once said 204 here while nginx and Apache said 403.
    verdict = evaluate(POLICY, preflight(origin))

    assert verdict.status == 403
    assert not verdict.either
    assert not verdict.origin.allowed
    assert verdict.origin.entry == entry
    assert how in verdict.origin.reason
    assert "compare the Origin as sent" in verdict.origin.reason


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:080", "http://127.0.0.1:80", "http://127.0.0.1:99999"]
)
def test_a_port_wildcard_takes_any_digits_as_both_servers_do(origin: str) -> None:
    verdict = evaluate(POLICY, preflight(origin))

    assert verdict.status == 204
    assert not verdict.either
    assert verdict.origin.entry == "http://127.0.0.1:*"


def test_the_normalised_entries_of_other_forms_are_compared_as_sent() -> None:
    policy = parse(
        """
        version: 1
        name: t
        origins: [http://localhost, "http://[::1]:8080", https://bücher.example, "null"]
        """
    )

    for origin, how in [
        ("http://localhost:80", "the default port 80 written out"),
        ("http://[0:0:0:0:0:0:0:1]:8080", "an IPv6 address not in compressed form"),
        ("https://bücher.example", "a Unicode host name; browsers send its punycode"),
    ]:
        verdict = evaluate(policy, preflight(origin))
        assert (verdict.status, verdict.either) == (403, False), origin
        assert how in verdict.origin.reason
    for origin in ("NULL", "Null", "HTTP://LOCALHOST"):
        assert evaluate(policy, preflight(origin)).either, origin


def test_two_origin_lines_are_read_as_the_first_or_joined() -> None:
    # nginx before 1.23 reads the first line only; Apache joins them with ", ".
    both = evaluate(
        POLICY, preflight("https://app.example.com", more_origins=("https://evil.example",))
    )
    foreign_first = evaluate(
        POLICY, preflight("https://evil.example", more_origins=("https://app.example.com",))
    )

    assert [v.status for v in both.acceptable()] == [403, 204]
    assert both.origin.either
    assert "'https://app.example.com, https://evil.example'" in both.origin.reason
    assert both.alternatives[0].headers[ACAO] == "https://app.example.com"
    # Traefik routes on any line: 204 without ACAO, the only other answer (docs/traefik.md).
    assert [v.status for v in foreign_first.acceptable()] == [403, 204]
    assert ACAO not in foreign_first.alternatives[0].headers
    assert foreign_first.alternatives[0].headers[ACAM]
    foreign_get = evaluate(
        POLICY, Request("GET", "https://evil.example", more_origins=("https://app.example.com",))
    )
    assert all(ACAO not in verdict.headers for verdict in foreign_get.acceptable())
    both_foreign = evaluate(
        POLICY, preflight("https://evil.example", more_origins=("https://evil.example",))
    )
    assert (both_foreign.status, both_foreign.either) == (403, False)
    assert Request("GET", "a", more_origins=("b",)).header_lines() == [
        ("Origin", "a"),
        ("Origin", "b"),
    ]


def test_explains_that_a_lookalike_is_not_a_subdomain() -> None:
    match = match_origin(POLICY, "https://example.org.evil.com")

    assert match.reason == "'example.org.evil.com' is not a subdomain of 'example.org'"
    assert match.entry == "https://*.example.org"


def test_explains_that_the_apex_is_not_covered_by_a_wildcard() -> None:
    match = match_origin(POLICY, "https://example.org")

    assert match.reason.startswith(
        "the apex 'example.org' is not covered by 'https://*.example.org'"
    )


def test_explains_a_wrong_port() -> None:
    match = match_origin(POLICY, "http://localhost:3001")

    assert match.reason == (
        "port 3001 is not allowed by 'http://localhost:3000', which allows only port 3000 "
        "(':*' allows any port)"
    )


def test_explains_an_origin_far_from_every_entry_without_naming_one() -> None:
    match = match_origin(POLICY, "https://evil.example")

    assert match.entry is None
    assert match.reason == (
        "'https://evil.example' matches none of the 4 origins entries and none of the 1 "
        "origin_regex entries"
    )


def test_reads_an_origin_header_as_a_browser_would_normalise_it() -> None:
    parsed = read_origin("HTTPS://App.Example.COM:0443")

    assert not isinstance(parsed, str)
    assert parsed.canonical == "https://app.example.com"
    assert read_origin("https://a.example.com/path") == (
        "has a path after the host, which a browser never sends in Origin"
    )


# Test comparing a response with the verdict


def test_a_duplicated_acao_is_a_difference() -> None:
    verdict = evaluate(POLICY, Request("GET", "https://app.example.com"))
    observed = Observed(
        status=200,
        headers=(
            (ACAO, "https://app.example.com"),
            (ACAO, "https://app.example.com"),
            (ACAC, "true"),
            (ACEH, "X-Request-Id"),
            ("Vary", "Origin"),
        ),
        reached_upstream=True,
        upstream_status=200,
        upstream_vary=(),
    )

    assert differences(verdict, observed) == [
        "Access-Control-Allow-Origin appears 2 times: "
        "['https://app.example.com', 'https://app.example.com']"
    ]


def test_method_lists_compare_in_any_order_and_header_lists_in_any_case() -> None:
    verdict = evaluate(POLICY, preflight("https://app.example.com"))
    observed = Observed(
        status=204,
        headers=(
            (ACAO, "https://app.example.com"),
            (ACAC, "true"),
            (ACAM, "POST,GET"),
            (ACAH, "content-type, authorization"),
            (ACMA, "600"),
            ("Vary", "origin, access-control-request-method"),
            ("Vary", "Access-Control-Request-Headers"),
        ),
        reached_upstream=False,
    )

    assert differences(verdict, observed) == []


def test_a_dropped_upstream_vary_token_and_a_leaked_upstream_header_are_differences() -> None:
    verdict = evaluate(POLICY, Request("GET", "https://evil.example"))
    observed = Observed(
        status=200,
        headers=((ACAO, "*"), ("Vary", "Origin")),
        reached_upstream=True,
        upstream_status=200,
        upstream_vary=("Accept-Encoding",),
    )

    assert differences(verdict, observed) == [
        "unexpected header Access-Control-Allow-Origin: '*'",
        "the upstream's Vary token 'Accept-Encoding' was dropped",
    ]


def test_either_accepts_both_answers_but_nothing_else() -> None:
    verdict = evaluate(POLICY, preflight("HTTPS://APP.EXAMPLE.COM"))
    refused = Observed(403, (("Vary", ", ".join(PREFLIGHT_VARY)),), reached_upstream=False)
    passed = Observed(200, (("Vary", "Origin"),), reached_upstream=True, upstream_status=200)

    assert differences(verdict, refused) == []
    assert differences(verdict, passed) != []


# --- issue 18: repeated request header lines, methods as written ------------------------------


def test_split_request_headers_lines_are_sent_as_lines_and_predicted_joined_or_first() -> None:
    policy = parse(minimal(allow_headers="'*'"))
    request = Request(
        "OPTIONS", "https://app.example.com", "PUT", "", more_request_headers=("x-b",)
    )
    verdict = evaluate(policy, request)

    assert request.header_lines()[-2:] == [
        ("Access-Control-Request-Headers", ""),
        ("Access-Control-Request-Headers", "x-b"),
    ]
    assert "more_request_headers=('x-b',)" in request.as_code()
    assert [
        answer.headers.get("Access-Control-Allow-Headers") for answer in verdict.acceptable()
    ] == [
        ", x-b",
        None,
    ]


def test_split_request_headers_lines_do_not_matter_to_an_explicit_list() -> None:
    policy = parse(minimal(allow_headers="[X-A]"))
    request = Request(
        "OPTIONS", "https://app.example.com", "PUT", "x-a", more_request_headers=("x-b",)
    )
    assert not evaluate(policy, request).either


def test_a_method_nginx_cannot_parse_may_get_its_400_and_a_standard_one_may_not() -> None:
    policy = parse(minimal(allow_methods="[getaway]"))
    lower = evaluate(policy, Request("getaway", "https://app.example.com"))
    upper = evaluate(policy, Request("PURGE", "https://app.example.com"))

    assert [answer.status for answer in lower.acceptable()] == [None, 400]
    assert "nginx refuses the method 'getaway'" in lower.alternatives[0].notes[0]
    assert not upper.either
