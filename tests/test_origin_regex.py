"""origin_regex: the subset Python and PCRE read alike, linear matching, no attacker origins.

Spec section 1 and section 4 ("Matching"). The property tests check the subset against the
real PCRE2: the one nginx and Apache link (grep -P uses the same libpcre2-8), and nginx -t /
apache2 -t on rendered policies.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import warnings
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corsgen.origin_regex import (
    MAX_POSITIONS,
    anchored,
    attacker_origin,
    check,
    check_origin_regex,
    parse,
    samples,
)
from corsgen.origins import OriginSyntaxError
from edgeharness.availability import in_ci
from tests.conftest import REPO, minimal, problems
from tests.conftest import parse as parse_policy
from tests.test_server_config import APACHE, NGINX, assert_both_servers_accept, need

GREP = shutil.which("grep") or "/usr/bin/grep"

# The common, unambiguous forms the issue and the docs name: all stay valid.
SAFE = [
    r"^https://([a-z0-9-]+\.)*example\.com$",
    r"^https://pr-[0-9]+\.preview\.example\.dev$",
    r"^https?://(www\.)?example\.com$",
    r"^https://(app|admin)\.example\.com$",
    r"^http://127\.0\.0\.1:[0-9]{1,5}$",
    r"^https://[a-z0-9-]{1,63}\.example\.com$",
    r"^https://[a-z0-9]+(-[a-z0-9]+)*\.example\.com$",
    r"^https://(?:[a-z0-9-]{1,63}\.){1,4}example\.com$",
    r"^http://localhost(:[0-9]+)?$",
    r"^https://[^.]+\.example\.com$",
    r"^https://\w+\.example\.com$",
    r"^https://[]a-z]\.example\.com$",
    r"^https://[-a-z]+\.example\.com$",
    r"^https://[0-9]{0,2}\.example\.com$",
    r"^a|b$",
    r"https://a\.com",
    r"^https://a{0}b\.example\.com$",
    r"^https://app.example.com$",  # valid; lint warns about the dot
]


def repository_regexes() -> list[str]:
    """Every origin_regex entry in the repository's policies, examples and docs."""
    found: dict[str, None] = {}
    files = [*REPO.glob("tests/policies/*.yaml"), *REPO.glob("integration/**/*.yaml")]
    files += [*REPO.glob("examples/**/*.yaml")]
    texts = [path.read_text() for path in files]
    for page in [*REPO.glob("docs/*.md"), REPO / "README.md", *REPO.glob("examples/**/*.md")]:
        texts += re.findall(r"```ya?ml\n(.*?)```", page.read_text(), re.S)
    for text in texts:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and isinstance(data.get("origin_regex"), list):
            found.update(dict.fromkeys(data["origin_regex"]))
    return list(found)


def refusal(regex: str) -> str:
    with pytest.raises(OriginSyntaxError) as caught:
        check_origin_regex(regex)
    return str(caught.value)


# --- the subset -------------------------------------------------------------------------------


@pytest.mark.parametrize("regex", SAFE + repository_regexes())
def test_common_forms_and_every_regex_in_the_repository_stay_valid(regex: str) -> None:
    assert check_origin_regex(regex) == anchored(regex)


def test_the_repository_has_regexes_to_check() -> None:
    assert len(repository_regexes()) >= 3


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        # Python reads a list of characters, PCRE a named set.
        ("^https://[[:alpha:]]+\\.com$", "POSIX bracket class '[:alpha:]' at position 11"),
        ("[[.a.]]", "POSIX bracket class '[.a.]'"),
        ("[[=a=]]", "POSIX bracket class '[=a=]'"),
        # Python: 0 to 3; PCRE2 10.42: the text '{,3}'.
        ("^https://a{,3}\\.com$", "open lower bound '{,3}' at position 11"),
        ("a{,}", "open bounds '{,}'"),
        ("^https://a{1,70000}\\.com$", "the bound 70000 in '{1,70000}'"),
        ("a{256}", "the bound 256"),
        ("a{5,3}", "'{5,3}' at position 2 run backwards"),
        ("a{", "starts no quantifier"),
        ("a{x}", "starts no quantifier"),
        ("a{}", "starts no quantifier"),
        ("((((((((((a))))))))))", "nested more than 8 deep"),
        ("(a", "not closed: add ')'"),
        ("a)", "closes no group"),
        ("[a-", "not closed: add ']'"),
        ("[z-a]", "'z-a' at position 2 runs backwards"),
        ("[\\w-.]", "joins a class escape"),
        ("[a-\\d]", "joins a class escape"),
        ("[a[b]", "inside a class; write '\\['"),
        ("[a--b]", "'--' at position 3"),
        ("[a&&b]", "'&&'"),
        ("*a", "nothing to repeat"),
        ("a|+b", "nothing to repeat"),
        ("{2}a", "nothing to repeat"),
        ("^*a", "repeats the anchor '^'"),
        ("a+?", "lazy and possessive"),
        ("a++", "lazy and possessive"),
        ("a**", "two quantifiers in a row"),
        ("a{2}{3}", "two quantifiers in a row"),
        ("(?P<n>a)", "named group"),
        ("(?<n>a)", "named group"),
        ("(?'n'a)", "not allowed in a regex"),  # the quote is refused first
        ("(?=a)", "look-around"),
        ("(?<!a)", "look-around"),
        ("(?i)a", "inline flags"),
        ("(?>a)", "atomic group"),
        ("(?|a)", "branch-reset group"),
        ("(?R)", "backreference or recursion"),
        ("(a)\\1", "backreference"),
        ("\\k<a>", "backreference"),
        ("\\Ahttps://a\\.com\\Z", "assertion Python and PCRE read differently"),
        ("a\\b", "assertion Python and PCRE read differently"),
        ("a\\x41", "escape '\\x'"),
        ("a\\", "escapes nothing"),
        ("https://a b", "ASCII without whitespace"),
        ("a${b}", "variable"),
        ("", "empty regex"),
    ],
)
def test_constructs_outside_the_common_subset_are_refused_by_name(
    regex: str, expected: str
) -> None:
    assert expected in refusal(regex)


