"""The Gateway API conformance suite's CORS scenarios, as corsgen policies, on every edge.

The scenarios are those of ``HTTPRouteCORS`` in kubernetes-sigs/gateway-api v1.5.1
(conformance/tests/httproute-cors.go and .yaml): each route's CORS filter written as a
corsgen policy, each test case as a request and the answers it accepts. They hold on the
reference evaluator (the spec) and on a real nginx and Apache, except where corsgen's spec
(section 4) deliberately answers otherwise; those expectations are listed in DIVERGES with
the reason, and a test checks that corsgen still answers its own way, so that a change on
either side is seen. No browser behaves differently for any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from corsgen.errors import PolicyError
from corsgen.evaluate import Request, evaluate
from corsgen.policy import Policy
from corsgen.render import render
from tests.conftest import parse
from tests.edge_servers import EDGES, Edge

# The routes' CORS filters as policies (the credentialed "*" route is refused, below).
POLICIES = {
    "cors-1": {
        "origins": ["https://www.foo.com", "https://*.bar.com"],
        "allow_methods": ["GET", "OPTIONS"],
        "allow_headers": ["x-header-1", "x-header-2"],
        "expose_headers": ["x-header-3", "x-header-4"],
        "allow_credentials": True,
        "max_age": 3600,
    },
    "cors-2": {"origins": ["https://www.foo.com"], "allow_methods": "*"},
    "cors-wildcard-origin": {"origins": "*", "allow_methods": ["PUT"]},
    "cors-wildcard-methods-headers-unauth": {
        "origins": "*",
        "allow_methods": "*",
        "allow_headers": "*",
    },
}

ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"
ACAM = "access-control-allow-methods"
ACAH = "access-control-allow-headers"
ACEH = "access-control-expose-headers"
ACMA = "access-control-max-age"


@dataclass(frozen=True)
class Case:
    """One conformance test case: the request, and what its answer may be."""

    name: str
    route: str
    request: Request
    statuses: tuple[int, ...]
    # header -> accepted values, each compared as a set of comma-separated tokens
    valid: dict[str, tuple[str, ...]] = field(default_factory=dict)
    absent: tuple[str, ...] = ()


def allowed_cors_1_preflight(name: str, origin: str) -> Case:
    """A preflight to cors-1 that its origins allow: the Origin echoed, and the route's
    methods, headers, exposed headers, max age and credentials."""
    return Case(
        name,
        "cors-1",
        Request("OPTIONS", origin, "GET", "x-header-1, x-header-2"),
        (200, 204),
        {
            ACAO: (origin,),
            ACAM: ("GET, OPTIONS",),
            ACAH: ("x-header-1, x-header-2",),
            ACEH: ("x-header-3, x-header-4",),
            ACMA: ("3600",),
            ACAC: ("true",),
        },
    )


CASES = [
    allowed_cors_1_preflight(
        "preflight from an exact matching origin is allowed", "https://www.foo.com"
    ),
    allowed_cors_1_preflight(
        "preflight from a wildcard matching origin is allowed", "https://www.bar.com"
    ),
    allowed_cors_1_preflight(
        "preflight from a wildcard matching any number of labels is allowed",
        "https://xpto.www.bar.com",
    ),
    Case(
        "preflight from a non-matching origin is not allowed",
        "cors-1",
        Request("OPTIONS", "https://foobar.com", "GET"),
        (200, 204, 403),
        absent=(ACAO,),
    ),
    Case(
        "simple request from an exact matching origin is allowed",
        "cors-1",
        Request("GET", "https://www.foo.com"),
        (200,),
        {ACAO: ("https://www.foo.com",)},
    ),
    Case(
        "simple request from a wildcard matching origin is allowed",
        "cors-1",
        Request("GET", "https://www.bar.com"),
        (200,),
        {ACAO: ("https://www.bar.com",)},
    ),
    Case(
        "simple request from a non-matching origin is not allowed",
        "cors-1",
        Request("GET", "https://foobar.com"),
        (200,),
        absent=(ACAO,),
    ),
    Case(
        "preflight with POST is allowed by allowMethods '*'",
        "cors-2",
        Request("OPTIONS", "https://www.foo.com", "POST"),
        (200, 204),
        {ACAM: ("POST", "*"), ACAO: ("https://www.foo.com",)},
        absent=(ACAC,),
    ),
    Case(
        "preflight from a wildcard origin answers '*' or the Origin",
        "cors-wildcard-origin",
        Request("OPTIONS", "https://foobar.com", "PUT"),
        (200, 204),
        {ACAO: ("https://foobar.com", "*"), ACAM: ("PUT",)},
        absent=(ACAC,),
    ),
    Case(
        "request from a wildcard origin with a port answers '*' or the Origin",
        "cors-wildcard-origin",
        Request("PUT", "https://foobar.com:12345"),
        (200,),
        {ACAO: ("https://foobar.com:12345", "*")},
    ),
    Case(
        "simple request from a wildcard origin answers '*' or the Origin",
        "cors-wildcard-origin",
        Request("PUT", "https://foobar.com"),
        (200,),
        {ACAO: ("https://foobar.com", "*")},
        absent=(ACAC,),
    ),
    Case(
        "preflight on the path without credentials has no credentials header",
        "cors-wildcard-methods-headers-unauth",
        Request("OPTIONS", "https://other.foo.com", "PUT", "x-header-1, x-header-2"),
        (200, 204),
        {
            ACAO: ("https://other.foo.com", "*"),
            ACAM: ("PUT", "*"),
            ACAH: ("x-header-1, x-header-2", "*"),
        },
        absent=(ACAC,),
    ),
    Case(
        # The suite sends a Cookie; what corsgen's edges answer does not depend on it.
        "request on the path without credentials has no credentials header",
        "cors-wildcard-methods-headers-unauth",
        Request("GET", "https://other.foo.com"),
        (200,),
        {ACAO: ("https://other.foo.com",)},
        absent=(ACAC,),
    ),
]

# (case name, header) -> why corsgen answers otherwise. Browsers act the same either way.
DIVERGES = {
    **{
        (case.name, ACEH): "spec section 4: a preflight answer never carries ACEH (browsers "
        "read it on the actual response only)"
        for case in CASES[:3]
    },
    ("preflight with POST is allowed by allowMethods '*'", ACAM): "spec section 4: ACAM is "
    "the policy's full method list, never a reflection and never '*'",
    ("preflight on the path without credentials has no credentials header", ACAM): "spec "
    "section 4: ACAM is the policy's full method list, never a reflection and never '*'",
    ("request on the path without credentials has no credentials header", ACAO): "spec "
    "section 2: under origins '*' every response carries ACAO '*'; the suite's request has a "
    "Cookie, which makes Gateway API echo the Origin, yet without ACAC a browser refuses a "
    "credentialed answer either way",
}


def policy(route: str) -> Policy:
    return Policy.model_validate({"version": 1, "name": route, **POLICIES[route]})


def tokens(value: str) -> set[str]:
    return {token.strip().lower() for token in value.split(",") if token.strip()}


def mismatches(case: Case, status: int, headers: dict[str, str]) -> dict[str, str]:
    """What differs from the case's expectations: header (or "status") -> what was seen."""
    found = {}
    if status not in case.statuses:
        found["status"] = str(status)
    for name, accepted in case.valid.items():
        value = headers.get(name)
        if value is None or tokens(value) not in [tokens(option) for option in accepted]:
            found[name] = repr(value)
    for name in case.absent:
        if name in headers:
            found[name] = repr(headers[name])
    return found


