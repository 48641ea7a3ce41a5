"""init --from-httproute: an HTTPRoute's CORS filter as a policy, and the round trip."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.from_httproute import HTTPRouteError, translate_httproute
from corsgen.policy import Policy, load_policy
from corsgen.render import render
from tests.conftest import POLICIES, REPO

EXAMPLE_ROUTE = REPO / "examples" / "kubernetes" / "httproute.yaml"
EXAMPLE_POLICY = REPO / "examples" / "kubernetes" / "policies" / "shop-api.yaml"

ROUND_TRIP_POLICIES = {
    "predict-api": REPO / "examples" / "predict-api.yaml",
    "defaults": POLICIES / "defaults.yaml",
    "any-origin": POLICIES / "any-origin.yaml",
    "shop-api": EXAMPLE_POLICY,
}
MORE_POLICIES = {
    "every-method-and-header": {
        "origins": ["https://*.example.org", "http://127.0.0.1:8080"],
        "allow_credentials": True,
        "allow_methods": "*",
        "allow_headers": "*",
        "expose_headers": ["X-Request-Id", "X-Trace"],
        "max_age": 1,
    },
    "no-headers": {"origins": ["https://a.example.com"], "allow_methods": ["PUT"]},
}


def route_around(filters_text: str, rules: int = 1) -> str:
    """A complete HTTPRoute whose rules hold the rendered filter, as docs/kubernetes.md says."""
    filters = textwrap.indent(filters_text, "    ")
    rule = f"  - filters:\n{filters}    backendRefs:\n    - name: api\n      port: 8080\n"
    return (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
        "metadata:\n  name: api\nspec:\n  parentRefs:\n  - name: gw\n  rules:\n" + rule * rules
    )


def round_trip(policy: Policy, rules: int = 1) -> Policy:
    filters_text = render(policy, "gateway-api").files[f"{policy.name}.cors-filter.yaml"]
    route = route_around(filters_text, rules)
    assert yaml.safe_load(route)["spec"]["rules"][0]["filters"][0]["type"] == "CORS"
    return translate_httproute(route, Path("route.yaml"), Path("p.yaml"), policy.name).policy


@pytest.mark.parametrize("name", ROUND_TRIP_POLICIES)
def test_policy_to_httproute_and_back_is_the_same_normalised_policy(name: str):
    policy = load_policy(ROUND_TRIP_POLICIES[name])
    assert round_trip(policy).normalised() == policy.normalised()


@pytest.mark.parametrize("name", MORE_POLICIES)
def test_the_round_trip_holds_for_wildcards_stars_and_small_values(name: str):
    policy = Policy.model_validate({"version": 1, "name": name, **MORE_POLICIES[name]})
    assert round_trip(policy, rules=3).normalised() == policy.normalised()


def test_the_example_route_gives_back_the_example_policy():
    translated = translate_httproute(
        EXAMPLE_ROUTE.read_text(), EXAMPLE_ROUTE, Path("shop-api.yaml"), "shop-api"
    )
    assert translated.policy.normalised() == load_policy(EXAMPLE_POLICY).normalised()


def test_the_bare_filter_corsgen_renders_is_read_too():
    policy = load_policy(EXAMPLE_POLICY)
    text = render(policy, "gateway-api").files["shop-api.cors-filter.yaml"]
    translated = translate_httproute(text, Path("f.yaml"), Path("p.yaml"), "shop-api")
    assert translated.policy.normalised() == policy.normalised()


def test_the_filter_defaults_are_made_explicit():
    route = route_around("- type: CORS\n  cors:\n    allowOrigins: [https://a.example.com]\n")
    translated = translate_httproute(route, Path("route.yaml"), Path("p.yaml"), "api")
    policy = translated.policy
    assert policy.max_age == 5  # the filter's default, not corsgen's 600
    assert policy.allow_methods == ("GET", "HEAD", "POST")
    assert policy.allow_credentials is False
    assert "its default, 5 seconds" in translated.text
    assert "the CORS-safelisted methods only" in translated.text


def test_routes_with_different_cors_filters_are_refused_with_both_lines():
    one = "- type: CORS\n  cors:\n    allowOrigins: [https://a.example.com]\n"
    other = "- type: CORS\n  cors:\n    allowOrigins: [https://b.example.com]\n"
    text = route_around(one) + "---\n" + route_around(other)
    with pytest.raises(HTTPRouteError) as refused:
        translate_httproute(text, Path("routes.yaml"), Path("p.yaml"), "api")
    [problem] = refused.value.problems
    assert "differs from the one at line 10" in problem.message
    assert problem.line == 26


def test_a_filter_the_schema_refuses_is_reported_at_its_line():
    bad = "- type: CORS\n  cors:\n    allowOrigins: ['*', https://a.example.com]\n    maxAge: 0\n"
    with pytest.raises(HTTPRouteError) as refused:
        translate_httproute(route_around(bad), Path("route.yaml"), Path("p.yaml"), "api")
    messages = [problem.message for problem in refused.value.problems]
    assert "the filter.cors.maxAge 0 is below the minimum 1" in messages
    assert (
        "the filter.cors.allowOrigins: AllowOrigins cannot contain '*' alongside other origins"
        in messages
    )
    assert {problem.line for problem in refused.value.problems} == {10}


def test_corsgen_refuses_what_the_filter_allows_but_a_policy_does_not():
    credentials_star = (
        "- type: CORS\n  cors:\n    allowOrigins: ['*']\n    allowCredentials: true\n"
    )
    with pytest.raises(HTTPRouteError) as refused:
        translate_httproute(route_around(credentials_star), Path("r.yaml"), Path("p.yaml"), "a")
    assert any("cannot be true with origins '*'" in p.message for p in refused.value.problems)


def test_no_cors_filter_is_an_error():
    with pytest.raises(HTTPRouteError, match="no CORS filter found"):
        translate_httproute("kind: HTTPRoute\n", Path("r.yaml"), Path("p.yaml"), "a")


def test_init_from_httproute_writes_the_policy(tmp_path: Path):
    target = tmp_path / "shop-api.yaml"
    result = CliRunner().invoke(app, ["init", "--from-httproute", str(EXAMPLE_ROUTE), str(target)])
    assert result.exit_code == 0, result.output
    assert load_policy(target).normalised() == load_policy(EXAMPLE_POLICY).normalised()