def test_a_refused_regex_is_reported_on_its_line(tmp_path: Path) -> None:
    (problem,) = problems(minimal(origin_regex=json.dumps(["^https://[[:alpha:]]+\\.com$"])))
    assert problem.startswith("policy.yaml:4: entry '^https://[[:alpha:]]+\\\\.com$': the POSIX")


def test_the_parser_needs_no_private_module_of_python() -> None:
    source = (REPO / "corsgen" / "origin_regex.py").read_text()
    source += (REPO / "corsgen" / "matrix.py").read_text()
    assert "_parser" not in source and "sre_parse" not in source


# --- matching time ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regex", "construct"),
    [
        (r"(a+)+$", "'(a+)+' (position 1)"),
        (r"^https://([a-z0-9]+-?)*\.example\.com$", "'([a-z0-9]+-?)*' (position 10)"),
        (r"^https://(a|a)*\.example\.com$", "'(a|a)*' (position 10)"),
        (r"^https://[a-z]*[a-z]*\.example\.com$", "'[a-z]*[a-z]*' (position 10)"),
        (r"^https://.*a.*\.example\.com$", "'.*a.*' (position 10)"),
        # Bounded, but nested counts multiply the ways just the same.
        (r"^https://(a{1,10}){1,10}\.example\.com$", "'(a{1,10}){1,10}' (position 10)"),
        (r"^https://(a?)*\.example\.com$", "'(a?)*' (position 10)"),
        (r"^https://(a|b|ab)*c$", "'(a|b|ab)*' (position 10)"),
        (r"^https://a?a?a?aaa\.com$", "'a?a?' (position 10)"),
        # Only two ways, never more: still refused, as the check accepts one way only.
        (r"^https://(x|[a-z]+)-api\.example\.com$", "'(x|[a-z]+)' (position 10)"),
    ],
)
def test_super_linear_regexes_are_refused_naming_the_construct(regex: str, construct: str) -> None:
    message = refusal(regex)
    assert message.startswith(construct)
    assert "can match one text in more than one way" in message


def test_the_refusal_gives_a_text_matched_in_two_ways() -> None:
    message = refusal(r"^https://([a-z0-9]+-?)*\.example\.com$")
    assert "(e.g. 'https://aa')" in message


def test_the_refused_regexes_really_backtrack_and_the_accepted_do_not() -> None:
    # The point of the check, measured with Python's re on the same crafted Origin.
    origin = "https://" + "a" * 22 + "!.example.com"
    started = time.perf_counter()
    re.fullmatch(anchored(r"^https://(a+)+\.example\.com$"), origin)
    slow = time.perf_counter() - started
    started = time.perf_counter()
    for regex in SAFE:
        re.fullmatch(anchored(regex), origin)
    fast = time.perf_counter() - started
    assert slow > 20 * fast


def test_a_long_regex_is_checked_in_bounded_time() -> None:
    alternatives = "|".join(f"app{index}\\.example\\.com" for index in range(200))
    regex = f"^https://({alternatives})$"
    regex = regex[: regex.rfind("|", 0, 1990)] + ")$"
    started = time.perf_counter()
    check_origin_regex(regex)
    assert time.perf_counter() - started < 2


