"""Policies whose names once shared identifiers, side by side in one real nginx and Apache.

Spec section 4, "Policy names side by side". `shop` and `shop-options` both defined
`$corsgen_shop_options_action`, `a-b` and `a_b` every variable: nginx lets the later `map`
replace the earlier one without a word (`nginx -t` passes), and one location then answered
the other policy's preflights. Here every policy allows an origin of its own, each location
(one nested in another) must answer its own origin's preflight 204 and every other's 403.

The servers are tests/edge_servers.py's, with a main config that includes several policies:
nginx in locations of one server, Apache in name-based virtual hosts of one port (its
snippet belongs at virtual-host level, see docs/apache.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from corsgen.policy import Policy
from corsgen.render import render
from edgeharness.availability import require_installed
from edgeharness.targets import APACHE, NGINX
from tests.edge_servers import GENERATION_HEADER, ApacheEdge, Edge, NginxEdge, Upstream, running

pytestmark = pytest.mark.slow

LONG_NAME = "a-policy-name-of-sixty-three-characters-is-still-a-valid-name-x"
# Pairs whose identifiers collided, and two long names (shortened stems).
NAMES = ("shop", "shop-options", "a-b", "a_b", "a__b", "a-_b", LONG_NAME, LONG_NAME[:-2])
ORIGINS = {name: f"https://site{index}.example.com" for index, name in enumerate(NAMES)}
# nginx: a location of a-b holds a nested location of a_b.
NESTED = ("a-b", "a_b")


def policy(name: str) -> Policy:
    return Policy.model_validate(
        {
            "version": 1,
            "name": name,
            "origins": [ORIGINS[name]],
            "allow_credentials": True,
            "allow_headers": ["Content-Type"],
            "expose_headers": ["X-Request-Id"],
        }
    )


def rendered(target: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for name in NAMES:
        files.update(render(policy(name), target).files)
    return files


def policy_names(folder: Path, suffix: str) -> list[str]:
    return sorted(path.name[: -len(suffix)] for path in folder.glob(f"*{suffix}"))


class SideBySideNginx(NginxEdge):
    """nginx with every policy's http part in http { } and a location per policy."""

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        return dict(rendered)

    def write_main_config(self) -> Path:
        names = policy_names(self.policy_dir, ".location.conf")
        includes = "".join(f"    include {self.policy_dir}/{n}.http.conf;\n" for n in names)
        # The location's prefix becomes /ok/: the upstream answers 200 below it.
        proxy = f"proxy_pass http://127.0.0.1:{self.upstream.port}/ok/;"
        outer, inner = NESTED
        locations = "".join(
            f"        location /p/{name}/ {{\n"
            f"            include {self.policy_dir}/{name}.location.conf;\n"
            f"            {proxy}\n"
            + (
                f"            location /p/{outer}/nested/ {{\n"
                f"                include {self.policy_dir}/{inner}.location.conf;\n"
                f"                {proxy}\n"
                f"            }}\n"
                if name == outer
                else ""
            )
            + "        }\n"
            for name in names
        )
        return self.write_config(
            "side-by-side test",
            includes,
            f"""        location = /ready {{
            add_header {GENERATION_HEADER} "{self.generation}" always;
            return 200;
        }}
{locations}""",
        )


class SideBySideApache(ApacheEdge):
    """Apache with one name-based virtual host per policy, all on one port."""

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        return dict(rendered)

    def write_main_config(self) -> Path:
        vhosts = "".join(
            f"<VirtualHost 127.0.0.1:{self.port}>\n"
            f"    ServerName {apache_host(name)}\n"
            f"    Include {self.policy_dir}/{name}.conf\n"
            f'    Header always set {GENERATION_HEADER} "{self.generation}"\n'
            f"    ProxyPass / http://127.0.0.1:{self.upstream.port}/ok/\n"
            f"</VirtualHost>\n"
            for name in policy_names(self.policy_dir, ".conf")
        )
        return self.write_config("side-by-side test", f"Listen 127.0.0.1:{self.port}\n{vhosts}")


def apache_host(name: str) -> str:
    return f"p{NAMES.index(name)}.test"


@pytest.fixture(scope="module")
def side_by_side_nginx(upstream: Upstream) -> Iterator[Edge]:
    require_installed(NGINX)
    yield from running(SideBySideNginx(upstream), rendered("nginx"))


@pytest.fixture(scope="module")
def side_by_side_apache(upstream: Upstream) -> Iterator[Edge]:
    require_installed(APACHE)
    yield from running(SideBySideApache(upstream), rendered("apache"))


def request(
    edge: Edge, method: str, path: str, origin: str, host: str | None = None
) -> httpx.Response:
    headers = {"Origin": origin}
    if method == "OPTIONS":
        headers["Access-Control-Request-Method"] = "POST"
    if host is not None:
        headers["Host"] = host
    return httpx.request(method, edge.base_url + path, headers=headers, timeout=10)


def answers(edge: Edge, method: str, paths: dict[str, tuple[str, str | None]]) -> dict:
    """(where, origin's policy) -> status and ACAO, for every place and every origin."""
    found = {}
    for where, (path, host) in paths.items():
        for owner, origin in ORIGINS.items():
            response = request(edge, method, path, origin, host)
            acao = response.headers.get("Access-Control-Allow-Origin")
            found[where, owner] = (response.status_code, acao)
    return found


def expected(places: dict[str, str], method: str) -> dict:
    """Each place allows its policy's origin only: 204 / 403 (preflights), 200 (others)."""
    table = {}
    for where, policy_name in places.items():
        for owner, origin in ORIGINS.items():
            own = owner == policy_name
            if method == "OPTIONS":
                table[where, owner] = (204, origin) if own else (403, None)
            else:
                table[where, owner] = (200, origin) if own else (200, None)
    return table


def nginx_places() -> tuple[dict[str, tuple[str, None]], dict[str, str]]:
    outer, inner = NESTED
    paths: dict[str, tuple[str, None]] = {name: (f"/p/{name}/x", None) for name in NAMES}
    paths["nested"] = (f"/p/{outer}/nested/x", None)
    policies = {name: name for name in NAMES} | {"nested": inner}
    return paths, policies


def test_nginx_t_passes_with_every_policy_side_by_side(side_by_side_nginx: Edge):
    result = side_by_side_nginx.check(side_by_side_nginx.root / "nginx.conf")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("method", ["OPTIONS", "GET"])
def test_each_nginx_location_answers_its_own_policy_only(side_by_side_nginx: Edge, method: str):
    paths, policies = nginx_places()
    assert answers(side_by_side_nginx, method, paths) == expected(policies, method)


def test_apache_t_passes_with_every_policy_side_by_side(side_by_side_apache: Edge):
    result = side_by_side_apache.check(side_by_side_apache.root / "apache2.conf")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("method", ["OPTIONS", "GET"])
def test_each_apache_virtual_host_answers_its_own_policy_only(
    side_by_side_apache: Edge, method: str
):
    paths = {name: ("/x", apache_host(name)) for name in NAMES}
    policies = {name: name for name in NAMES}
    assert answers(side_by_side_apache, method, paths) == expected(policies, method)
