"""corsgen audit: each rule on a config that triggers it and on one that does not.

The proof that each finding is real (the browser-visible damage on a running nginx or
Apache, and the fix repairing it) is in tests/test_audit_servers.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corsgen.audit import audit_paths
from corsgen.cli import app
from corsgen.policy import load_policy
from corsgen.render import render
from tests.conftest import REPO

runner = CliRunner()


def write(folder: Path, files: dict[str, str]) -> Path:
    """The files under ``folder``; the first one is the config audited."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder / next(iter(files))


def found(folder: Path, files: dict[str, str], server: str | None = None) -> list[tuple[str, int]]:
    """(rule id, line) of each finding, in file order."""
    result = audit_paths([write(folder, files)], server)
    assert result.problems == []
    return [(finding.rule.id, finding.line) for finding in result.findings]


def nginx_site(server_body: str, http: str = "") -> str:
    return f"{http}server {{\n    listen 8080;\n{server_body}}}\n"


# --- CORS101: add_header inheritance ----------------------------------------------------------

SERVER_HEADERS = (
    '    add_header Strict-Transport-Security "max-age=63072000" always;\n'
    "    add_header Access-Control-Allow-Origin https://app.example.com always;\n"
)


def test_a_location_with_its_own_add_header_drops_the_servers(tmp_path):
    config = nginx_site(
        SERVER_HEADERS
        + "    location /api/ {\n"
        + "        add_header X-Frame-Options DENY always;\n"
        + "    }\n"
    )
    result = audit_paths([write(tmp_path, {"site.conf": config})])
    [finding] = result.findings
    assert (finding.rule.id, finding.line) == ("CORS101", 5)  # the location that drops them
    assert "Strict-Transport-Security, Access-Control-Allow-Origin" in finding.detail
    # The server that lost them, and each header lost, by line.
    assert [(place.label, place.line) for place in finding.related] == [
        ("lost from server :8080", 1),
        ("dropped: Strict-Transport-Security", 3),
        ("dropped: Access-Control-Allow-Origin", 4),
    ]


def test_a_location_repeating_the_servers_headers_loses_nothing(tmp_path):
    config = nginx_site(
        SERVER_HEADERS
        + "    location /api/ {\n"
        + '        add_header Strict-Transport-Security "max-age=63072000" always;\n'
        + "        add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        + "        add_header X-Frame-Options DENY always;\n"
        + "    }\n"
        + "    location /static/ {\n"  # no add_header: inherits the server's
        + "        root /srv;\n"
        + "    }\n"
    )
    assert found(tmp_path, {"site.conf": config}) == []


def test_an_included_snippet_counts_as_the_locations_own_add_header(tmp_path):
    files = {
        "nginx.conf": "events {}\nhttp {\n    include sites/*.conf;\n}\n",
        "sites/api.conf": nginx_site(
            SERVER_HEADERS + "    location / {\n        include snippets/frame.conf;\n    }\n"
        ),
        "snippets/frame.conf": "add_header X-Frame-Options DENY always;\n",
    }
    # Relative includes resolve against nginx.conf's folder, as nginx resolves them.
    assert found(tmp_path, files) == [("CORS101", 5)]