def test_a_regex_too_large_to_check_is_refused_not_accepted() -> None:
    regex = "(a{255}){8}"
    assert MAX_POSITIONS < 255 * 8
    assert "too complex to check" in refusal(regex)
    assert "split it into several origin_regex entries" in refusal(regex)


@pytest.mark.parametrize(
    # nginx -t fails on the first ('regular expression is too large'); the second has more
    # positions than the backtracking check examines.
    "regex",
    [r"(([a-z][a-y]){255}){4}", r"((((a{255}){2}){2}){2})"],
)
def test_a_regex_pcre_would_compile_too_large_is_refused(regex: str) -> None:
    message = refusal(regex)
    assert "too large" in message or "too complex" in message


# --- origins anyone can own ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regex", "origin"),
    [
        (".*", "null"),
        ("[a-z]*", "null"),
        (r"^https?://.+$", "https://corsgen-attacker.com"),
        (r"^https://[a-z0-9-]+\.com$", "https://corsgen-attacker.com"),
        (r"^https://[a-z0-9-]+\.github\.io$", "https://corsgen-attacker.github.io"),
        (r"^https://[a-z]+example\.net$", "https://corsgenattackerexample.net"),
        (r"^https://example\.[a-z]+$", "https://example.xyz"),
        (r"^https://[a-z]+\.co\.[a-z]{2}$", "https://a.co.uk"),
        (r"^https://[a-z]{1,20}\.co\.uk$", "https://corsgenattacker.co.uk"),
        (r"^https://...\.com$", "https://aaa.com"),
    ],
)
def test_credentials_refuse_a_regex_that_matches_origins_anyone_can_own(
    regex: str, origin: str
) -> None:
    assert attacker_origin(regex) == origin
    text = minimal(origin_regex=json.dumps([regex]), allow_credentials="true")
    (problem,) = problems(text)
    assert problem.startswith(f"policy.yaml:4: entry {regex!r}: matches {origin!r}")
    assert "allow_credentials" in problem
    # Without credentials the policy is valid; corsgen lint warns (tests/test_lint.py).
    assert parse_policy(minimal(origin_regex=json.dumps([regex]))).origin_regex == (regex,)


def test_the_error_is_on_the_line_of_the_regex_that_causes_it() -> None:
    text = (
        "version: 1\nname: t\norigins: [https://app.example.com]\nallow_credentials: true\n"
        "origin_regex:\n  - '^https://pr-[0-9]+\\.preview\\.example\\.dev$'\n  - '.*'\n"
    )
    (problem,) = problems(text)
    assert problem.startswith("policy.yaml:7: entry '.*': matches 'null'")


@pytest.mark.parametrize(
    "regex",
    [
        *SAFE,
        r"^https://(staging|qa)\.example\.net$",
        r"^https://[a-z]\.example\.com$",
        r"^https://app\.example\.com.?$",  # 'coma' is no suffix anyone can register under
        r"^http://[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:8080$",  # addresses, not registrable names
        # Special-use and internal names nobody can register.
        r"^http://pr-[0-9]+\.localhost:3000$",
        r"^https://[a-z0-9-]+\.internal$",
        r"^https://[a-z]+\.test$",
    ],
)
def test_credentials_keep_regexes_under_a_name_you_control(regex: str) -> None:
    assert attacker_origin(regex) is None
    policy = parse_policy(minimal(origin_regex=json.dumps([regex]), allow_credentials="true"))
    assert policy.origin_regex == (regex,)


def test_samples_mark_what_the_attacker_chooses() -> None:
    (first, *others) = samples(parse(r"^https://(www\.)?[a-z]+\.example\.com$"))
    assert first.text == "https://a.example.com"
    assert first.choices[first.text.index("a.")] == -1  # FREE: a repetition's letters
    assert first.choices[first.text.index("example")] == 1
    assert "https://www.a.example.com" in [sample.text for sample in others]


# --- against the real PCRE --------------------------------------------------------------------


def _literal() -> st.SearchStrategy[str]:
    return st.sampled_from(["a", "b", "x", "-", "\\.", "\\-", ":", "/", "0", "9", "}", "]"])


_CLASSES = ["[a-z]", "[a-z0-9-]", "[^.]", "[ab]", "[]a]", "[-a]", "\\d", "\\w", "\\D", "."]
# Constructs the parser must refuse (or that are only valid in some places).
_ODD = ["[[:alpha:]]", "{,3}", "{", "[\\w-.]", "(?i)", "\\b", "^", "$", "[z-a]", "[a--b]"]


def _quantifier() -> st.SearchStrategy[str]:
    bound = st.integers(0, 300)
    return st.one_of(
        st.sampled_from(["", "", "", "*", "+", "?"]),
        bound.map(lambda n: f"{{{n}}}"),
        st.tuples(bound, bound).map(lambda b: f"{{{b[0]},{b[1]}}}"),
        bound.map(lambda n: f"{{{n},}}"),
        bound.map(lambda n: f"{{,{n}}}"),
    )


