"""policy: every rule of spec sections 1 and 4 (input forms), good and bad inputs."""

import json

import pytest

from corsgen.policy import ALL_METHODS
from tests.conftest import minimal, parse, problems


def origins_of(*entries: str) -> list[str]:
    listed = "".join(f"\n  - {entry}" for entry in entries)
    return [origin.text for origin in parse(f"version: 1\nname: t\norigins:{listed}\n").origins]


def origin_problem(entry: str) -> str:
    quoted = entry if entry in ("~", "null") else json.dumps(entry)
    (problem,) = problems(f"version: 1\nname: t\norigins:\n  - {quoted}\n")
    return problem


# --- the file ---------------------------------------------------------------------------


def test_defaults_follow_the_spec():
    policy = parse("version: 1\norigins: [https://app.example.com]\n", "predict-api.yaml")
    assert policy.name == "predict-api"  # the file's stem
    assert policy.origin_regex == ()
    assert policy.allow_credentials is False
    assert policy.allow_methods == ("GET", "HEAD", "POST")
    assert policy.allow_headers == ()
    assert policy.expose_headers == ()
    assert policy.max_age == 600
    assert policy.allow_private_network is False
    assert policy.block_disallowed_origins is False


@pytest.mark.parametrize("version", ['"1"', "2", "true", "1.0", "null"])
def test_version_must_be_the_integer_1(version):
    (problem,) = problems(f"version: {version}\nname: t\norigins: [http://a.com]\n")
    assert problem.startswith("policy.yaml:1: entry ")
    assert "version 1" in problem


def test_version_is_required():
    (problem,) = problems("name: t\norigins: [http://a.com]\n")
    assert (
        problem == "policy.yaml:1: entry 'version': is required: start the file with 'version: 1'"
    )


def test_unknown_keys_are_errors_so_typos_cannot_weaken_a_policy():
    (problem,) = problems(minimal(allow_credential="true"))
    assert problem.startswith("policy.yaml:4: entry 'allow_credential': unknown key")


def test_origins_are_required():
    (problem,) = problems("version: 1\nname: t\n")
    assert "entry 'origins': is required" in problem


def test_origins_need_at_least_one_entry():
    (problem,) = problems("version: 1\nname: t\norigins: []\n")
    assert "at least one origin" in problem


@pytest.mark.parametrize("name", ["Predict", "1api", "a" * 64, "my api", "api.v1", "-api"])
def test_invalid_names_are_refused(name):
    (problem,) = problems(f"version: 1\nname: '{name}'\norigins: [http://a.com]\n")
    assert "policy name" in problem


def test_a_file_stem_that_is_not_a_name_asks_for_name():
    (problem,) = problems("version: 1\norigins: [http://a.com]\n", "My Policy.yaml")
    assert "add 'name: my-api'" in problem


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('max_age: "600"', "remove the quotes"),
        ("allow_credentials: yes", "must be true or false"),
        ('allow_private_network: "true"', "must be true or false"),
        ("max_age: 60.5", "whole number"),
        ("max_age: true", "whole number"),
        ("block_disallowed_origins: 1", "must be true or false"),
    ],
)
def test_types_are_strict_not_coerced(fragment, expected):
    key, value = fragment.split(": ")
    (problem,) = problems(minimal(**{key: value}))
    assert expected in problem


@pytest.mark.parametrize(("value", "ok"), [(0, True), (86400, True), (-1, False), (86401, False)])
def test_max_age_is_between_0_and_86400(value, ok):
    if ok:
        assert parse(minimal(max_age=str(value))).max_age == value
    else:
        assert problems(minimal(max_age=str(value)))