def test_an_if_with_add_header_drops_the_locations_on_preflights(tmp_path):
    config = nginx_site(
        "    location / {\n"
        "        add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "        if ($request_method = OPTIONS) {\n"
        "            add_header Access-Control-Max-Age 600 always;\n"
        "            return 204;\n"
        "        }\n"
        "    }\n"
    )
    assert found(tmp_path, {"site.conf": config}) == [("CORS101", 5)]


def test_add_header_inherit_merge_keeps_the_inherited_headers(tmp_path):
    config = nginx_site(
        SERVER_HEADERS
        + "    location / {\n        add_header_inherit merge;\n"
        + "        add_header X-Frame-Options DENY always;\n    }\n"
    )
    assert found(tmp_path, {"site.conf": config}) == []


# --- CORS102: no always -----------------------------------------------------------------------


def test_a_cors_header_without_always_is_found(tmp_path):
    config = nginx_site(
        "    add_header Access-Control-Allow-Origin https://app.example.com;\n"
        "    add_header X-Content-Type-Options nosniff;\n"  # not CORS: not this rule's
    )
    assert found(tmp_path, {"site.conf": config}) == [("CORS102", 3)]


def test_apache_header_set_without_always_is_found(tmp_path):
    config = (
        "<VirtualHost *:80>\n"
        '    Header set Access-Control-Allow-Origin "https://app.example.com"\n'
        '    Header always set Access-Control-Allow-Methods "GET, POST"\n'
        '    Header onsuccess set Access-Control-Expose-Headers "X-Id"\n'
        "    Header unset Access-Control-Allow-Credentials\n"
        "</VirtualHost>\n"
    )
    assert found(tmp_path, {"site.conf": config}) == [("CORS102", 2), ("CORS102", 4)]


# --- CORS103: the upstream's Access-Control-Allow-Origin next to the edge's ------------------


def test_a_proxied_location_without_proxy_hide_header_duplicates_the_origin(tmp_path):
    config = nginx_site(
        "    location / {\n"
        "        add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "        proxy_pass http://127.0.0.1:9000;\n"
        "    }\n"
    )
    assert found(tmp_path, {"site.conf": config}) == [("CORS103", 5)]


def test_proxy_hide_header_inherited_from_the_server_prevents_the_duplicate(tmp_path):
    config = nginx_site(
        "    proxy_hide_header Access-Control-Allow-Origin;\n"
        "    location / {\n"
        "        add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        "        proxy_pass http://127.0.0.1:9000;\n"
        "    }\n"
    )
    assert found(tmp_path, {"site.conf": config}) == []


# --- CORS104 / CORS105: the Origin reflected unchecked ----------------------------------------


def test_reflecting_http_origin_is_found_and_worse_with_credentials(tmp_path):
    without = nginx_site("    add_header Access-Control-Allow-Origin $http_origin always;\n")
    assert found(tmp_path, {"a.conf": without}) == [("CORS104", 3)]
    with_credentials = nginx_site(
        "    add_header Access-Control-Allow-Origin $http_origin always;\n"
        "    add_header Access-Control-Allow-Credentials true always;\n"
    )
    assert found(tmp_path, {"b.conf": with_credentials}) == [("CORS105", 3)]


def test_a_map_whose_default_is_the_origin_reflects_it(tmp_path):
    config = nginx_site(
        "    add_header Access-Control-Allow-Origin $cors_origin always;\n",
        http="map $http_origin $cors_origin {\n    default $http_origin;\n}\n",
    )
    assert found(tmp_path, {"site.conf": config}) == [("CORS104", 6)]


# A hand-written allow-list: exact origins and one anchored regex, the rest refused ("").
ORIGIN_ALLOW_LIST_MAP = (
    "map $http_origin $cors_origin {\n"
    '    default "";\n'
    '    "https://app.example.com" $http_origin;\n'
    '    "~^https://[a-z0-9-]+\\.preview\\.example\\.com$" $http_origin;\n'
    "}\n"
)


def test_a_correct_hand_written_map_allow_list_has_no_finding(tmp_path):
    config = nginx_site(
        "    location / {\n"
        "        proxy_hide_header Access-Control-Allow-Origin;\n"
        "        proxy_hide_header Access-Control-Allow-Credentials;\n"
        "        add_header Access-Control-Allow-Origin $cors_origin always;\n"
        "        add_header Access-Control-Allow-Credentials $cors_credentials always;\n"
        "        add_header Access-Control-Max-Age 600 always;\n"
        '        add_header Vary "Origin" always;\n'
        "        proxy_pass http://127.0.0.1:9000;\n"
        "    }\n",
        http=(
            ORIGIN_ALLOW_LIST_MAP
            + "map $cors_origin $cors_credentials {\n"
            + '    default "true";\n'
            + '    "" "";\n'
            + "}\n"
        ),
    )
    assert found(tmp_path, {"site.conf": config}) == []


def test_an_origin_checked_by_if_first_is_not_reflected_unchecked(tmp_path):
    config = nginx_site(
        "    location / {\n"
        '        if ($http_origin !~ "^https://app\\.example\\.com$") {\n'
        "            return 403;\n"
        "        }\n"
        "        add_header Access-Control-Allow-Origin $http_origin always;\n"
        "    }\n"
    )
    assert found(tmp_path, {"site.conf": config}) == []


def test_apache_reflecting_the_origin_with_credentials_is_found(tmp_path):
    config = (
        "<VirtualHost *:80>\n"
        '    Header always set Access-Control-Allow-Origin "expr=%{req:Origin}"\n'
        '    Header always set Access-Control-Allow-Credentials "true"\n'
        "</VirtualHost>\n"
    )
    assert found(tmp_path, {"a.conf": config}) == [("CORS105", 2)]
    # The blog posts' SetEnvIf Origin "(.*)" copies any Origin: no check either.
    copied = (
        'SetEnvIf Origin "^(.*)$" ORIGIN_SUB=$1\n'
        'Header always set Access-Control-Allow-Origin "%{ORIGIN_SUB}e" env=ORIGIN_SUB\n'
    )
    assert found(tmp_path, {"b.conf": copied}, server="apache") == [("CORS104", 2)]


def test_apache_reflecting_an_anchored_allow_list_match_has_no_finding(tmp_path):
    config = (
        "<VirtualHost *:80>\n"
        '    SetEnvIf Origin "^https://(app|www)\\.example\\.com$" CORS_OK=1\n'
        '    Header always set Access-Control-Allow-Origin "expr=%{req:Origin}" env=CORS_OK\n'
        '    Header always set Access-Control-Allow-Credentials "true" env=CORS_OK\n'
        "</VirtualHost>\n"
    )
    assert found(tmp_path, {"a.conf": config}) == []


# --- CORS106: unanchored origin regexes -------------------------------------------------------


def test_an_unanchored_if_on_the_origin_is_found(tmp_path):
    config = nginx_site(
        "    location / {\n"
        '        if ($http_origin ~ "example.com") {\n'
        "            set $cors 1;\n"
        "        }\n"
        '        if ($http_origin ~* "^https://app\\.example\\.com$") {\n'
        "            set $cors 1;\n"
        "        }\n"
        "    }\n"
    )
    assert found(tmp_path, {"site.conf": config}) == [("CORS106", 4)]


def test_an_unanchored_map_entry_on_the_origin_is_found(tmp_path):
    config = nginx_site(
        "",
        http=(
            'map $http_origin $cors_origin {\n    default "";\n'
            "    ~^https://app.example.com $http_origin;\n}\n"
        ),
    )
    assert found(tmp_path, {"site.conf": config}) == [("CORS106", 3)]


def test_apache_setenvif_origin_without_anchors_is_found(tmp_path):
    config = (
        'SetEnvIf Origin "example\\.com" CORS_OK=1\n'
        'SetEnvIfNoCase Origin "^https://app\\.example\\.com$" CORS_OK=1\n'
        # Whether an Origin was sent at all: no allow-list, nothing to anchor.
        'SetEnvIf Origin "." ORIGIN_SENT=1\n'
    )
    assert found(tmp_path, {"a.conf": config}, server="apache") == [("CORS106", 1)]


# --- CORS107: * with credentials --------------------------------------------------------------


def test_wildcard_with_credentials_is_found_on_both_servers(tmp_path):
    nginx = nginx_site(
        "    add_header Access-Control-Allow-Origin * always;\n"
        "    add_header Access-Control-Allow-Credentials true always;\n"
    )
    assert found(tmp_path, {"n.conf": nginx}) == [("CORS107", 3)]
    apache = (
        "<VirtualHost *:80>\n"
        '    Header always set Access-Control-Allow-Origin "*"\n'
        '    Header always set Access-Control-Allow-Credentials "true"\n'
        "</VirtualHost>\n"
    )
    assert found(tmp_path, {"a.conf": apache}) == [("CORS107", 2)]


def test_wildcard_without_credentials_is_fine(tmp_path):
    config = nginx_site("    add_header Access-Control-Allow-Origin * always;\n")
    assert found(tmp_path, {"site.conf": config}) == []


# --- CORS108: Max-Age above what browsers keep ------------------------------------------------


def test_a_twenty_day_max_age_is_found_on_both_servers(tmp_path):
    nginx = nginx_site("    add_header Access-Control-Max-Age 1728000 always;\n")
    assert found(tmp_path, {"n.conf": nginx}) == [("CORS108", 3)]
    apache = 'Header always set Access-Control-Max-Age "1728000"\n'
    assert found(tmp_path, {"a.conf": apache}, server="apache") == [("CORS108", 1)]
    fine = nginx_site("    add_header Access-Control-Max-Age 7200 always;\n")
    assert found(tmp_path, {"f.conf": fine}) == []


# --- ignore comments --------------------------------------------------------------------------


def test_an_ignore_comment_silences_that_rule_on_its_line_or_the_next(tmp_path):
    config = nginx_site(
        "    # corsgen: ignore[CORS102]\n"
        "    add_header Access-Control-Allow-Origin https://a.example.com;\n"
        "    add_header Access-Control-Max-Age 86400; # corsgen: ignore[CORS108, CORS102]\n"
        "    add_header Access-Control-Expose-Headers X-Id; # corsgen: ignore[CORS108]\n"
    )
    assert found(tmp_path, {"site.conf": config}) == [("CORS102", 6)]


# --- reading configs as the servers do --------------------------------------------------------


def test_apache_includes_follow_serverroot_globs_and_continuation_lines(tmp_path):
    files = {
        "apache2.conf": f"ServerRoot {tmp_path}\nIncludeOptional sites-enabled/*.conf\n"
        "IncludeOptional missing/*.conf\n",
        "sites-enabled/api.conf": "<VirtualHost *:80>\n"
        "    Header set \\\n        Access-Control-Allow-Origin https://a.example.com\n"
        "</VirtualHost>\n",
    }
    assert found(tmp_path, files) == [("CORS102", 2)]


def test_a_folder_is_read_from_its_main_file(tmp_path):
    write(
        tmp_path,
        {
            "nginx.conf": "events {}\nhttp {\n    include conf.d/*.conf;\n}\n",
            "conf.d/site.conf": nginx_site("    add_header Access-Control-Max-Age 86400 always;\n"),
        },
    )
    result = audit_paths([tmp_path])
    assert [(f.rule.id, f.path.name) for f in result.findings] == [("CORS108", "site.conf")]
    assert {path.name for path in result.files} == {"nginx.conf", "site.conf"}


def test_an_unreadable_config_is_a_problem_not_a_clean_audit(tmp_path):
    path = write(tmp_path, {"broken.conf": "server {\n    listen 80;\n"})
    result = audit_paths([path])
    assert result.problems and "broken.conf" in result.problems[0]


# --- corsgen's own configs are clean ----------------------------------------------------------


def rendered(folder: Path, target: str, policy: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render(load_policy(policy), target).files.items():
        (folder / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("target", ["nginx", "apache"])
def test_the_examples_with_their_rendered_snippets_have_no_finding(tmp_path, target):
    rendered(tmp_path / "cors", target, REPO / "examples" / "predict-api.yaml")
    site = REPO / "examples" / target / "predict-api.conf"
    (tmp_path / "site.conf").write_text(site.read_text(encoding="utf-8"), encoding="utf-8")
    result = audit_paths([tmp_path / "site.conf"])
    assert result.problems == [] and result.notes == []
    assert len(result.files) > 1  # the snippets were read, not skipped
    assert result.findings == []


@pytest.mark.parametrize("policy", sorted((REPO / "tests" / "policies").glob("*.yaml")))
def test_every_golden_policy_in_the_test_servers_layout_has_no_finding(tmp_path, policy):
    # The layout of tests/configs: the http part in http {}, the location part in a
    # proxied location and in one serving files.
    rendered(tmp_path / "cors", "nginx", policy)
    http_part = next((tmp_path / "cors").glob("*.http.conf")).name
    location_part = next((tmp_path / "cors").glob("*.location.conf")).name
    write(
        tmp_path,
        {
            "nginx.conf": "events {}\nhttp {\n"
            f"    include cors/{http_part};\n"
            "    server {\n        listen 8080;\n"
            f"        location /api/ {{\n            include cors/{location_part};\n"
            "            proxy_pass http://127.0.0.1:9000;\n        }\n"
            f"        location /static/ {{\n            include cors/{location_part};\n"
            "            root /srv;\n        }\n    }\n}\n",
        },
    )
    rendered(tmp_path / "apache", "apache", policy)
    apache_part = next((tmp_path / "apache").glob("*.conf")).name
    write(
        tmp_path,
        {
            "httpd.conf": "<VirtualHost 127.0.0.1:8080>\n"
            f"    Include {tmp_path}/apache/{apache_part}\n"
            "    ProxyPass / http://127.0.0.1:9000/\n</VirtualHost>\n"
        },
    )
    for main in ("nginx.conf", "httpd.conf"):
        result = audit_paths([tmp_path / main])
        assert result.problems == [] and result.notes == []
        assert result.findings == [], [f.format() for f in result.findings]


# --- the command ------------------------------------------------------------------------------

BAD = nginx_site(
    "    add_header Access-Control-Allow-Origin https://a.example.com;\n"  # CORS102, error
    "    add_header Access-Control-Max-Age 86400 always;\n"  # CORS108, warning
)


def test_the_command_groups_findings_by_file_and_exits_1(tmp_path):
    path = write(tmp_path, {"site.conf": BAD})
    result = runner.invoke(app, ["audit", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == str(path)  # the file, then its findings indented
    assert lines[1] == (
        f"  {path}:3: error CORS102 cors-header-without-always: add_header "
        "Access-Control-Allow-Origin has no 'always': it is missing on 4xx/5xx"
    )
    assert f"  {path}:4: warning CORS108" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal
    assert "1 warning, 1 error in 1 file" in result.stderr


def test_on_a_terminal_errors_are_red_warnings_yellow_and_files_bold(tmp_path):
    path = write(tmp_path, {"site.conf": BAD})
    result = runner.invoke(app, ["audit", str(path)], env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    lines = result.stdout.splitlines()
    assert lines[0] == f"\x1b[1m{path}\x1b[0m"
    assert lines[1].startswith(f"  \x1b[31m{path}:3: error CORS102")
    assert any(line.startswith(f"  \x1b[33m{path}:4: warning CORS108") for line in lines)


def test_fail_on_error_ignores_warnings_and_never_always_passes(tmp_path):
    warning_only = write(
        tmp_path, {"w.conf": nginx_site("    add_header Access-Control-Max-Age 86400 always;\n")}
    )
    assert runner.invoke(app, ["audit", str(warning_only)]).exit_code == 1
    assert runner.invoke(app, ["audit", str(warning_only), "--fail-on", "error"]).exit_code == 0
    bad = write(tmp_path, {"b.conf": BAD})
    assert runner.invoke(app, ["audit", str(bad), "--fail-on", "error"]).exit_code == 1
    assert runner.invoke(app, ["audit", str(bad), "--fail-on", "never"]).exit_code == 0


def test_json_output_names_rule_severity_place_why_and_fix(tmp_path):
    path = write(tmp_path, {"site.conf": BAD})
    result = runner.invoke(app, ["audit", str(path), "--format", "json"])
    assert result.exit_code == 1
    first, second = json.loads(result.stdout)
    assert first["rule"] == "CORS102" and first["severity"] == "error"
    assert first["line"] == 3 and first["path"].endswith("site.conf")
    assert first["why"] and first["fix"]
    assert second["rule"] == "CORS108" and second["severity"] == "warning"


def test_sarif_output_is_what_github_code_scanning_reads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"deploy/site.conf": BAD})
    result = runner.invoke(app, ["audit", "deploy/site.conf", "--format", "sarif"])
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    [run] = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules][:2] == ["CORS101", "CORS102"]
    [first, second] = run["results"]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"] == "CORS102"
    assert first["level"] == "error" and second["level"] == "warning"
    # Code scanning resolves the uri against the repository: relative, forward slashes.
    location = first["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "deploy/site.conf"}, "region": {"startLine": 3}}


def test_a_clean_config_exits_0(tmp_path):
    path = write(tmp_path, {"site.conf": nginx_site("    root /srv;\n")})
    result = runner.invoke(app, ["audit", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


# --- performance ------------------------------------------------------------------------------


def test_a_5000_line_config_with_500_locations_takes_under_2_seconds(tmp_path):
    locations = "".join(
        f"    location /api/v{number}/ {{\n"
        "        proxy_hide_header Access-Control-Allow-Origin;\n"
        "        add_header Access-Control-Allow-Origin https://app.example.com always;\n"
        '        add_header Vary "Origin" always;\n'
        "        add_header Access-Control-Max-Age 600 always;\n"
        f"        proxy_pass http://127.0.0.1:{9000 + number % 50};\n"
        "        proxy_set_header Host $host;\n"
        "        proxy_read_timeout 30s;\n"
        "    }\n"
        "\n"
        for number in range(500)
    )
    config = nginx_site(locations)
    assert config.count("\n") >= 5000
    path = write(tmp_path, {"big.conf": config})
    start = time.perf_counter()
    result = audit_paths([path])
    elapsed = time.perf_counter() - start
    assert result.findings == []
    assert elapsed < 2.0, f"{elapsed:.2f} s"


# --- corsgen's own files: placement and freshness ---------------------------------------------

SHOP_POLICY = """version: 1
name: shop-api
origins:
  - https://shop.example.com
allow_credentials: true
"""


def shop_snippets(folder: Path, target: str = "nginx", policy_text: str = SHOP_POLICY) -> Path:
    policy = write(folder, {"policies/shop-api.yaml": policy_text})
    rendered(folder / "cors", target, policy)
    return policy


def whole_nginx(server_body: str, http_part: bool = True) -> str:
    include = "    include cors/shop-api.http.conf;\n" if http_part else ""
    return (
        "events {}\nhttp {\n" + include + "    server {\n        listen 8080;\n"
        f"{server_body}    }}\n}}\n"
    )


def test_the_location_part_at_server_level_is_misplaced(tmp_path):
    shop_snippets(tmp_path)
    config = whole_nginx("        include cors/shop-api.location.conf;\n")
    assert found(tmp_path, {"nginx.conf": config}) == [("CORS109", 6)]


def test_an_apache_snippet_inside_location_is_misplaced_but_ifmodule_is_transparent(tmp_path):
    shop_snippets(tmp_path, "apache")
    config = (
        "<VirtualHost *:80>\n    <IfModule headers_module>\n"
        f"        Include {tmp_path}/cors/shop-api.conf\n    </IfModule>\n"
        f"    <Location /api/>\n        Include {tmp_path}/cors/shop-api.conf\n"
        "    </Location>\n</VirtualHost>\n"
    )
    assert found(tmp_path, {"site.conf": config}) == [("CORS109", 6)]


def test_a_sibling_location_proxying_the_same_upstream_without_the_snippet(tmp_path):
    shop_snippets(tmp_path)
    config = whole_nginx(
        "        location /api/ {\n            include cors/shop-api.location.conf;\n"
        "            proxy_pass http://127.0.0.1:9000;\n        }\n"
        "        location /api/upload/ {\n            client_max_body_size 50m;\n"
        "            proxy_pass http://127.0.0.1:9000;\n        }\n"
        "        location /other/ {\n            proxy_pass http://127.0.0.1:9100;\n        }\n"
    )
    result = audit_paths([write(tmp_path, {"nginx.conf": config})])
    [finding] = result.findings
    assert (finding.rule.id, finding.line) == ("CORS110", 10)
    assert [(place.label, place.line) for place in finding.related] == [
        ("location /api/ includes it", 6)
    ]


def test_the_location_part_without_its_http_part_in_a_whole_config(tmp_path):
    shop_snippets(tmp_path)
    body = "        location / {\n            include cors/shop-api.location.conf;\n        }\n"
    assert found(tmp_path, {"nginx.conf": whole_nginx(body, http_part=False)}) == [("CORS112", 6)]
    assert found(tmp_path, {"nginx.conf": whole_nginx(body)}) == []


def test_policies_finds_a_generated_file_rendered_from_an_older_policy(tmp_path):
    policy = shop_snippets(tmp_path)
    body = "        location / {\n            include cors/shop-api.location.conf;\n        }\n"
    config = write(tmp_path, {"nginx.conf": whole_nginx(body)})
    current = runner.invoke(app, ["audit", str(config), "--policies", str(policy.parent)])
    assert current.exit_code == 0, current.output
    policy.write_text(SHOP_POLICY + "max_age: 300\n", encoding="utf-8")
    stale = runner.invoke(app, ["audit", str(config), "--policies", str(policy.parent)])
    assert stale.exit_code == 1
    # Both parts were rendered from the old policy; each is named at its first line.
    assert f"{tmp_path}/cors/shop-api.http.conf:1: error CORS111 corsgen-file-stale" in stale.stdout
    assert f"{tmp_path}/cors/shop-api.location.conf:1: error CORS111" in stale.stdout


# --- --suggest-policy -------------------------------------------------------------------------

HAND_WRITTEN_ALLOW_LIST = nginx_site(
    "    location / {\n"
    "        add_header Access-Control-Allow-Origin $cors_origin always;\n"
    "        add_header Access-Control-Allow-Credentials true always;\n"
    '        add_header Access-Control-Allow-Methods "GET, POST, PUT" always;\n'
    "        add_header Access-Control-Max-Age 600 always;\n"
    "    }\n",
    http=ORIGIN_ALLOW_LIST_MAP,
)


def test_suggest_policy_reconstructs_a_map_allow_list_as_a_valid_policy(tmp_path):
    path = write(tmp_path, {"shop.conf": HAND_WRITTEN_ALLOW_LIST})
    result = runner.invoke(app, ["audit", str(path), "--suggest-policy"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"# suggested by corsgen audit from {path}:9\n"
        "version: 1\n"
        "name: shop\n"
        "origins:\n"
        "- https://app.example.com\n"
        "origin_regex:\n"
        "- https://[a-z0-9-]+\\.preview\\.example\\.com\n"
        "allow_credentials: true\n"
        "allow_methods:\n- GET\n- POST\n- PUT\n"
        "max_age: 600\n"
    )
    # The suggestion is a policy corsgen takes as it is.
    policy = write(tmp_path, {"shop.yaml": result.stdout})
    assert load_policy(policy).origin_regex == ("https://[a-z0-9-]+\\.preview\\.example\\.com",)


def test_suggest_policy_reads_apache_setenvif_allow_lists(tmp_path):
    config = (
        "<VirtualHost *:80>\n"
        '    SetEnvIf Origin "^https://(app|www)\\.example\\.com$" CORS_OK=1\n'
        '    Header always set Access-Control-Allow-Origin "expr=%{req:Origin}" env=CORS_OK\n'
        "</VirtualHost>\n"
    )
    path = write(tmp_path, {"site.conf": config})
    [suggestion] = audit_paths([path]).suggestions
    assert suggestion.policy["origin_regex"] == ["https://(app|www)\\.example\\.com"]
    # No exact origin: corsgen needs one, and says so instead of dropping the suggestion.
    assert suggestion.problems == ["policy:3: entry 'origins': at least one origin is required"]


def test_suggest_policy_says_when_nothing_is_recognised(tmp_path):
    path = write(tmp_path, {"site.conf": nginx_site("    root /srv;\n")})
    result = runner.invoke(app, ["audit", str(path), "--suggest-policy"])
    assert result.exit_code == 1
    assert "no hand-written allow-list recognised" in result.stderr


@pytest.mark.parametrize("target", ["nginx", "apache"])
def test_the_integration_harness_configs_have_no_finding(tmp_path, target):
    # The main config integration/edge.py writes for its containers, with every
    # integration policy loaded, its container paths pointed back at this folder.
    from integration.edge import MOUNT, ApacheServer, NginxServer, Site

    server_class = NginxServer if target == "nginx" else ApacheServer
    server = server_class(None, "unused", tmp_path, stub_port=9000)  # type: ignore[arg-type]
    server.control_port = 8999
    policies = sorted((REPO / "integration" / "policies").glob("*.yaml"))
    sites = []
    for index, policy in enumerate([*policies, REPO / "examples" / "predict-api.yaml"]):
        site_dir = tmp_path / "sites" / f"{policy.stem}-g1"
        rendered(site_dir, target, policy)
        name = load_policy(policy).name
        sites.append(Site(name, target, 9100 + index, 1, site_dir))
    main = tmp_path / server.main_config_name
    main.write_text(server.render_main_config(1, sites).replace(MOUNT, str(tmp_path)))
    result = audit_paths([main])
    assert result.problems == [] and result.notes == []
    assert len(result.files) > len(sites)  # every snippet was read
    assert result.findings == [], [f.format() for f in result.findings]
