"""The proof behind each audit rule: the flagged config on a real nginx or Apache shows the
damage a browser sees, and the fix the rule names repairs it.

For each rule, one server runs the config the rule flags and one the config it passes
(each a site file of its own, audited on its own); a request shows what the browser
gets from each. "What the browser gets" is Fetch's CORS check
(https://fetch.spec.whatwg.org/#cors-check), written out in :func:`page_can_read`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from corsgen.audit import audit_paths
from corsgen.evaluate import browser_max_age
from corsgen.policy import load_policy
from corsgen.render import render
from edgeharness import process
from edgeharness.availability import require_installed
from edgeharness.net import answers_ok, free_port
from edgeharness.targets import APACHE, NGINX

pytestmark = pytest.mark.slow

APP = "https://app.example.com"
ATTACKER = "https://attacker.example"
LOOKALIKE = "https://example.com.attacker.net"
START_TIMEOUT = 15.0
ALLOW_ORIGIN = "access-control-allow-origin"


def page_can_read(response: httpx.Response, origin: str, credentials: bool) -> bool:
    """Fetch's CORS check: whether a page at ``origin`` may read ``response``."""
    values = response.headers.get_list(ALLOW_ORIGIN)
    if len(values) != 1:  # absent, or two headers (which a browser reads as "a, b")
        return False
    if values[0] == "*" and not credentials:
        return True
    if values[0] != origin:
        return False
    return not credentials or response.headers.get("access-control-allow-credentials") == "true"


def rules_found(path: Path) -> list[str]:
    result = audit_paths([path])
    assert result.problems == []
    return [finding.rule.id for finding in result.findings]


def flagged_and_fixed(sites: dict[str, Site], case: str, rule: str) -> tuple[Site, Site]:
    """The case's flagged site and its fix: ``rule`` is all the audit finds in the first,
    nothing in the second."""
    bad, fixed = sites[f"{case}-bad"], sites[f"{case}-fixed"]
    assert rules_found(bad.path) == [rule]
    assert rules_found(fixed.path) == []
    return bad, fixed


def assert_only_the_fix_answers_a_404_with_cors(bad: Site, fixed: Site) -> None:
    """CORS102: a header set without ``always`` is missing on an error status."""
    answer = bad.get("/missing")
    assert answer.status_code == 404 and ALLOW_ORIGIN not in answer.headers
    repaired = fixed.get("/missing")
    assert repaired.status_code == 404 and page_can_read(repaired, APP, credentials=False)


@dataclass
class Site:
    path: Path
    port: int

    def get(self, path: str = "/", origin: str = APP) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", headers={"Origin": origin})


# --- nginx ------------------------------------------------------------------------------------