# --- origin entries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "normalised"),
    [
        ("HTTPS://App.Example.COM", "https://app.example.com"),
        ("https://app.example.com/", "https://app.example.com"),  # one trailing / dropped
        ("http://localhost:80", "http://localhost"),  # default ports removed
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://localhost:443", "http://localhost:443"),  # not the default for http
        ("https://bücher.example", "https://xn--bcher-kva.example"),  # punycode
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
        ("http://[0:0::1]:8080", "http://[::1]:8080"),  # compressed IPv6
        ("http://[::FFFF:127.0.0.1]", "http://[::ffff:7f00:1]"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("https://*.Example.org", "https://*.example.org"),
        ("http://127.0.0.1:*", "http://127.0.0.1:*"),
        ("http://*.localhost:*", "http://*.localhost:*"),
        ("capacitor://localhost", "capacitor://localhost"),
        (
            "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
            "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
        ),
        ('"null"', "null"),
        ("https://my_host.example.com", "https://my_host.example.com"),
    ],
)
def test_origins_are_normalised_as_browsers_serialise_them(entry, normalised):
    assert origins_of(entry) == [normalised]


def test_entries_equal_after_normalisation_are_merged():
    assert origins_of("http://localhost", "HTTP://LOCALHOST:80/", "http://localhost:3000") == [
        "http://localhost",
        "http://localhost:3000",
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("https://app.example.com/api", "has a path"),
        ("https://app.example.com//", "has a path"),
        ("https://app.example.com?x=1", "has a query"),
        ("https://app.example.com#top", "contains '#'"),
        ("https://user@app.example.com", "user information"),
        ("ftp://files.example.com", "scheme 'ftp' is not supported"),
        ("file://localhost", "scheme 'file' is not supported"),
        ("app.example.com", "is not an origin"),
        ("https://app.example.com:0", "port must be a number from 1 to 65535"),
        ("https://app.example.com:65536", "port must be a number from 1 to 65535"),
        ("https://app.example.com:http", "port must be"),
        ("http://127.1", "not a valid IPv4 address"),
        ("http://300.1.1.1", "not a valid IPv4 address"),
        ("http://[::1", "closed with ']'"),
        ("http://[fe80::1%eth0]", "contains '%'"),
        ("http://::1", "must be written in brackets"),
        ("https://example..org", "not a valid host name"),
        ("https://example.org.", "must not end with '.'"),
        ("https://" + "a" * 64 + ".org", "not a valid host name"),
        ("capacitor://*.localhost", "exact"),
        ("capacitor://localhost:8080", "exact"),
        ("NULL", 'written in lower case: "null"'),
        ("Null", 'written in lower case: "null"'),
    ],
)
def test_malformed_origins_are_refused(entry, expected):
    assert expected in origin_problem(entry)


def test_an_unquoted_yaml_null_asks_for_the_string_null():
    problem = origin_problem("~")
    assert problem == (
        "policy.yaml:4: entry 'null': an unquoted null is not an origin; write the string "
        '"null" (in quotes) to allow the null origin'
    )


@pytest.mark.parametrize(
    "entry",
    [
        "https://*.*.example.org",
        "https://a.*.example.org",
        "https://*example.org",
        "https://app*.example.org",
        "https://*",
        "https://example.*",
        "https://app.example.org:8*",
        "*.example.org",
        "https://*.127.0.0.1",
        "https://*.[::1]",
    ],
)
def test_a_wildcard_is_only_whole_leftmost_labels_or_the_whole_port(entry):
    problem = origin_problem(entry)
    assert any(hint in problem for hint in ("'*'", "wildcard", "not an origin", "in brackets"))


def test_star_alone_allows_any_origin_and_the_string_is_shorthand():
    assert origins_of('"*"') == ["*"]
    assert [o.text for o in parse("version: 1\nname: t\norigins: '*'\n").origins] == ["*"]


def test_a_bare_string_other_than_star_is_not_a_list():
    (problem,) = problems("version: 1\nname: t\norigins: https://a.com\n")
    assert "must be a list" in problem


def test_star_cannot_be_combined_with_other_origins():
    (problem,) = problems("version: 1\nname: t\norigins: ['*', 'https://a.com']\n")
    assert "cannot be combined" in problem


def test_star_with_credentials_is_refused():
    (problem,) = problems("version: 1\nname: t\norigins: '*'\nallow_credentials: true\n")
    assert problem.startswith("policy.yaml:4: entry 'allow_credentials': cannot be true")


