"""Where the Fetch standard and mature CORS middlewares agree, corsgen's edges agree (issue 18).

Each test sends through real nginx and Apache on 127.0.0.1 the requests a browser sends in
the cases the issue names, and holds every answer to the reference evaluator; where a value is
the point of the test, it is asserted exactly too.
"""

from __future__ import annotations

import httpx
import pytest

from corsgen.compare import Observed, differences
from corsgen.evaluate import ACAM, Request, evaluate
from corsgen.targets import get_target
from tests.conftest import parse
from tests.edge_servers import EDGES, Edge
from tests.raw_http import send_as_written

pytestmark = pytest.mark.slow

APP = "https://app.example.com"


@pytest.fixture(params=sorted(EDGES))
def edge(request: pytest.FixtureRequest) -> Edge:
    return request.getfixturevalue(f"{request.param}_edge")


# The edges that reflect Access-Control-Request-Headers (Traefik refuses allow_headers "*":
# tests/test_traefik_config.py).
@pytest.fixture(
    params=[name for name in sorted(EDGES) if 'allow_headers: "*"' in get_target(name).expresses]
)
def reflecting_edge(request: pytest.FixtureRequest) -> Edge:
    return request.getfixturevalue(f"{request.param}_edge")


def exchange_all(edge: Edge, policy_yaml: str, requests: list[Request]) -> list[Observed]:
    """Load ``policy_yaml`` into ``edge``; each request's answer, held to the evaluator."""
    policy = parse(policy_yaml)
    edge.load(edge.render_files(policy))
    answers = []
    with httpx.Client(timeout=10.0, follow_redirects=False) as client:
        for request in requests:
            observed = edge.exchange(client, request).observed
            found = differences(evaluate(policy, request), observed)
            assert not found, f"{edge.name}: {request.as_code()}: {found}"
            answers.append(observed)
    return answers


def header_values(observed: Observed, name: str) -> list[str]:
    return [value for key, value in observed.headers if key.lower() == name.lower()]


# --- method case (spec section 1) ---------------------------------------------------------------

METHODS_POLICY = f"""\
version: 1
name: methods
origins: [{APP}]
allow_methods: [getaway, patch, delete]
"""


def test_a_preflight_gets_other_methods_as_written_and_the_standard_six_upper_case(
    edge: Edge,
) -> None:
    # Browsers send `fetch(url, {method: "getaway"})` as "getaway", and compare it with
    # Access-Control-Allow-Methods case-sensitively: "GETAWAY" would refuse it (issue 18).
    (preflight,) = exchange_all(edge, METHODS_POLICY, [Request("OPTIONS", APP, "getaway")])
    assert preflight.status == 204
    assert header_values(preflight, ACAM) == ["getaway, patch, DELETE"]


@pytest.mark.parametrize("method", ["getaway", "patch", "options"])
def test_a_request_with_a_lower_case_method_gets_what_each_server_does_with_it(
    edge: Edge, method: str
) -> None:
    # Apache passes it on with the CORS headers of an allowed origin; nginx 1.22's request
    # parser refuses any method that is not upper case with 400 before the configuration
    # runs (docs/nginx.md). The evaluator predicts both.
    policy = parse(METHODS_POLICY)
    exchange_all(edge, METHODS_POLICY, [Request("GET", APP)])  # loaded and answering
    request = Request(method, APP, "PUT" if method == "options" else None)
    observed = send_as_written(edge, request)
    assert not differences(evaluate(policy, request), observed)
    # Envoy's HTTP/1 parser refuses it with 400 too (docs/envoy.md).
    if edge.name in ("nginx", "envoy"):
        assert (observed.status, observed.reached_upstream) == (400, False)
    else:
        assert observed.reached_upstream
        assert header_values(observed, "Access-Control-Allow-Origin") == [APP]


# --- repeated request header lines (spec section 2: HTTP joins them with ", ") ---------------

REFLECT_POLICY = f"""\
version: 1
name: reflect
origins: [{APP}]
allow_headers: "*"
"""


# Envoy joins repeated lines with "," and leaves empty ones out (the same list).
ENVOY_REFLECTED = {("x-a", "x-b"): ["x-a,x-b"], ("", "x-b"): ["x-b"], ("x-a", ""): ["x-a"]}


@pytest.mark.parametrize(
    ("lines", "apache", "nginx", "haproxy"),
    [
        # A proxy split one line in two: HTTP's combination is "x-a, x-b".
        (("x-a", "x-b"), ["x-a, x-b"], ["x-a"], ["x-a, x-b"]),
        # An empty first line: the combination still names x-b.
        (("", "x-b"), [", x-b"], [], [", x-b"]),
        (("x-a", ""), ["x-a,"], ["x-a"], ["x-a,"]),  # (the trailing space is not a value's)
    ],
)
def test_split_access_control_request_headers_lines_are_reflected_as_each_server_reads_them(
    reflecting_edge: Edge,
    lines: tuple[str, ...],
    apache: list[str],
    nginx: list[str],
    haproxy: list[str],
) -> None:
    edge = reflecting_edge
    # Apache and HAProxy join repeated lines as HTTP says. nginx 1.22 (Debian bookworm) puts
    # the first line alone in $http_access_control_request_headers and has no directive that reads
    # the others (nginx 1.23 joins them): a documented limit (docs/nginx.md), which fails
    # closed (the browser refuses the headers left out) and which the evaluator predicts.
    request = Request(
        "OPTIONS", APP, "PUT", request_headers=lines[0], more_request_headers=lines[1:]
    )
    (preflight,) = exchange_all(edge, REFLECT_POLICY, [request])
    assert preflight.status == 204
    # Caddy joins the lines as Apache does, with "," where Apache writes ", ".
    caddy = [value.replace(", ", ",") for value in apache]
    if edge.name == "envoy":
        expected = ENVOY_REFLECTED[lines]
    else:
        expected = {"apache": apache, "nginx": nginx, "haproxy": haproxy, "caddy": caddy}[edge.name]
    assert header_values(preflight, "Access-Control-Allow-Headers") == expected


