"""``corsgen explain`` prints the verdict, the headers, and the entry that decided it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corsgen.cli import app
from tests.conftest import demo_policy

runner = CliRunner()


@pytest.fixture
def policy(write_policy: Callable[[str, str], Path]) -> Path:
    return write_policy(demo_policy(), "demo.yaml")


def explain(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["explain", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout.splitlines()


def test_explains_an_allowed_request_with_the_entry_and_its_line(policy: Path) -> None:
    code, lines = explain(str(policy), "--origin", "https://a.example.org", "--method", "post")

    assert code == 0
    assert lines == [
        "Request:  POST (not a preflight)",
        "          Origin: https://a.example.org",
        "Answer:   passed to the upstream; its status is kept and these headers are set on it",
        "Origin:   allowed: 'https://a.example.org' matches the origins entry "
        f"'https://*.example.org' ({policy}:6)",
        "Headers:",
        "          Access-Control-Allow-Origin: https://a.example.org",
        "          Access-Control-Allow-Credentials: true",
        "          Access-Control-Expose-Headers: X-Request-Id",
        "          Vary: Origin (merged with the upstream's own Vary)",
    ]


def test_explains_why_a_lookalike_matches_nothing(policy: Path) -> None:
    code, lines = explain(str(policy), "--origin", "https://example.org.evil.com", "--preflight")

    assert code == 0
    assert lines == [
        "Request:  OPTIONS (preflight)",
        "          Origin: https://example.org.evil.com",
        "          Access-Control-Request-Method: GET",
        "Answer:   403 Forbidden, answered at the edge (never reaches the upstream)",
        "Origin:   not allowed: 'example.org.evil.com' is not a subdomain of 'example.org'",
        f"          nearest entry: 'https://*.example.org' ({policy}:6)",
        "Headers:",
        "          (no Access-Control-* headers)",
        "          Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    ]


def test_explains_a_preflight_and_what_the_browser_will_refuse(policy: Path) -> None:
    code, lines = explain(
        str(policy),
        "--origin",
        "https://pr-7.preview.example.dev",
        "--preflight",
        "--method",
        "PUT",
        "--header",
        "Authorization",
        "--header",
        "X-Token",
    )

    assert code == 0
    assert lines[1:4] == [
        "          Origin: https://pr-7.preview.example.dev",
        "          Access-Control-Request-Method: PUT",
        "          Access-Control-Request-Headers: Authorization, X-Token",
    ]
    assert lines[4] == "Answer:   204 No Content, answered at the edge (never reaches the upstream)"
    assert lines[5].endswith(f"({policy}:9)")
    assert "          Access-Control-Allow-Methods: GET, POST" in lines
    assert "          Access-Control-Allow-Headers: Authorization, Content-Type" in lines
    assert "          Access-Control-Expose-Headers: X-Request-Id" not in lines
    assert lines[-2:] == [
        "Browser:  the browser will refuse the PUT request: it is not in "
        "Access-Control-Allow-Methods",
        "Browser:  the browser will refuse the request unless these headers are "
        "CORS-safelisted: X-Token",
    ]


def test_explains_that_the_server_may_choose_for_an_upper_case_origin(policy: Path) -> None:
    code, lines = explain(str(policy), "--origin", "HTTPS://APP.EXAMPLE.COM", "--preflight")

    assert code == 0
    assert lines[4] == (
        "Origin:   server's choice: 'HTTPS://APP.EXAMPLE.COM' matches the origins entry "
        "'https://app.example.com' only in other ASCII case, which browsers never send: "
        "corsgen's nginx config allows it (echoing it), its Apache config does not "
        f"({policy}:5)"
    )
    assert "          Access-Control-Allow-Origin: HTTPS://APP.EXAMPLE.COM" in lines
    assert (
        "Or:       403 at the edge, with no Access-Control-* headers (spec: the server may choose)"
    ) in lines


def test_says_403_for_a_default_port_written_out_as_both_servers_answer(tmp_path: Path) -> None:
    # explain used to say 204 here; nginx and Apache compare the Origin as sent and say 403.
    path = tmp_path / "local.yaml"
    path.write_text("version: 1\nname: local\norigins: [http://localhost]\n")

    code, lines = explain(str(path), "--origin", "http://localhost:80", "--preflight")

    assert code == 0
    assert lines[3:6] == [
        "Answer:   403 Forbidden, answered at the edge (never reaches the upstream)",
        "Origin:   not allowed: 'http://localhost:80' is 'http://localhost' written as no "
        "browser sends it (the default port 80 written out); corsgen's nginx and Apache "
        "configs compare the Origin as sent, so the origins entry 'http://localhost' does not "
        "allow it",
        f"          nearest entry: 'http://localhost' ({path}:3)",
    ]
    assert not any(line.startswith("Or:") for line in lines)


def test_two_origin_lines_are_the_servers_choice(policy: Path) -> None:
    code, lines = explain(
        str(policy),
        "--origin",
        "https://app.example.com",
        "--origin",
        "https://evil.example",
        "--preflight",
    )

    assert code == 0
    assert lines[1:3] == [
        "          Origin: https://app.example.com",
        "          Origin: https://evil.example",
    ]
    assert lines[4] == "Answer:   403 Forbidden, answered at the edge (never reaches the upstream)"
    assert lines[5].startswith("Origin:   server's choice: the request has 2 Origin lines")
    assert any(line.startswith("Or:       204 at the edge") for line in lines)


def test_says_how_long_each_engine_caches_the_preflight(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text("version: 1\nname: long\norigins: [https://a.example]\nmax_age: 86400\n")

    code, lines = explain(str(path), "--origin", "https://a.example", "--preflight")

    assert code == 0
    assert "          Access-Control-Max-Age: 86400" in lines
    assert (
        "Browser:  the browser caches this answer for max_age (86400 s) or its engine's cap, "
        "whichever is less: Chromium 7200 s, Firefox 86400 s, Safari 600 s"
    ) in lines


def test_calls_private_network_access_legacy_and_says_what_local_network_access_needs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pna.yaml"
    path.write_text(
        "version: 1\nname: pna\norigins: [https://a.example]\nallow_private_network: true\n"
    )

    code, lines = explain(
        str(path), "--origin", "https://a.example", "--preflight", "--private-network"
    )

    assert code == 0
    assert "          Access-Control-Allow-Private-Network: true" in lines
    assert (
        "          Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
        "Access-Control-Request-Private-Network"
    ) in lines
    assert (
        "Browser:  allow_private_network is legacy: it answers Private Network Access "
        "preflights of older Chrome; Chrome 142 and later send no such preflight: Local "
        "Network Access needs the calling page to be a secure context (https) and asks the "
        "user for permission; no response header replaces that"
    ) in lines


def test_explains_a_request_without_origin(policy: Path) -> None:
    code, lines = explain(str(policy))

    assert code == 0
    assert lines[2] == "Origin:   not allowed: the request has no Origin header"


def test_prints_the_verdict_as_json(policy: Path) -> None:
    result = runner.invoke(
        app, ["explain", str(policy), "--origin", "http://localhost:3000", "--json"]
    )

    data = json.loads(result.stdout)
    assert data["answer"] == "upstream"
    assert data["status"] is None
    assert data["headers"] == {
        "Access-Control-Allow-Origin": "http://localhost:3000",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "X-Request-Id",
    }
    assert data["origin"]["where"] == f"{policy}:4"
    assert data["alternatives"] == []


def test_an_invalid_policy_exits_1_with_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 2\norigins: [https://a.example]\n")

    result = runner.invoke(app, ["explain", str(path), "--origin", "https://a.example"])

    assert result.exit_code == 1
    assert f"{path}:1: entry '2': this corsgen reads policy files of version 1" in result.stderr