# Every character that could break out of an nginx or Apache string or directive.
INJECTIONS = [
    'https://a.com"; return 200 "x',
    "https://a.com'",
    "https://a\\.com",
    "https://a.com{",
    "https://a.com}",
    "https://a.com;",
    "https://a.com$host",
    "https://a .com",
    "https://a.com\t",
    "https://a.com\u0000",
    "https://a.com\u0085",
    "https://a.com#",
    "https://a.com<",
    "https://a.com>",
    "https://a.com%0d%0a",
    "https://a.com\u2028",
]


@pytest.mark.parametrize("entry", INJECTIONS)
def test_origins_that_could_break_out_of_a_config_are_refused(entry):
    (problem,) = problems(f"version: 1\nname: t\norigins: [{json.dumps(entry)}]\n")
    assert f"entry {entry!r}" in problem


# --- origin_regex -----------------------------------------------------------------------


def test_regexes_are_kept_as_written_and_anchored_when_rendered():
    from corsgen.origin_regex import check_origin_regex

    policy = parse(minimal(origin_regex=r"['^https://pr-[0-9]+\.preview\.example\.dev$']"))
    assert policy.origin_regex == (r"^https://pr-[0-9]+\.preview\.example\.dev$",)
    assert check_origin_regex("https://a\\.com") == r"^(?:https://a\.com)$"
    assert check_origin_regex("^a|b$") == "^(?:a|b)$"


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        ("[a-", "is not closed"),
        ("(?P<name>x)", "named groups"),
        ("(?<name>x)", "named groups"),
        ("(?=x)", "look-around"),
        ("(?!x)", "look-around"),
        ("(?<=x)", "look-around"),
        ("(?i)x", "inline flags"),
        ("(a)\\1", "escape"),
        ("\\k<a>", "escape"),
        ("\\Ahttps://a\\.com\\Z", "escape"),
        ("https://a\\\\.com", "escape"),
        ('https://a"', "not allowed in a regex"),
        ("https://a'", "not allowed in a regex"),
        ("https://a;b", "not allowed in a regex"),
        ("https://a#b", "not allowed in a regex"),
        ("https://a b", "ASCII without whitespace"),
        ("https://a\tb", "ASCII without whitespace"),
        ("https://bücher", "ASCII"),
        ("a${1}", "variable"),
        ("", "empty regex"),
    ],
)
def test_regexes_outside_the_common_subset_or_unsafe_are_refused(regex, expected):
    (problem,) = problems(minimal(origin_regex=json.dumps([regex])))
    assert expected in problem
    assert "entry " in problem


# --- methods and headers ----------------------------------------------------------------


def test_methods_are_upper_cased_and_merged():
    policy = parse(minimal(allow_methods="[get, Post, GET]"))
    assert policy.allow_methods == ("GET", "POST")


def test_star_methods_mean_the_seven_standard_methods():
    assert parse(minimal(allow_methods="'*'")).allow_methods == ALL_METHODS
    assert parse(minimal(allow_methods="['*']")).allow_methods == ALL_METHODS
    assert set(ALL_METHODS) == {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}


def test_star_mixed_with_other_entries_is_an_error():
    for key in ("allow_methods", "allow_headers", "expose_headers"):
        (problem,) = problems(minimal(**{key: "['*', GET]"}))
        assert "cannot be mixed" in problem


def test_header_names_compare_case_insensitively_and_keep_the_users_spelling():
    policy = parse(minimal(allow_headers="[X-Trace-ID, x-trace-id, Content-Type]"))
    assert policy.allow_headers == ("X-Trace-ID", "Content-Type")


def test_expose_star_is_only_allowed_without_credentials():
    assert parse(minimal(expose_headers="'*'")).expose_headers == ("*",)
    (problem,) = problems(minimal(allow_credentials="true", expose_headers="'*'"))
    assert "entry 'expose_headers'" in problem or "entry '*'" in problem


def test_allow_headers_star_reflects_and_is_allowed_with_credentials():
    policy = parse(minimal(allow_credentials="true", allow_headers="'*'"))
    assert policy.reflects_request_headers