def expected_mismatches(case: Case) -> set[str]:
    return {header for (name, header) in DIVERGES if name == case.name}


def evaluator_answer(case: Case) -> tuple[int, dict[str, str]]:
    verdict = evaluate(policy(case.route), case.request)
    # None: the upstream's status is kept (the suite's backend answers 200).
    return verdict.status or 200, {name.lower(): value for name, value in verdict.headers.items()}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_scenario_holds_on_the_reference_evaluator_except_the_stated_divergences(case: Case):
    status, headers = evaluator_answer(case)
    assert set(mismatches(case, status, headers)) == expected_mismatches(case)


def test_every_scenario_renders_a_gateway_api_filter_like_the_suites_route():
    for route in POLICIES:
        cors = render(policy(route), "gateway-api").files[f"{route}.cors-filter.yaml"]
        assert "type: CORS" in cors


def test_the_credentialed_any_origin_route_is_refused_as_spec_section_1_says():
    # cors-wildcard-methods-headers: allowOrigins ["*"] with allowCredentials true, which
    # Gateway API answers by echoing every Origin with credentials. corsgen refuses it.
    with pytest.raises(PolicyError, match="cannot be true with origins"):
        parse(
            "version: 1\nname: x\norigins: '*'\nallow_methods: '*'\nallow_headers: '*'\n"
            "allow_credentials: true\n"
        )


# --- on the real servers -------------------------------------------------------------------


@pytest.fixture(params=sorted(EDGES))
def edge(request: pytest.FixtureRequest) -> Edge:
    return request.getfixturevalue(f"{request.param}_edge")


@pytest.mark.slow
@pytest.mark.parametrize("route", POLICIES)
def test_the_scenario_holds_on_the_real_edge_except_the_stated_divergences(edge: Edge, route: str):
    if not edge.load_policy(policy(route)):
        return  # refused by render, as the edge's target says (checked by load_policy)
    problems = []
    with httpx.Client(timeout=10.0) as client:
        for case in (case for case in CASES if case.route == route):
            observed = edge.exchange(client, case.request).observed
            headers: dict[str, str] = {}
            for name, value in observed.headers:
                headers[name.lower()] = (
                    f"{headers[name.lower()]}, {value}" if name.lower() in headers else value
                )
            found = mismatches(case, observed.status, headers)
            if set(found) != expected_mismatches(case):
                problems.append(f"{case.name}: {found}")
    assert problems == []