# A hand-written allow-list done right ({name}: each site's own variables).
ALLOW_LIST_MAP = """map $http_origin $allowed_origin_{name} {
    default "";
    "https://app.example.com" $http_origin;
}
map $allowed_origin_{name} $allowed_credentials_{name} {
    default "true";
    "" "";
}
"""
ALLOW_LIST_HEADERS = """    add_header Access-Control-Allow-Origin $allowed_origin_{name} always;
    add_header Access-Control-Allow-Credentials $allowed_credentials_{name} always;
    add_header Vary Origin always;
"""
# Each site: (what goes before its server { } in http { }, what goes inside it).
NGINX_SITES: dict[str, tuple[str, str]] = {
    "upstream": ("", '    add_header Access-Control-Allow-Origin "*" always;\n    return 200;\n'),
    "inheritance-bad": (
        "",
        "    add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "    location / {\n"
        "        add_header X-Frame-Options DENY always;\n"
        "        return 200;\n"
        "    }\n",
    ),
    "inheritance-fixed": (
        "",
        "    add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "    location / {\n"
        "        add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "        add_header X-Frame-Options DENY always;\n"
        "        return 200;\n"
        "    }\n",
    ),
    "always-bad": (
        "",
        "    location / {\n"
        "        add_header Access-Control-Allow-Origin https://app.example.com;\n"
        "        return 404;\n"
        "    }\n",
    ),
    "always-fixed": (
        "",
        "    location / {\n"
        "        add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "        return 404;\n"
        "    }\n",
    ),
    "duplicate-bad": (
        "",
        "    location / {\n"
        "        add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "        proxy_pass http://127.0.0.1:{upstream};\n"
        "    }\n",
    ),
    "duplicate-fixed": (
        "",
        "    location / {\n"
        "        proxy_hide_header Access-Control-Allow-Origin;\n"
        "        add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "        proxy_pass http://127.0.0.1:{upstream};\n"
        "    }\n",
    ),
    "reflect-bad": (
        "",
        "    add_header Access-Control-Allow-Origin $http_origin always;\n"
        "    add_header Access-Control-Allow-Credentials true always;\n"
        "    return 200;\n",
    ),
    "reflect-fixed": (ALLOW_LIST_MAP, ALLOW_LIST_HEADERS + "    return 200;\n"),
    "regex-bad": (
        "",
        "    location / {\n"
        '        set $cors_origin "";\n'
        '        if ($http_origin ~ "example.com") {\n'
        "            set $cors_origin $http_origin;\n"
        "        }\n"
        "        add_header Access-Control-Allow-Origin $cors_origin always;\n"
        "        return 200;\n"
        "    }\n",
    ),
    "regex-fixed": (
        "",
        "    location / {\n"
        '        set $cors_origin "";\n'
        '        if ($http_origin ~ "^https://(app|www)\\.example\\.com$") {\n'
        "            set $cors_origin $http_origin;\n"
        "        }\n"
        "        add_header Access-Control-Allow-Origin $cors_origin always;\n"
        "        return 200;\n"
        "    }\n",
    ),
    "wildcard-bad": (
        "",
        '    add_header Access-Control-Allow-Origin "*" always;\n'
        "    add_header Access-Control-Allow-Credentials true always;\n"
        "    return 200;\n",
    ),
    "wildcard-fixed": (ALLOW_LIST_MAP, ALLOW_LIST_HEADERS + "    return 200;\n"),
    "max-age-bad": (
        "",
        "    add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "    add_header Access-Control-Max-Age 1728000 always;\n"
        "    return 200;\n",
    ),
    "max-age-fixed": (
        "",
        "    add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "    add_header Access-Control-Max-Age 7200 always;\n"
        "    return 200;\n",
    ),
}


@contextmanager
def serving(
    name: str, test_command: list[str], start_command: list[str], root: Path, sites: dict[str, Site]
) -> Iterator[None]:
    """The server's own config test passes; then the server is started by pid, answering
    /ready on every site's port, and stopped by pid after; its folder is removed then."""
    checked = process.run(test_command)
    assert checked.returncode == 0, checked.stderr
    ports = [site.port for site in sites.values()]
    server = process.LocalProcess(name, start_command, root / "server.log")
    try:
        server.start()
        ready = server.wait_until(
            lambda: all(answers_ok(port, "/ready") for port in ports), START_TIMEOUT
        )
        assert ready, server.log_tail()
        yield
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def new_sites(server: str, names: Iterable[str], *folders: str) -> tuple[Path, dict[str, Site]]:
    """A fresh folder for one server: a free port and a config in sites/ for each site,
    and ``folders`` besides."""
    root = Path(tempfile.mkdtemp(prefix=f"corsgen-audit-{server}-"))
    for folder in ("sites", *folders):
        (root / folder).mkdir()
    return root, {name: Site(root / "sites" / f"{name}.conf", free_port()) for name in names}


@contextmanager
def serving_nginx(root: Path, sites: dict[str, Site], comment: str, http: str) -> Iterator[None]:
    """nginx with ``http`` in its http block, as :func:`serving` runs a server."""
    config = str(
        NGINX.write_private_config(root, comment=comment, worker_connections=64, http=http)
    )
    prefix = str(root)
    with serving(
        "nginx",
        NGINX.test_command(config, prefix=prefix),
        NGINX.start_command(config, prefix=prefix),
        root,
        sites,
    ):
        yield


@pytest.fixture(scope="module")
def nginx_sites() -> Iterator[dict[str, Site]]:
    require_installed(NGINX)
    root, sites = new_sites("nginx", NGINX_SITES)
    for name, (http_part, server_part) in NGINX_SITES.items():
        text = (
            http_part
            + f"server {{\n    listen 127.0.0.1:{sites[name].port};\n"
            + "    location = /ready {\n        return 200;\n    }\n"
            + server_part
            + "}\n"
        )
        text = text.replace("{name}", name.replace("-", "_"))
        text = text.replace("{upstream}", str(sites["upstream"].port))
        sites[name].path.write_text(text, encoding="utf-8")
    http = "    access_log off;\n    include sites/*.conf;\n"
    with serving_nginx(root, sites, "corsgen audit: each rule's flagged and fixed config", http):
        yield sites


def test_nginx_add_header_inheritance_really_drops_the_servers_headers(nginx_sites):
    bad, fixed = flagged_and_fixed(nginx_sites, "inheritance", "CORS101")
    # The location's own X-Frame-Options replaced the server's CORS header.
    answer = bad.get()
    assert answer.status_code == 200 and answer.headers["x-frame-options"] == "DENY"
    assert ALLOW_ORIGIN not in answer.headers
    assert not page_can_read(answer, APP, credentials=False)
    assert page_can_read(fixed.get(), APP, credentials=False)


def test_nginx_without_always_the_header_is_really_missing_on_a_404(nginx_sites):
    bad, fixed = flagged_and_fixed(nginx_sites, "always", "CORS102")
    assert_only_the_fix_answers_a_404_with_cors(bad, fixed)


def test_nginx_the_upstreams_allow_origin_is_really_duplicated(nginx_sites):
    bad, fixed = flagged_and_fixed(nginx_sites, "duplicate", "CORS103")
    answer = bad.get()
    assert sorted(answer.headers.get_list(ALLOW_ORIGIN)) == ["*", APP]
    assert not page_can_read(answer, APP, credentials=False)
    repaired = fixed.get()
    assert repaired.headers.get_list(ALLOW_ORIGIN) == [APP]
    assert page_can_read(repaired, APP, credentials=False)


def test_nginx_a_reflected_origin_really_lets_any_site_read_as_the_user(nginx_sites):
    bad, fixed = flagged_and_fixed(nginx_sites, "reflect", "CORS105")
    assert page_can_read(bad.get(origin=ATTACKER), ATTACKER, credentials=True)
    assert not page_can_read(fixed.get(origin=ATTACKER), ATTACKER, credentials=True)
    assert ALLOW_ORIGIN not in fixed.get(origin=ATTACKER).headers
    assert page_can_read(fixed.get(origin=APP), APP, credentials=True)


def test_nginx_an_unanchored_origin_regex_really_allows_a_lookalike(nginx_sites):
    bad, fixed = flagged_and_fixed(nginx_sites, "regex", "CORS106")
    assert page_can_read(bad.get(origin=LOOKALIKE), LOOKALIKE, credentials=False)
    assert not page_can_read(fixed.get(origin=LOOKALIKE), LOOKALIKE, credentials=False)
    assert page_can_read(fixed.get(origin=APP), APP, credentials=False)


def test_nginx_wildcard_with_credentials_really_fails_every_credentialed_request(nginx_sites):
    bad, fixed = flagged_and_fixed(nginx_sites, "wildcard", "CORS107")
    answer = bad.get()
    assert answer.headers[ALLOW_ORIGIN] == "*"
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert not page_can_read(answer, APP, credentials=True)
    assert page_can_read(fixed.get(), APP, credentials=True)


def test_nginx_a_twenty_day_max_age_is_really_sent_and_cut_by_browsers(nginx_sites):
    bad, fixed = flagged_and_fixed(nginx_sites, "max-age", "CORS108")
    sent = int(bad.get().headers["access-control-max-age"])
    assert sent == 1728000 and browser_max_age(sent)["Chromium"] == 7200
    kept = int(fixed.get().headers["access-control-max-age"])
    assert browser_max_age(kept)["Chromium"] == kept


# --- Apache -----------------------------------------------------------------------------------

APACHE_MODULES = ("mpm_event", "authz_core", "headers", "setenvif")
# An allow-list done right: the env variable is set for allowed origins only.
APACHE_ALLOW_LIST = (
    '    SetEnvIf Origin "^https://(app|www)\\.example\\.com$" CORS_ALLOWED=1\n'
    '    Header always set Access-Control-Allow-Origin "expr=%{req:Origin}" env=CORS_ALLOWED\n'
    '    Header always set Access-Control-Allow-Credentials "true" env=CORS_ALLOWED\n'
    '    Header always merge Vary "Origin"\n'
)
# Each site: what goes inside its <VirtualHost>.
APACHE_SITES: dict[str, str] = {
    "always-bad": '    Header set Access-Control-Allow-Origin "https://app.example.com"\n',
    "always-fixed": '    Header always set Access-Control-Allow-Origin "https://app.example.com"\n',
    "reflect-bad": (
        '    Header always set Access-Control-Allow-Origin "expr=%{req:Origin}"\n'
        '    Header always set Access-Control-Allow-Credentials "true"\n'
    ),
    "reflect-fixed": APACHE_ALLOW_LIST,
    "regex-bad": (
        '    SetEnvIf Origin "example\\.com" CORS_ALLOWED=1\n'
        '    Header always set Access-Control-Allow-Origin "expr=%{req:Origin}" env=CORS_ALLOWED\n'
    ),
    "regex-fixed": APACHE_ALLOW_LIST,
    "wildcard-bad": (
        '    Header always set Access-Control-Allow-Origin "*"\n'
        '    Header always set Access-Control-Allow-Credentials "true"\n'
    ),
    "wildcard-fixed": APACHE_ALLOW_LIST,
    "max-age-bad": '    Header always set Access-Control-Max-Age "1728000"\n',
    "max-age-fixed": '    Header always set Access-Control-Max-Age "7200"\n',
}


@pytest.fixture(scope="module")
def apache_sites() -> Iterator[dict[str, Site]]:
    require_installed(APACHE)
    root, sites = new_sites("apache", APACHE_SITES, "www")
    (root / "www" / "ready").write_text("ready\n", encoding="utf-8")
    root.chmod(0o755)
    for name, body in APACHE_SITES.items():
        port = sites[name].port
        sites[name].path.write_text(
            f"Listen 127.0.0.1:{port}\n<VirtualHost 127.0.0.1:{port}>\n"
            f"    DocumentRoot {root}/www\n{body}</VirtualHost>\n",
            encoding="utf-8",
        )
    config = APACHE.write_private_config(
        root,
        comment="corsgen audit: each rule's flagged and fixed config",
        modules=APACHE_MODULES,
        body=f"<Directory {root}/www>\n    Require all granted\n</Directory>\n"
        "IncludeOptional sites/*.conf\n",
    )
    command = str(config)
    with serving(
        "apache2", APACHE.test_command(command), APACHE.start_command(command), root, sites
    ):
        yield sites


def test_apache_header_set_is_really_missing_on_a_404(apache_sites):
    bad, fixed = flagged_and_fixed(apache_sites, "always", "CORS102")
    assert bad.get("/ready").headers[ALLOW_ORIGIN] == APP  # on a 200 it is there
    assert_only_the_fix_answers_a_404_with_cors(bad, fixed)


def test_apache_a_reflected_origin_really_lets_any_site_read_as_the_user(apache_sites):
    bad, fixed = flagged_and_fixed(apache_sites, "reflect", "CORS105")
    assert page_can_read(bad.get("/ready", ATTACKER), ATTACKER, credentials=True)
    assert ALLOW_ORIGIN not in fixed.get("/ready", ATTACKER).headers
    assert page_can_read(fixed.get("/ready", APP), APP, credentials=True)


def test_apache_setenvif_origin_without_anchors_really_allows_a_lookalike(apache_sites):
    bad, fixed = flagged_and_fixed(apache_sites, "regex", "CORS106")
    assert page_can_read(bad.get("/ready", LOOKALIKE), LOOKALIKE, credentials=False)
    assert not page_can_read(fixed.get("/ready", LOOKALIKE), LOOKALIKE, credentials=False)


def test_apache_wildcard_with_credentials_really_fails_credentialed_requests(apache_sites):
    bad, fixed = flagged_and_fixed(apache_sites, "wildcard", "CORS107")
    assert not page_can_read(bad.get("/ready"), APP, credentials=True)
    assert page_can_read(fixed.get("/ready"), APP, credentials=True)


def test_apache_a_twenty_day_max_age_is_really_sent_and_cut_by_browsers(apache_sites):
    bad, fixed = flagged_and_fixed(apache_sites, "max-age", "CORS108")
    sent = int(bad.get("/ready").headers["access-control-max-age"])
    assert sent == 1728000 and browser_max_age(sent)["Chromium"] == 7200
    assert int(fixed.get("/ready").headers["access-control-max-age"]) == 7200


# --- corsgen's own snippets, misplaced ---------------------------------------------------------

SHOP_POLICY = """version: 1
name: shop-api
origins:
  - https://app.example.com
allow_methods: [GET, POST, PUT]
"""
LOCATION_PART = "cors/shop-api.location.conf"
SNIPPET_SITES: dict[str, str] = {
    "upstream": "    add_header X-Upstream yes always;\n    return 200;\n",
    "misplaced-bad": (
        f"    include {LOCATION_PART};\n"
        "    location / {\n        add_header X-Frame-Options DENY always;\n"
        "        return 200;\n    }\n"
    ),
    "misplaced-fixed": (
        "    location / {\n"
        f"        include {LOCATION_PART};\n"
        "        add_header X-Frame-Options DENY always;\n"
        "        return 200;\n    }\n"
    ),
    "sibling-bad": (
        f"    location /api/ {{\n        include {LOCATION_PART};\n"
        "        proxy_pass http://127.0.0.1:{upstream};\n    }\n"
        "    location /api/upload/ {\n        client_max_body_size 50m;\n"
        "        proxy_pass http://127.0.0.1:{upstream};\n    }\n"
    ),
    "sibling-fixed": (
        f"    location /api/ {{\n        include {LOCATION_PART};\n"
        "        proxy_pass http://127.0.0.1:{upstream};\n    }\n"
        f"    location /api/upload/ {{\n        include {LOCATION_PART};\n"
        "        client_max_body_size 50m;\n"
        "        proxy_pass http://127.0.0.1:{upstream};\n    }\n"
    ),
}


@pytest.fixture(scope="module")
def snippet_sites() -> Iterator[dict[str, Site]]:
    require_installed(NGINX)
    root, sites = new_sites("snippets", SNIPPET_SITES, "cors")
    (root / "shop-api.yaml").write_text(SHOP_POLICY, encoding="utf-8")
    for name, text in render(load_policy(root / "shop-api.yaml"), "nginx").files.items():
        (root / "cors" / name).write_text(text, encoding="utf-8")
    for name, body in SNIPPET_SITES.items():
        text = (
            f"server {{\n    listen 127.0.0.1:{sites[name].port};\n"
            "    location = /ready {\n        return 200;\n    }\n" + body + "}\n"
        )
        sites[name].path.write_text(
            text.replace("{upstream}", str(sites["upstream"].port)), encoding="utf-8"
        )
    http = "    access_log off;\n    include cors/shop-api.http.conf;\n    include sites/*.conf;\n"
    comment = "corsgen audit: corsgen snippets misplaced and placed as documented"
    with serving_nginx(root, sites, comment, http):
        yield sites


def preflight(site: Site, path: str) -> httpx.Response:
    return httpx.options(
        f"http://127.0.0.1:{site.port}{path}",
        headers={"Origin": APP, "Access-Control-Request-Method": "PUT"},
    )


def test_the_location_part_at_server_level_is_really_dropped_by_a_location(snippet_sites):
    bad, fixed = snippet_sites["misplaced-bad"], snippet_sites["misplaced-fixed"]
    assert rules_found(bad.path) == ["CORS109", "CORS101"]
    assert rules_found(fixed.path) == []
    answer = bad.get()
    assert answer.headers["x-frame-options"] == "DENY" and ALLOW_ORIGIN not in answer.headers
    assert page_can_read(fixed.get(), APP, credentials=False)


def test_a_sibling_location_without_the_part_really_sends_preflights_upstream(snippet_sites):
    bad, fixed = flagged_and_fixed(snippet_sites, "sibling", "CORS110")
    assert preflight(bad, "/api/").status_code == 204  # answered by the edge
    reached = preflight(bad, "/api/upload/")
    assert reached.headers.get("x-upstream") == "yes"  # the application got the preflight
    assert not page_can_read(reached, APP, credentials=False)
    answered = preflight(fixed, "/api/upload/")
    assert answered.status_code == 204 and "x-upstream" not in answered.headers
    assert page_can_read(answered, APP, credentials=False)
    assert answered.headers["access-control-allow-methods"] == "GET, POST, PUT"