@pytest.mark.parametrize("key", ["allow_methods", "allow_headers", "expose_headers"])
@pytest.mark.parametrize(
    "token",
    [
        '"GET\\r\\nX-Injected: 1"',
        '"X A"',
        '"X;"',
        '"X{"',
        '"X$x"',
        '"X\'"',
        '"X#"',
        '"X%"',
        '"X\\""',
        '"X`"',
        '"X<"',
        '"X,Y"',
        '"X/Y"',
        '""',
    ],
)
def test_tokens_that_are_not_safe_http_tokens_are_refused(key, token):
    (problem,) = problems(minimal(**{key: f"[{token}]"}))
    assert "entry " in problem


def test_every_problem_of_a_file_is_reported_in_file_order():
    text = "version: 1\nname: t\norigins:\n  - https://a.com/x\n  - ftp://b\nmax_age: -5\n"
    found = problems(text)
    assert [p.split(":")[1] for p in found] == ["4", "5", "6"]


# nginx reads one directive parameter into a 4 KiB buffer; longer values must be refused.
@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("allow_headers", ["X" * 257], "longer than 256 characters"),
        ("expose_headers", [f"X-Header-{i}" for i in range(301)], "longer than 3000 characters"),
        ("allow_methods", [f"M{i}" for i in range(800)], "longer than 3000 characters"),
        ("origin_regex", ["^https://" + "a" * 2000 + "$"], "longer than 2000 characters"),
    ],
)
def test_values_longer_than_one_nginx_parameter_are_refused(key, value, expected):
    (problem,) = problems(minimal(**{key: json.dumps(value)}))
    assert expected in problem


def test_a_file_that_is_not_utf8_is_an_invalid_policy_naming_the_file(tmp_path):
    from corsgen.errors import PolicyError
    from corsgen.load import load_file

    path = tmp_path / "latin.yaml"
    path.write_bytes(b"version: 1\norigins: ['https://caf\xe9.example']\n")
    with pytest.raises(PolicyError) as caught:
        load_file(path)
    assert str(caught.value).startswith(f"{path}: the file is not UTF-8 text")


# --- method case (issue 18, spec section 1) ------------------------------------------------


def test_only_the_six_fetch_normalised_methods_are_upper_cased():
    policy = parse(minimal(allow_methods="[delete, Get, head, options, post, put, patch]"))
    assert policy.allow_methods == ("DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "patch")


def test_other_methods_keep_the_case_they_were_written_in_and_differ_by_it():
    # fetch(url, {method: "getaway"}) sends "getaway": "GETAWAY" would never let it through.
    policy = parse(minimal(allow_methods="[getaway, patch, PATCH, Purge]"))
    assert policy.allow_methods == ("getaway", "patch", "PATCH", "Purge")


# --- wildcards over a public suffix (issue 18, spec section 1) ------------------------------


@pytest.mark.parametrize("suffix", ["com", "co.uk", "github.io", "vercel.app"])
def test_a_wildcard_over_a_public_suffix_is_an_error_with_credentials(suffix):
    (problem,) = problems(
        f"version: 1\nname: t\norigins:\n  - https://app.example.com\n  - 'https://*.{suffix}'\n"
        "allow_credentials: true\n"
    )
    assert problem.startswith(f"policy.yaml:5: entry 'https://*.{suffix}': '*.{suffix}' covers")
    assert "Public Suffix List" in problem


def test_a_wildcard_over_a_public_suffix_is_valid_without_credentials():
    # lint warns about it (CORS003); only credentials make it an error.
    policy = parse("version: 1\nname: t\norigins: ['https://*.github.io']\n")
    assert [origin.text for origin in policy.origins] == ["https://*.github.io"]


def test_a_wildcard_under_a_registrable_name_is_fine_with_credentials():
    policy = parse(
        "version: 1\nname: t\norigins: ['https://*.example.co.uk', 'https://*.app.github.io']\n"
        "allow_credentials: true\n"
    )
    assert policy.allow_credentials
