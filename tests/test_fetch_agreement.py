"""Where the Fetch standard and mature CORS middlewares agree, corsgen's edges agree (issue 18).

Each test sends through real nginx and Apache on 127.0.0.1 the requests a browser sends in
the cases the issue names, and holds every answer to the reference evaluator; where a value is
the point of the test, it is asserted exactly too.
"""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from corsgen.compare import Observed, differences
from corsgen.evaluate import ACAM, Request, evaluate
from corsgen.render import render
from tests.conftest import parse
from tests.edge_servers import EDGES, Edge

pytestmark = pytest.mark.slow

APP = "https://app.example.com"


@pytest.fixture(params=sorted(EDGES))
def edge(request: pytest.FixtureRequest) -> Edge:
    return request.getfixturevalue(f"{request.param}_edge")


def exchange_all(edge: Edge, policy_yaml: str, requests: list[Request]) -> list[Observed]:
    """Load ``policy_yaml`` into ``edge``; each request's answer, held to the evaluator."""
    policy = parse(policy_yaml)
    edge.load(render(policy, edge.target).files)
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


def test_a_request_with_a_lower_case_method_passes_the_edge_with_its_cors_headers(
    edge: Edge,
) -> None:
    requests = [Request("getaway", APP), Request("patch", APP)]
    policy = parse(METHODS_POLICY)
    edge.load(render(policy, edge.target).files)
    with httpx.Client(timeout=10.0, follow_redirects=False) as client:
        for request in requests:
            observed = edge.exchange(client, request).observed
            assert observed.reached_upstream
            assert header_values(observed, "Access-Control-Allow-Origin") == [APP]
            # The test upstream routes only the standard methods and answers "getaway" with
            # its own 405: the status is the upstream's, not the edge's.
            unknown_status = replace(observed, upstream_status=None)
            assert not differences(evaluate(policy, request), unknown_status)
