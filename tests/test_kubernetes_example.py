"""examples/kubernetes and docs/kubernetes.md: the route holds the filter the policy renders."""

from __future__ import annotations

import re

import yaml
from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.from_ingress_nginx import translate_ingress_nginx
from corsgen.policy import load_policy
from corsgen.render import render
from corsgen.targets.gateway_api import schema_problems
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "kubernetes"
POLICY = EXAMPLE / "policies" / "shop-api.yaml"
FILTER_FILE = EXAMPLE / "cors" / "shop-api.cors-filter.yaml"
DOC = REPO / "docs" / "kubernetes.md"


def rendered_filters() -> list[dict]:
    text = render(load_policy(POLICY), "gateway-api").files[FILTER_FILE.name]
    return yaml.safe_load(text)


def test_the_committed_filter_is_current_as_corsgen_check_says():
    result = CliRunner().invoke(
        app,
        [
            "check",
            str(EXAMPLE / "policies"),
            "--target",
            "gateway-api",
            "--out-dir",
            str(EXAMPLE / "cors"),
        ],
    )
    assert result.exit_code == 0, result.output


def test_every_rule_of_the_route_holds_the_rendered_filter():
    route = yaml.safe_load((EXAMPLE / "httproute.yaml").read_text(encoding="utf-8"))
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["kind"] == "HTTPRoute"
    for rule in route["spec"]["rules"]:
        cors = [entry for entry in rule["filters"] if entry["type"] == "CORS"]
        assert cors == rendered_filters()
        assert schema_problems(rule["filters"]) == []


def test_the_page_shows_the_rendered_filter():
    blocks = re.findall(r"^```yaml\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)
    body = FILTER_FILE.read_text(encoding="utf-8").split("\n- type: CORS", 1)[1]
    assert "- type: CORS" + body in blocks


def test_the_ingress_imports_as_the_policy_before_its_reviewed_widening():
    source = EXAMPLE / "ingresses.yaml"
    [shop] = translate_ingress_nginx(source.read_text(), source, EXAMPLE / "policies")
    imported = shop.policy.normalised()
    # The one documented review step: the one-label regex becomes a *. entry.
    assert imported["origin_regex"] == [r"^https://[a-z0-9-]+\.shop\.example\.com$"]
    widened = {
        **imported,
        "origins": [*imported["origins"], "https://*.shop.example.com"],
        "origin_regex": [],
    }
    assert widened == load_policy(POLICY).normalised()