def test_a_request_headers_line_split_in_two_is_one_of_the_answers_the_evaluator_accepts() -> None:
    policy = parse(REFLECT_POLICY)
    verdict = evaluate(
        policy, Request("OPTIONS", APP, "PUT", request_headers="x-a", more_request_headers=("x-b",))
    )
    assert [
        answer.headers.get("Access-Control-Allow-Headers") for answer in verdict.acceptable()
    ] == [
        "x-a, x-b",
        "x-a",
    ]
    assert "nginx before 1.23 reflects only the first" in verdict.notes[-1]


PRIVATE_NETWORK_POLICY = f"""\
version: 1
name: pna
origins: [{APP}]
allow_private_network: true
"""


@pytest.mark.parametrize(
    "origins",
    [
        (APP, APP),
        (APP, "https://evil.example"),
        ("https://evil.example", APP),
    ],
)
def test_two_origin_lines_are_not_allowed_by_apache_and_nginx_reads_only_the_first(
    edge: Edge, origins: tuple[str, str]
) -> None:
    # No browser sends two Origin lines. Apache joins them ("a, b"), which no entry matches.
    # nginx 1.22 reads the first line alone, as for every $http_* variable, and cannot see
    # the second (docs/nginx.md): it answers as if the first were the only one, so a client
    # gets nothing it would not get by sending that one line.
    # Traefik's routers match any line, its ACAO comes from the first (docs/traefik.md).
    requests = [Request("GET", origins[0], more_origins=origins[1:])]
    requests.append(Request("OPTIONS", origins[0], "PUT", more_origins=origins[1:]))
    for observed in exchange_all(edge, PRIVATE_NETWORK_POLICY, requests):
        allow_origin = header_values(observed, "Access-Control-Allow-Origin")
        # Caddy and Envoy join them too ("a,b"): no entry matches either.
        if edge.name in ("apache", "caddy", "envoy") or origins[0] != APP:
            assert allow_origin == []
        else:
            assert allow_origin == [APP]


@pytest.mark.parametrize(
    ("header", "lines", "apache", "nginx", "haproxy", "traefik"),
    [
        # Two equal request-method lines: a preflight on all four.
        (
            "Access-Control-Request-Method",
            ("PUT", "PUT"),
            (204, None),
            (204, None),
            (204, None),
            (204, None),
        ),
        # An empty first line: Apache joins it to ", PUT" (a preflight); nginx 1.22 reads ""
        # and passes the OPTIONS request on, as for any OPTIONS without the header; so does
        # HAProxy, whose fragment asks for the first line (req.fhdr(name,1)). Traefik's
        # router rule matches the non-empty line: a preflight.
        (
            "Access-Control-Request-Method",
            ("", "PUT"),
            (204, None),
            (200, None),
            (200, None),
            (204, None),
        ),
        # "true" twice: Apache's joined "true, true" is not exactly "true" (no
        # Access-Control-Allow-Private-Network); nginx 1.22 and HAProxy read the first "true",
        # Traefik's Header matcher finds a line "true".
        (
            "Access-Control-Request-Private-Network",
            ("true", "true"),
            (204, None),
            (204, "true"),
            (204, "true"),
            (204, "true"),
        ),
    ],
)
def test_other_request_headers_the_snippets_read_in_two_lines(
    edge: Edge,
    header: str,
    lines: tuple[str, str],
    apache: tuple,
    nginx: tuple,
    haproxy: tuple,
    traefik: tuple,
) -> None:
    # docs/nginx.md: nginx 1.22 reads the first line of every request header. None of these
    # is a request a browser sends; each answer is one the spec allows for what the server
    # read, and none lets in an origin that is not allowed.
    if header == "Access-Control-Request-Method":
        request = Request("OPTIONS", APP)
    else:
        request = Request("OPTIONS", APP, "GET")
    exchange_all(edge, PRIVATE_NETWORK_POLICY, [Request("GET", APP)])  # loaded and answering
    observed = send_as_written(edge, request, tuple((header, line) for line in lines))
    # Caddy's snippet reads Access-Control-Request-Method joined (",PUT" is one) as Apache
    # does, and takes "true" on any Access-Control-Request-Private-Network line as HAProxy
    # takes the first (its header matcher looks at each line).
    caddy = haproxy if header == "Access-Control-Request-Private-Network" else apache
    # Envoy joins the lines as Apache does ("PUT,PUT", ",PUT", "true,true"), with Apache's
    # answers.
    expected_status, private_network = {
        "apache": apache,
        "nginx": nginx,
        "haproxy": haproxy,
        "caddy": caddy,
        "traefik": traefik,
        "envoy": apache,
    }[edge.name]
    assert observed.status == expected_status
    assert observed.reached_upstream is (expected_status == 200)
    assert header_values(observed, "Access-Control-Allow-Private-Network") == (
        [private_network] if private_network else []
    )
