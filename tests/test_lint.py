"""``corsgen lint`` names each risky entry with its rule id, file:line, why and fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.lint_rules import RULES, is_public_suffix, lint, unescaped_dot
from corsgen.load import load_text
from corsgen.policy import policy_from_document

runner = CliRunner()


def all_findings(text: str) -> list[tuple[str, int | None, str | None, str]]:
    """(rule id, line, entry, detail) of every finding for a policy given as YAML."""
    document = load_text(textwrap.dedent(text), Path("policy.yaml"))
    policy = policy_from_document(document)
    return [(f.rule.id, f.line, f.entry, f.detail) for f in lint(policy, document)]


# Most test policies leave allow_headers at its default [], which no-allow-headers (CORS012)
# flags in every one of them; its own tests below use all_findings.
NO_ALLOW_HEADERS = RULES["no-allow-headers"].id


def findings(text: str) -> list[tuple[str, int | None, str | None, str]]:
    """Like :func:`all_findings`, without the no-allow-headers finding."""
    return [finding for finding in all_findings(text) if finding[0] != NO_ALLOW_HEADERS]


def rule_ids(text: str) -> list[str]:
    return [rule for rule, *_ in findings(text)]


def test_every_rule_has_an_id_a_reason_and_a_fix() -> None:
    ids = [rule.id for rule in RULES.values()]

    assert ids == [f"CORS{number:03d}" for number in range(1, 16)]
    assert all(rule.why and rule.fix for rule in RULES.values())


def test_a_careful_policy_has_no_warnings() -> None:
    assert (
        all_findings(
            r"""
            version: 1
            name: careful
            origins: [http://localhost:3000, https://app.example.com, https://*.example.org]
            origin_regex: ['^https://pr-[0-9]+\.preview\.example\.dev$']
            allow_credentials: true
            allow_headers: [Authorization]
            max_age: 7200
            """
        )
        == []
    )


def test_warns_about_the_null_origin_on_its_line() -> None:
    assert findings(
        """
        version: 1
        name: t
        origins:
          - https://app.example.com
          - "null"
        """
    ) == [("CORS001", 6, "null", "the null origin is allowed")]


def test_warns_about_plain_http_with_credentials_but_not_about_loopback() -> None:
    assert findings(
        """
        version: 1
        name: t
        origins:
          - http://localhost:3000
          - http://127.0.0.1:*
          - http://[::1]:8080
          - http://dev.localhost
          - http://staging.example.com
        allow_credentials: true
        """
    ) == [
        (
            "CORS002",
            9,
            "http://staging.example.com",
            "'http://staging.example.com' is plain http and allow_credentials is true",
        )
    ]


def test_plain_http_without_credentials_is_not_a_warning() -> None:
    assert rule_ids("version: 1\nname: t\norigins: [http://staging.example.com]\n") == []


def test_warns_about_a_regex_that_matches_plain_http_with_credentials() -> None:
    assert "CORS002" in rule_ids(
        r"""
        version: 1
        name: t
        origins: [https://app.example.com]
        origin_regex: ['^https?://app\.example\.com$']
        allow_credentials: true
        """
    )


@pytest.mark.parametrize("suffix", ["com", "github.io", "vercel.app", "co.uk", "herokuapp.com"])
def test_warns_about_a_wildcard_over_a_public_suffix(suffix: str) -> None:
    assert findings(f"version: 1\nname: t\norigins: ['https://*.{suffix}']\n") == [
        (
            "CORS003",
            3,
            f"https://*.{suffix}",
            f"'*.{suffix}' covers every site under the public suffix {suffix!r}",
        )
    ]


@pytest.mark.parametrize("host", ["example.org", "localhost", "example.co.uk", "internal"])
def test_a_wildcard_under_a_registrable_or_local_name_is_fine(host: str) -> None:
    assert rule_ids(f"version: 1\nname: t\norigins: ['https://*.{host}']\n") == []


def test_the_public_suffix_list_is_the_bundled_snapshot() -> None:
    assert is_public_suffix("github.io")
    assert not is_public_suffix("example.com")
    assert not is_public_suffix("127.0.0.1")


def test_warns_about_a_regex_over_a_shared_hosting_suffix_with_a_concrete_origin() -> None:
    assert findings(
        r"""
        version: 1
        name: t
        origins: [https://app.example.com]
        origin_regex: ['^https://[a-z0-9-]+\.vercel\.app$']
        """
    ) == [
        (
            "CORS004",
            5,
            r"^https://[a-z0-9-]+\.vercel\.app$",
            "it matches 'https://corsgen-attacker.vercel.app', a name anyone can register",
        )
    ]


def test_warns_about_an_unescaped_dot_and_shows_the_lookalike_it_lets_in() -> None:
    assert findings(
        """
        version: 1
        name: t
        origins: [https://app.example.com]
        origin_regex: ['^https://app.example.com$']
        """
    ) == [
        (
            "CORS005",
            5,
            "^https://app.example.com$",
            "the '.' at position 13 is not escaped; it matches 'https://appxexample.com'",
        )
    ]


def test_warns_about_a_regex_whose_other_branch_merely_ends_with_the_name() -> None:
    assert findings(
        r"""
        version: 1
        name: t
        origins: [https://app.example.com]
        origin_regex: ['^https://(www\.|m)?example\.com$']
        """
    ) == [
        (
            "CORS006",
            5,
            r"^https://(www\.|m)?example\.com$",
            "it matches 'https://mexample.com' as well as 'https://example.com'",
        )
    ]


def test_a_subdomain_label_the_regex_leaves_open_is_no_lookalike() -> None:
    # 'evila.shop.example.com' is a host of example.com itself, the site the regex names;
    # only a host under another registrable domain is a lookalike.
    policy = r"""
        version: 1
        name: t
        origins: [https://shop.example.com]
        origin_regex: ['^https://[a-z0-9-]+\.shop\.example\.com$']
        """
    assert findings(policy) == []


@pytest.mark.parametrize(
    ("regex", "detail"),
    [
        (".*", "it matches 'null', which any site can send"),
        ("[a-z]*", "it matches 'null', which any site can send"),
        (r"^https?://.+$", "it matches 'https://corsgen-attacker.com', a name anyone can register"),
        (
            r"^https://[a-z0-9-]+\.com$",
            "it matches 'https://corsgen-attacker.com', a name anyone can register",
        ),
        (
            # A host that merely ends with the name, with a prefix the attacker picks.
            r"^https://[a-z]+example\.net$",
            "it matches 'https://corsgenattackerexample.net', a name anyone can register",
        ),
        (
            r"^https://example\.[a-z]+$",
            "it matches 'https://example.xyz', a name anyone can register",
        ),
        (r"^https://[a-z]{3}\.com$", "it matches 'https://aaa.com', a name anyone can register"),
    ],
)
def test_warns_without_credentials_about_a_regex_that_matches_origins_anyone_can_own(
    regex: str, detail: str
) -> None:
    # With allow_credentials the same regexes are errors (tests/test_origin_regex.py).
    found = findings(
        f"version: 1\nname: t\norigins: [https://app.example.com]\norigin_regex: ['{regex}']\n"
    )
    assert ("CORS004", 4, regex, detail) in found


@pytest.mark.parametrize(
    "regex",
    [
        r"^https://pr-[0-9]+\.preview\.example\.dev$",
        r"^https://([a-z0-9-]+\.)*example\.com$",
        r"^https://[a-z0-9-]{1,63}\.example\.com$",
        r"^https?://(www\.)?example\.com$",
        r"^https://(app|admin)\.example\.com$",
        r"^http://127\.0\.0\.1:[0-9]{1,5}$",
        r"^http://localhost:[0-9]+$",
        # Lookalikes of a fixed name are CORS005/CORS006, not a name of the attacker's choosing.
        r"^https://app.example.com$",
        r"^https://app\.example\.com.?$",
    ],
)
def test_a_regex_under_a_name_you_control_is_not_broad(regex: str) -> None:
    found = findings(
        f"version: 1\nname: t\norigins: [https://app.example.com]\norigin_regex: ['{regex}']\n"
    )
    assert "CORS004" not in [rule for rule, *_ in found]


@pytest.mark.parametrize(
    ("regex", "index"),
    [
        (r"^https://a\.b$", None),
        (r"^https://[.]a$", None),
        (r"^https://[^.]+\.a$", None),
        (r"^https://[]x.]+\.a$", None),
        (r"^https://a.b$", 10),
        (r"^https://[a-z]\..*$", 16),
    ],
)
def test_finds_only_dots_that_match_any_character(regex: str, index: int | None) -> None:
    assert unescaped_dot(regex) == index


def test_warns_about_max_age_above_chromiums_cap_with_what_each_engine_uses() -> None:
    assert findings("version: 1\nname: t\norigins: [https://a.example]\nmax_age: 7201\n") == [
        (
            "CORS007",
            4,
            None,
            "max_age is 7201; browsers will use Chromium 7200, Firefox 7201, Safari 600",
        )
    ]
    assert findings("version: 1\nname: t\norigins: [https://a.example]\nmax_age: 7200\n") == []


def test_calls_allow_private_network_legacy_and_says_what_local_network_access_needs() -> None:
    text = "version: 1\nname: t\norigins: [https://a.example]\nallow_private_network: true\n"

    assert findings(text) == [
        (
            "CORS011",
            4,
            None,
            "allow_private_network is true: it answers Private Network Access preflights, "
            "which Chrome 142 replaced with Local Network Access (no preflight)",
        )
    ]
    rule = RULES["private-network-legacy"]
    assert "secure context (https)" in rule.why and "asks the user for permission" in rule.why
    assert findings(text.replace("true", "false")) == []


@pytest.mark.parametrize(
    ("extra", "line", "detail"),
    [
        ("", None, "allow_headers is not set"),
        ("allow_headers: []\n", 4, "allow_headers is []"),
    ],
)
def test_warns_that_without_allow_headers_a_json_fetch_fails_its_preflight(
    extra: str, line: int | None, detail: str
) -> None:
    text = "version: 1\nname: t\norigins: [https://a.example]\n" + extra

    assert all_findings(text) == [
        (
            "CORS012",
            line,
            None,
            f"{detail}: a fetch() that sends JSON (Content-Type: application/json) fails its "
            "preflight",
        )
    ]
    assert RULES["no-allow-headers"].fix.startswith("allow_headers: [Content-Type]")


@pytest.mark.parametrize("headers", ["[Content-Type]", '"*"', "[Authorization]"])
def test_any_allow_headers_list_is_a_choice_lint_leaves_alone(headers: str) -> None:
    text = f"version: 1\nname: t\norigins: [https://a.example]\nallow_headers: {headers}\n"

    assert all_findings(text) == []


def test_warns_about_many_regexes_for_nginx() -> None:
    regexes = "\n".join(f"  - '^https://app{i}\\.example\\.com$'" for i in range(21))
    text = f"version: 1\nname: t\norigins: [https://a.example]\norigin_regex:\n{regexes}\n"

    assert findings(text) == [
        ("CORS008", 4, None, "21 origin_regex entries: nginx tries them one by one (more than 20)")
    ]


def test_warns_about_many_wildcards_for_apache() -> None:
    wildcards = "\n".join(f"  - https://*.app{i}.example.com" for i in range(51))
    text = f"version: 1\nname: t\norigins:\n{wildcards}\n"

    assert findings(text) == [
        (
            "CORS008",
            3,
            None,
            "51 wildcard and 0 regex entries: Apache tries them one by one (more than 50)",
        )
    ]


def test_warns_about_reflected_headers_with_credentials() -> None:
    text = "version: 1\nname: t\norigins: [https://a.example]\nallow_credentials: true\n"
    text += 'allow_headers: "*"\n'

    assert findings(text) == [
        ("CORS009", 5, "*", "allow_headers is '*' and allow_credentials is true")
    ]


def test_warns_about_entries_merged_after_normalisation_with_both_lines() -> None:
    assert findings(
        """
        version: 1
        name: t
        origins:
          - https://app.example.com
          - HTTPS://App.Example.com:443/
        allow_methods:
          - GET
          - get
        """
    ) == [
        (
            "CORS010",
            6,
            "HTTPS://App.Example.com:443/",
            "is the same origins entry as 'https://app.example.com' on line 5 after "
            "normalisation; corsgen merged them",
        ),
        (
            "CORS010",
            9,
            "get",
            "is the same allow_methods entry as 'GET' on line 8 after normalisation; "
            "corsgen merged them",
        ),
    ]


# Test the command line


def test_the_command_prints_file_line_rule_why_and_fix_and_exits_0(tmp_path: Path) -> None:
    policy = tmp_path / "api.yaml"
    policy.write_text('version: 1\nname: api\norigins: ["null"]\nallow_headers: [X-A]\n')

    result = runner.invoke(app, ["lint", str(policy)])

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{policy}:3: warning CORS001 null-origin: entry 'null': the null origin is allowed",
        f"    why: {RULES['null-origin'].why}",
        f"    fix: {RULES['null-origin'].fix}",
    ]
    assert "1 warning in 1 file" in result.stderr


def test_strict_turns_warnings_into_exit_1(tmp_path: Path) -> None:
    policy = tmp_path / "api.yaml"
    policy.write_text('version: 1\nname: api\norigins: ["null"]\n')

    assert runner.invoke(app, ["lint", "--strict", str(policy)]).exit_code == 1


def test_strict_passes_a_clean_policy(tmp_path: Path) -> None:
    policy = tmp_path / "api.yaml"
    policy.write_text(
        "version: 1\nname: api\norigins: [https://app.example.com]\nallow_headers: [Content-Type]\n"
    )

    result = runner.invoke(app, ["lint", "--strict", str(policy)])

    assert result.exit_code == 0
    assert result.stdout == f"{policy}: no warnings\n"


def test_an_invalid_policy_is_reported_and_exits_1(tmp_path: Path) -> None:
    policy = tmp_path / "api.yaml"
    policy.write_text("version: 1\nname: api\norigins: [ftp://x]\n")

    result = runner.invoke(app, ["lint", str(policy)])

    assert result.exit_code == 1
    assert f"{policy}:3: entry 'ftp://x': scheme 'ftp' is not supported" in result.stderr
    assert "Traceback" not in result.output


def test_lints_every_policy_of_a_directory(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text('version: 1\norigins: ["null"]\nallow_headers: [X-A]\n')
    (tmp_path / "b.yaml").write_text(
        "version: 1\norigins: [https://b.example]\nallow_headers: [Content-Type]\n"
    )

    result = runner.invoke(app, ["lint", str(tmp_path)])

    assert result.exit_code == 0
    assert "CORS001" in result.stdout
    assert f"{tmp_path / 'b.yaml'}: no warnings" in result.stdout
    assert "1 warning in 2 files" in result.stderr


# --- methods and header names a page sends or reads (issue 18) ------------------------------


def test_warns_about_a_standard_method_written_in_another_case() -> None:
    assert findings(
        """\
        version: 1
        origins: [https://app.example.com]
        allow_methods: [get, patch, Propfind, getaway, PATCH]
        """
    ) == [
        (
            "CORS013",
            3,
            "patch",
            "'patch' is not 'PATCH': a page that sends PATCH (as the standard spells it) "
            "is refused",
        ),
        (
            "CORS013",
            3,
            "Propfind",
            "'Propfind' is not 'PROPFIND': a page that sends PROPFIND (as the standard spells "
            "it) is refused",
        ),
    ]


@pytest.mark.parametrize("method", ["CONNECT", "TRACE", "TRACK", "trace"])
def test_warns_about_methods_browsers_never_send(method: str) -> None:
    assert findings(
        f"""\
        version: 1
        origins: [https://app.example.com]
        allow_methods:
          - GET
          - {method}
        """
    ) == [("CORS014", 5, method, f"browsers never send {method.upper()} from a page")]


FORBIDDEN_REQUEST = "a forbidden request header (Fetch): the browser sets it, never the page"


@pytest.mark.parametrize(
    "name", ["Cookie", "host", "Connection", "Sec-Fetch-Mode", "Proxy-Authorization", "Origin"]
)
def test_warns_about_forbidden_request_header_names_in_allow_headers(name: str) -> None:
    assert findings(
        f"""\
        version: 1
        origins: [https://app.example.com]
        allow_headers: [Content-Type, {name}]
        """
    ) == [("CORS015", 3, name, FORBIDDEN_REQUEST)]


def test_warns_about_set_cookie_and_access_control_names_where_a_page_cannot_use_them() -> None:
    assert findings(
        """\
        version: 1
        origins: [https://app.example.com]
        allow_headers: [Content-Type, Access-Control-Allow-Origin]
        expose_headers: [X-Request-Id, Set-Cookie, access-control-max-age]
        """
    ) == [
        (
            "CORS015",
            3,
            "Access-Control-Allow-Origin",
            "Access-Control-* names belong to the CORS protocol, not to a page's requests",
        ),
        (
            "CORS015",
            4,
            "Set-Cookie",
            "browsers never let a page read Set-Cookie, whatever the server exposes",
        ),
        (
            "CORS015",
            4,
            "access-control-max-age",
            "Access-Control-* names belong to the CORS protocol, not to a page's responses",
        ),
    ]


def test_headers_a_page_sets_itself_are_not_flagged() -> None:
    # X-HTTP-Method-Override is forbidden only with CONNECT/TRACE/TRACK as its value.
    assert (
        findings(
            """\
            version: 1
            origins: [https://app.example.com]
            allow_headers: [Authorization, Content-Type, X-HTTP-Method-Override, Cookie-Consent]
            expose_headers: [Set-Cookie-Hint, X-Request-Id]
            """
        )
        == []
    )
