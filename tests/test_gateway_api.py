"""gateway-api: the HTTPRoute CORS filter, its schema (field limits and CEL rules) and refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.policy import Policy, load_policy
from corsgen.render import render
from corsgen.targets import CannotExpress, get_target
from corsgen.targets.gateway_api import (
    CEL_RULES,
    SCHEMA_PATH,
    cors_filter,
    filter_schema,
    schema_problems,
)
from tests.conftest import REPO, parse

GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_FILTERS = sorted(GOLDEN.glob("*/*.cors-filter.yaml"))
KUBERNETES_EXAMPLE = REPO / "examples" / "kubernetes"


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(filter_schema())


def jsonschema_errors(value: Any) -> list[str]:
    return [error.message for error in validator().iter_errors(value)]


def policy(**values: Any) -> Policy:
    return Policy.model_validate(
        {"version": 1, "name": "k8s", "origins": ["https://app.example.com"], **values}
    )


def refusals(**values: Any) -> list[str]:
    with pytest.raises(CannotExpress) as refused:
        render(policy(**values), "gateway-api")
    return refused.value.problems


# --- the vendored schema ---------------------------------------------------------------------


def test_the_vendored_schema_names_its_source_version_and_license():
    comment = json.loads(SCHEMA_PATH.read_text())["$comment"]
    assert "kubernetes-sigs/gateway-api" in comment
    assert "v1.5.1" in comment
    assert "gateway.networking.k8s.io_httproutes.yaml" in comment
    assert "Apache License, Version 2.0" in comment


def test_the_vendored_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(filter_schema())


def test_every_cel_rule_of_the_vendored_schema_has_its_python_check():
    def rules(schema: Any) -> set[str]:
        if isinstance(schema, dict):
            found = {rule["rule"] for rule in schema.get("x-kubernetes-validations", ())}
            return found.union(*(rules(value) for value in schema.values()))
        if isinstance(schema, list):
            return set().union(*(rules(value) for value in schema))
        return set()

    assert rules(filter_schema()) == set(CEL_RULES)


# --- every output validates ------------------------------------------------------------------


def test_there_are_golden_filters():
    assert len(GOLDEN_FILTERS) >= 3


@pytest.mark.parametrize("path", GOLDEN_FILTERS, ids=lambda path: path.parent.name)
def test_every_golden_filter_validates_against_the_schema_and_its_cel_rules(path: Path):
    filters = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert jsonschema_errors(filters) == []
    assert schema_problems(filters) == []
    assert [entry["type"] for entry in filters] == ["CORS"]


@pytest.mark.parametrize("path", GOLDEN_FILTERS, ids=lambda path: path.parent.name)
def test_the_yaml_says_what_the_filter_data_says(path: Path):
    policy_path = {
        "predict-api": REPO / "examples" / "predict-api.yaml",
    }.get(path.parent.name, REPO / "tests" / "policies" / f"{path.parent.name}.yaml")
    filters = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert filters == [cors_filter(load_policy(policy_path))]


def test_a_wildcard_policy_renders_a_valid_filter_with_the_wildcard_as_written():
    rendered = render(
        policy(
            origins=["https://*.example.org", "http://127.0.0.1:8080"],
            allow_credentials=True,
            allow_methods="*",
            allow_headers="*",
        ),
        "gateway-api",
    )
    filters = yaml.safe_load(rendered.files["k8s.cors-filter.yaml"])
    assert jsonschema_errors(filters) == [] and schema_problems(filters) == []
    cors = filters[0]["cors"]
    assert cors["allowOrigins"] == ["https://*.example.org", "http://127.0.0.1:8080"]
    assert cors["allowCredentials"] is True
    # "*" is written as the methods it stands for: the same list as on every edge.
    assert cors["allowMethods"] == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    assert cors["allowHeaders"] == ["*"]
    assert "exposeHeaders" not in cors


def test_max_age_is_always_written_because_the_filter_default_is_five_seconds():
    filters = yaml.safe_load(render(policy(), "gateway-api").files["k8s.cors-filter.yaml"])
    assert filters[0]["cors"]["maxAge"] == 600
    assert filters[0]["cors"]["allowCredentials"] is False


# --- the checks agree with jsonschema on what the schema refuses ------------------------------


def filters_with(**cors: Any) -> list[dict[str, Any]]:
    return [{"type": "CORS", "cors": {"allowOrigins": ["https://a.example"], **cors}}]


@pytest.mark.parametrize(
    "filters",
    [
        filters_with(allowOrigins=[f"https://a{i}.example" for i in range(65)]),
        filters_with(allowOrigins=["http://[::1]:8080"]),
        filters_with(allowOrigins=["https://a_b.example"]),
        filters_with(allowOrigins=["capacitor://localhost"]),
        filters_with(allowOrigins=["http://localhost:*"]),
        filters_with(allowMethods=["patch"]),
        filters_with(allowHeaders=[f"X-H{i}" for i in range(65)]),
        filters_with(exposeHeaders=["Bad Header"]),
        filters_with(maxAge=0),
        filters_with(allowCredentials="true"),
    ],
    ids=[
        "65-origins",
        "ipv6",
        "underscore",
        "app-scheme",
        "port-wildcard",
        "lower-case-method",
        "65-headers",
        "header-with-space",
        "max-age-0",
        "credentials-string",
    ],
)
def test_the_schema_keywords_refuse_what_jsonschema_refuses(filters):
    assert jsonschema_errors(filters) != []
    assert schema_problems(filters) != []


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            filters_with(allowOrigins=["*", "https://a.example"]),
            "AllowOrigins cannot contain '*' alongside other origins",
        ),
        (
            filters_with(allowMethods=["*", "GET"]),
            "AllowMethods cannot contain '*' alongside other methods",
        ),
        (
            filters_with(allowHeaders=["*", "X-A"]),
            "AllowHeaders cannot contain '*' alongside other methods",
        ),
        (
            [{"type": "URLRewrite", "cors": {"allowOrigins": ["*"]}}],
            "filter.cors must be nil if the filter.type is not CORS",
        ),
        ([{"type": "CORS"}], "filter.cors must be specified for CORS filter.type"),
        (filters_with() + filters_with(), "CORS filter cannot be repeated"),
    ],
)
def test_each_cel_rule_is_enforced(filters, message):
    assert any(problem.endswith(": " + message) for problem in schema_problems(filters))


def test_an_unknown_field_is_a_problem_the_api_server_would_hide():
    assert schema_problems(filters_with(allowOrigin=["https://a.example"])) == [
        "filters[0].cors.allowOrigin is not a field of the v1.5 schema"
    ]


# --- refusals: exit 1, naming each key and why ---------------------------------------------------


@pytest.mark.parametrize(
    ("values", "feature", "why"),
    [
        (
            {"origin_regex": [r"^https://pr-[0-9]+\.example\.dev$"]},
            "origin_regex",
            "exact origins and *. wildcards only",
        ),
        ({"origins": ["http://127.0.0.1:*"]}, "origins: http://host:*", "no port wildcard"),
        ({"origins": ["capacitor://localhost"]}, "origins: app schemes", "http and https"),
        ({"origins": ["null"]}, 'origins: "null"', "null origin"),
        ({"block_disallowed_origins": True}, "block_disallowed_origins", "reach the backend"),
        ({"allow_private_network": True}, "allow_private_network", "Private Network Access"),
    ],
)
def test_a_feature_the_filter_cannot_say_is_refused_naming_the_key_and_why(values, feature, why):
    problems = refusals(**values)
    assert len(problems) == 1
    assert problems[0].startswith(f"policy 'k8s' uses {feature}, which --target gateway-api")
    assert why in problems[0]


@pytest.mark.parametrize(
    ("values", "key", "detail"),
    [
        (
            {"origins": [f"https://a{i}.example.com" for i in range(65)]},
            "origins",
            "cors.allowOrigins has 65 entries; at most 64",
        ),
        ({"allow_headers": [f"X-H{i}" for i in range(65)]}, "allow_headers", "at most 64"),
        ({"expose_headers": [f"X-H{i}" for i in range(65)]}, "expose_headers", "at most 64"),
        ({"origins": ["http://[::1]:8080"]}, "origins", "'http://[::1]:8080' does not match"),
        ({"allow_methods": ["GET", "PROPFIND"]}, "allow_methods", "'PROPFIND' is not one of"),
        ({"max_age": 0}, "max_age", "cors.maxAge 0 is below the minimum 1"),
    ],
)
def test_a_value_beyond_the_schema_limits_is_refused_naming_the_key(values, key, detail):
    problems = refusals(**values)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"policy 'k8s': {key} cannot be expressed by --target gateway-api"
    )
    assert detail in problems[0]


def test_sixty_four_entries_are_still_expressed():
    origins = [f"https://a{i}.example.com" for i in range(64)]
    headers = [f"X-H{i}" for i in range(64)]
    rendered = render(
        policy(origins=origins, allow_headers=headers, expose_headers=headers), "gateway-api"
    )
    assert schema_problems(yaml.safe_load(rendered.files["k8s.cors-filter.yaml"])) == []


def test_render_exits_1_naming_every_refusal_and_writes_nothing(tmp_path: Path):
    policy_path = tmp_path / "edge-only.yaml"
    policy_path.write_text(
        "version: 1\n"
        "origins: ['https://app.example.com', 'http://127.0.0.1:*', 'null']\n"
        "origin_regex: ['^https://pr-[0-9]+\\.example\\.dev$']\n"
        "block_disallowed_origins: true\n"
        "max_age: 0\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["render", str(policy_path), "--target", "gateway-api", "--out-dir", str(out)]
    )
    assert result.exit_code == 1
    for key in (
        'origins: "null"',
        "origins: http://host:*",
        "origin_regex",
        "block_disallowed_origins",
        "max_age",
    ):
        assert key in result.stderr
    assert "nothing was written" in result.stderr
    assert not out.exists()


def test_render_states_the_semantic_differences_on_stderr(tmp_path: Path):
    policy_path = tmp_path / "public.yaml"
    policy_path.write_text("version: 1\norigins: ['https://app.example.com']\nallow_headers: '*'\n")
    result = CliRunner().invoke(app, ["render", str(policy_path), "--target", "gateway-api"])
    assert result.exit_code == 0, result.output
    assert "maxAge 600 is always written" in result.stderr
    assert "200/204 and no CORS headers or with 403" in result.stderr
    assert "Access-Control-Allow-Headers: *" in result.stderr
    assert result.stdout.splitlines()[0].startswith("# ===== public.cors-filter.yaml: paste under")


def test_the_edge_targets_render_what_the_filter_refuses():
    # The refusals are the filter's, not the policy's: the same policy renders for nginx.
    edge_only = parse(
        """
        version: 1
        name: edge-only
        origins: [https://app.example.com, "null"]
        block_disallowed_origins: true
        """
    )
    assert render(edge_only, "nginx").files
    assert get_target("gateway-api").unexpressed(edge_only) == [
        'origins: "null"',
        "block_disallowed_origins",
    ]