def _regexes() -> st.SearchStrategy[str]:
    atom = st.one_of(_literal(), st.sampled_from(_CLASSES), st.sampled_from(_ODD))
    return st.recursive(
        st.tuples(atom, _quantifier()).map("".join),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=4).map("".join),
            st.lists(inner, min_size=2, max_size=3).map(lambda parts: "(" + "|".join(parts) + ")"),
            st.tuples(inner, _quantifier()).map(lambda parts: f"(?:{parts[0]}){parts[1]}"),
            st.tuples(inner, _quantifier()).map(lambda parts: f"({parts[0]}){parts[1]}"),
        ),
        max_leaves=8,
    )


def _accepted(regex: str) -> str | None:
    try:
        return check_origin_regex(regex)
    except OriginSyntaxError:
        return None


def _pcre_matches(pattern: str, texts: list[str]) -> set[str]:
    """The texts the real PCRE2 matches as a whole (grep -P, byte semantics)."""
    result = subprocess.run(
        [GREP, "-P", "-x", "-e", pattern],
        input="\n".join(texts) + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        timeout=30,
    )
    # 2: the pattern does not compile, or matching hit PCRE's backtracking limit.
    assert result.returncode in (0, 1), f"PCRE2 on {pattern!r}: {result.stderr}"
    return set(result.stdout.splitlines())


# The property tests that compare an accepted regex with another engine (PCRE here, RE2 in
# tests/test_envoy_config.py): the same examples, bound and CI derandomisation for both.
REGEX_AGREEMENT_SETTINGS = settings(
    max_examples=int(os.environ.get("CORSGEN_REGEX_EXAMPLES", "300")),
    deadline=None,
    derandomize=in_ci(),
    suppress_health_check=[HealthCheck.too_slow],
)


@REGEX_AGREEMENT_SETTINGS
@given(regex=_regexes(), data=st.data())
def test_an_accepted_regex_matches_the_same_origins_in_python_and_pcre(
    regex: str, data: st.DataObject
) -> None:
    pattern = _accepted(regex)
    if pattern is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. FutureWarning: possible nested set
        compiled = re.compile(pattern)
    texts = [sample.text for sample in samples(parse(regex))]
    texts += [data.draw(st.from_regex(compiled, fullmatch=True)) for _ in range(3)]
    texts += data.draw(st.lists(st.text("ab-.:/09x}]", max_size=12), max_size=8))
    # Long texts that repeat what the regex repeats: linear matching never hits the limit.
    texts += [text * 40 + "!" for text in texts[:2]]
    texts = [text for text in dict.fromkeys(texts) if text.isascii() and text.isprintable()]
    python = {text for text in texts if compiled.fullmatch(text)}
    assert _pcre_matches(pattern, texts) == python


@settings(
    max_examples=int(os.environ.get("CORSGEN_REGEX_SERVER_EXAMPLES", "12")),
    deadline=None,
    derandomize=in_ci(),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(regexes=st.lists(_regexes(), min_size=20, max_size=40))
def test_every_accepted_regex_renders_configs_nginx_and_apache_accept(
    regexes: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    need(NGINX)
    need(APACHE)
    accepted = [regex for regex in dict.fromkeys(regexes) if _accepted(regex) is not None]
    if not accepted:
        return
    workdir = tmp_path_factory.mktemp("regexes")
    policy = workdir / "regexes.yaml"
    policy.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "name": "regexes",
                "origins": ["https://app.example.com"],
                "origin_regex": accepted,
            }
        )
    )
    assert_both_servers_accept(workdir, [policy])


@pytest.mark.parametrize(
    "regex",
    [
        r"^https://(?:[a-z0-9-]{1,63}\.){1,4}example\.com$",
        r"^https://(([a-z][a-y]){140}){3}$",  # close to the size estimate's limit
        r"^https://((ab){200}){4}$",
        "^https://" + "(" * 8 + "a" + ")" * 8 + "$",  # as deep as allowed
    ],
)
def test_the_largest_accepted_shapes_compile_in_nginx_and_apache(
    regex: str, tmp_path: Path
) -> None:
    # The size estimate leaves room: what it lets through, PCRE2 compiles.
    need(NGINX)
    need(APACHE)
    check(regex)
    policy = tmp_path / "big.yaml"
    policy.write_text(
        yaml.safe_dump(
            {"version": 1, "name": "big", "origins": ["https://a.example"], "origin_regex": [regex]}
        )
    )
    assert_both_servers_accept(tmp_path, [policy])
