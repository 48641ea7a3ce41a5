"""The target registry: what each target declares, the refusals it drives, and who reads it."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from corsgen.batch import render_all
from corsgen.cli import app
from corsgen.policy import load_policy
from corsgen.render import render, template_root
from corsgen.targets import (
    POLICY_FEATURES,
    REGISTRY,
    TARGETS,
    CannotExpress,
    get_target,
)
from tests.conftest import POLICIES, REPO, parse

ALL_POLICIES = sorted(POLICIES.glob("*.yaml")) + sorted((REPO / "examples").glob("*.yaml"))
# The edge servers express every feature; the Gateway API filter refuses some
# (tests/test_gateway_api.py), Traefik allow_headers "*" (tests/test_traefik_config.py).
EDGE_TARGETS = tuple(name for name in TARGETS if name not in ("gateway-api", "traefik"))

REGEX_POLICY = """
    version: 1
    name: previews
    origins: [https://app.example.com]
    origin_regex: ['^https://pr-[0-9]+\\.preview\\.example\\.dev$']
"""


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def no_regex_target(monkeypatch: pytest.MonkeyPatch) -> str:
    """A target like apache that cannot express origin_regex, registered for one test only."""
    apache = get_target("apache")
    limited = replace(apache, name="no-regex", expresses=apache.expresses - {"origin_regex"})
    monkeypatch.setitem(REGISTRY, limited.name, limited)
    return limited.name


def test_the_registry_finds_the_target_modules_and_nothing_else():
    assert (
        TARGETS
        == tuple(REGISTRY)
        == (
            "apache",
            "caddy",
            "envoy",
            "gateway-api",
            "haproxy",
            "nginx",
            "traefik",
        )
    )
    assert all(REGISTRY[name].name == name for name in TARGETS)


@pytest.mark.parametrize("target", TARGETS)
def test_a_target_is_its_module_and_its_template_folder(target: str):
    declared = get_target(target)
    folder = template_root() / declared.template_folder
    assert sorted(path.name for path in folder.glob("*.j2")) == sorted(
        file.template for file in declared.files + declared.files_with_options
    )


def test_an_unknown_target_is_refused_by_name():
    with pytest.raises(
        ValueError,
        match="unknown target 'lighttpd'; known: apache, caddy, envoy, gateway-api, haproxy, "
        "nginx, traefik",
    ):
        get_target("lighttpd")


@pytest.mark.parametrize("target", EDGE_TARGETS)
@pytest.mark.parametrize("policy_path", ALL_POLICIES, ids=lambda path: path.stem)
def test_nginx_and_apache_express_every_policy_of_the_tests(target, policy_path):
    assert get_target(target).unexpressed(load_policy(policy_path)) == []


@pytest.mark.parametrize("target", EDGE_TARGETS)
def test_nginx_and_apache_express_every_feature(target: str):
    assert get_target(target).expresses == set(POLICY_FEATURES)


def test_a_target_refuses_a_policy_using_a_feature_it_cannot_express(no_regex_target):
    policy = parse(REGEX_POLICY)
    with pytest.raises(CannotExpress) as refused:
        render(policy, no_regex_target)
    assert refused.value.problems == [
        "policy 'previews' uses origin_regex, which --target no-regex cannot express "
        "(`corsgen targets` lists what each target can)"
    ]


def test_a_target_renders_the_policies_that_use_only_what_it_expresses(no_regex_target):
    policy = parse(REGEX_POLICY.replace("origin_regex", "# origin_regex"))
    assert list(render(policy, no_regex_target).files) == ["previews.conf"]


def test_a_batch_names_every_refusal_before_rendering_anything(no_regex_target):
    policies = [parse(REGEX_POLICY), parse(REGEX_POLICY.replace("previews", "other"))]
    with pytest.raises(CannotExpress) as refused:
        render_all(policies, ["nginx", no_regex_target])
    assert [problem.split(" uses ")[0] for problem in refused.value.problems] == [
        "policy 'previews'",
        "policy 'other'",
    ]


def test_a_target_declaring_a_feature_that_does_not_exist_is_an_error():
    with pytest.raises(ValueError, match="names unknown features \\['origin_regexes'\\]"):
        replace(get_target("nginx"), expresses=frozenset({"origin_regexes"}))


@pytest.mark.parametrize("target", TARGETS)
def test_the_banner_of_each_file_says_where_the_file_goes(target: str):
    policy = load_policy(REPO / "examples" / "predict-api.yaml")
    declared = get_target(target)
    files = render(policy, target).files
    for file in declared.files:
        third_line = files[file.name_for(policy.name)].splitlines()[2]
        assert third_line == f"# {file.part}: {file.directive} this file {file.where}"


@pytest.mark.parametrize("target", TARGETS)
def test_a_target_recognises_the_files_it_wrote_and_no_others(target: str):
    policy = load_policy(REPO / "examples" / "predict-api.yaml")
    for name, text in render(policy, target).files.items():
        first_lines = text.splitlines(keepends=True)[:2]
        assert get_target(target).wrote(name, first_lines)
        for other in TARGETS:
            if other != target:
                assert not get_target(other).wrote(name, first_lines)
        # Renamed by hand (a backup), or not starting with the banner: not the target's.
        assert not get_target(target).wrote(name + ".orig", first_lines)
        assert not get_target(target).wrote(name, ["# mine\n", first_lines[1]])


def test_corsgen_targets_prints_each_target_and_its_capabilities():
    result = run("targets")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for target in REGISTRY.values():
        row = next(line.split() for line in lines if line.startswith(f"{target.name} "))
        assert target.version_floor in row
        for file in target.files:
            assert any(
                line.split()[:2] == [target.name, file.name_for("NAME")]
                and line.endswith(file.placement)
                for line in lines
            )
    for target in REGISTRY.values():
        for option in target.options:
            assert any(
                line.split()[:2] == [target.name, option.name] and line.endswith(option.help)
                for line in lines
            ), f"corsgen targets does not list {target.name}'s option {option.name}"
    header = next(line for line in lines if line.startswith("policy feature"))
    assert header.split()[2:] == list(TARGETS)
    for feature in POLICY_FEATURES:
        row = next(line for line in lines if line.startswith(feature + " "))
        assert row[len(feature) :].split() == [
            "yes" if feature in REGISTRY[name].expresses else "no" for name in TARGETS
        ]


def test_corsgen_targets_json_prints_the_same_facts():
    result = run("targets", "--json")
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert facts == [target.facts() for target in REGISTRY.values()]
    nginx = facts[TARGETS.index("nginx")]
    assert nginx["version_floor"] == "1.22"
    assert [file["name"] for file in nginx["files"]] == [
        "{name}.http.conf",
        "{name}.location.conf",
    ]
    assert nginx["cannot_express"] == []
    assert get_target("apache").facts()["needs"] == ["headers", "setenvif", "rewrite"]


def test_the_readme_target_table_matches_the_registry():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (.+?) \| (.+?) \| (.+?) \|$", readme, re.M)
    table = {name: cells for name, *cells in rows if "`NAME" in cells[1]}
    assert list(table) == list(TARGETS)
    for name, (server, files, needs) in table.items():
        target = get_target(name)
        assert server == f"{target.server} {target.version_floor}"
        assert files == ", ".join(f"`{file.name_for('NAME')}`" for file in target.files)
        assert needs.startswith(", ".join(target.needs))


def test_a_target_declaring_no_options_refuses_every_option():
    policy = load_policy(REPO / "examples" / "predict-api.yaml")
    for target in REGISTRY.values():
        if not target.options:
            assert target.option_problems({"route-name": ("api",)}, [policy]) == [
                f"--target {target.name} takes no --option (given: route-name); "
                "`corsgen targets` lists each target's options"
            ]
            assert target.option_problems({}, [policy]) == []


def test_options_reach_the_context_builder_of_the_target_that_declares_them():
    from corsgen.targets.target import parse_options

    policy = load_policy(REPO / "examples" / "predict-api.yaml")
    options = parse_options(["parent-ref=gw", "backend=predict-api:8080"])
    batch = render_all([policy], ["apache", "gateway-api"], options)
    assert set(batch.files) == {"predict-api.conf", "predict-api.httproute.yaml"}
    assert batch.placements["predict-api.httproute.yaml"] == (
        get_target("gateway-api").files_with_options[0].placement
    )
