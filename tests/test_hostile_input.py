"""Hostile policy files never crash corsgen, never hang it, never leave a partial write.

Hypothesis generates policy files with arbitrary unicode, control characters, very long
values, deep nesting, YAML aliases (billion laughs), duplicate keys and wrong types, and
runs them through the real command line. For every file corsgen must either

* reject it with a clear message (exit 1, the file named on stderr, no traceback) and leave
  ``--out-dir`` exactly as it was, or
* render configs that the real ``nginx -t`` and ``apache2 -t`` accept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.policy import Policy
from edgeharness.availability import in_ci, require_installed
from edgeharness.targets import APACHE, NGINX
from tests.edge_servers import ApacheEdge, Edge, NginxEdge, Upstream

pytestmark = pytest.mark.slow

runner = CliRunner()
EXAMPLES = int(os.environ.get("CORSGEN_HOSTILE_EXAMPLES", "150"))
# Far more than any policy needs: a run that takes longer has hung.
RUN_SECONDS = 20
SENTINEL = "committed config, must survive a failed run\n"


@pytest.fixture(scope="module")
def checkers(upstream: Upstream) -> Iterator[dict[str, Edge]]:
    """Config testers (never started): they run `nginx -t` / `apache2 -t` on rendered files."""
    require_installed(NGINX, APACHE)
    edges = {"nginx": NginxEdge(upstream), "apache": ApacheEdge(upstream)}
    yield edges
    for edge in edges.values():
        edge.stop()


class Hung(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise Hung(f"corsgen did not finish within {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_render(policy: Path, out_dir: Path) -> tuple[int, str, str]:
    """``corsgen render POLICY -t nginx -t apache --out-dir OUT`` in-process, time-limited."""
    with time_limit(RUN_SECONDS):
        result = runner.invoke(
            app,
            ["render", str(policy), "-t", "nginx", "-t", "apache", "--out-dir", str(out_dir)],
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        what = "hung" if isinstance(result.exception, Hung) else "crashed"
        raise AssertionError(
            f"corsgen {what} on {policy.read_bytes()[:500]!r}"
        ) from result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_rejected_or_valid(
    checkers: dict[str, Edge], tmp: Path, content: bytes, runner_kind: str = "cli"
) -> None:
    policy = tmp / "policy.yaml"
    policy.write_bytes(content)
    out_dir = tmp / "out"
    out_dir.mkdir(exist_ok=True)
    for stale in out_dir.iterdir():
        stale.unlink()
    (out_dir / "keep.conf").write_text(SENTINEL)
    if runner_kind == "cli":
        code, stdout, stderr = run_render(policy, out_dir)
    else:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "corsgen",
                "render",
                str(policy),
                "-t",
                "nginx",
                "-t",
                "apache",
                "--out-dir",
                str(out_dir),
            ],
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            check=False,
        )
        code, stdout, stderr = completed.returncode, completed.stdout, completed.stderr
    written = sorted(path.name for path in out_dir.iterdir())
    assert "Traceback" not in stdout + stderr, stderr
    if code != 0:
        assert code == 1, f"exit {code} for an invalid policy (expected 1):\n{stderr}"
        assert str(policy) in stderr, f"the message does not name the file:\n{stderr}"
        assert written == ["keep.conf"], f"a failed run wrote {written}"
        assert (out_dir / "keep.conf").read_text() == SENTINEL
        return
    assert (out_dir / "keep.conf").read_text() == SENTINEL
    rendered = {name: (out_dir / name).read_text() for name in written if name != "keep.conf"}
    assert not [name for name in written if name.startswith(".")], f"temporary files: {written}"
    nginx_files = {
        n: t for n, t in rendered.items() if n.endswith((".http.conf", ".location.conf"))
    }
    apache_files = {n: t for n, t in rendered.items() if n not in nginx_files}
    assert len(nginx_files) == 2 and len(apache_files) == 1, f"wrote {written}"
    for name, files in (("nginx", nginx_files), ("apache", apache_files)):
        checked = checkers[name].check_rendered(files)
        assert checked.returncode == 0, (
            f"{name} -t rejects the config rendered from:\n"
            f"{content.decode('utf-8', 'replace')[:2000]}\n{checked.stderr[-1500:]}"
        )


# --- strategies -------------------------------------------------------------------------------

BASE = {
    "version": 1,
    "name": "hostile",
    "origins": ["https://app.example.com"],
}
KEYS = tuple(Policy.model_fields)  # every key a policy file may have
# Pieces that break out of config strings or directives in nginx or Apache.
BREAKOUTS = (
    '"',
    "'",
    "\\",
    ";",
    "{",
    "}",
    "$",
    "${HOME}",
    "#",
    "<",
    ">",
    "`",
    "%",
    "\n",
    "\r",
    "\t",
    " ",
    "\x00",
    "\x1b",
    "\u2028",
    "\ufeff",
    '"; add_header X-Injected 1; #',
    "\nHeader set X-Injected 1\n",
    "</VirtualHost>",
)
ORIGIN_LIKE = st.sampled_from(
    [
        "https://app.example.com",
        "https://*.example.org",
        "http://127.0.0.1:*",
        "http://[::1]:8080",
        "capacitor://localhost",
        "https://bücher.example",
        "null",
        "*",
    ]
)

long_text = st.integers(min_value=1, max_value=12000).map(lambda n: "a" * n)
tokens = st.from_regex(r"[A-Za-z0-9!&+.^_|~-]{1,40}", fullmatch=True)
hostile_strings = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(BREAKOUTS),
    st.tuples(ORIGIN_LIKE, st.sampled_from(BREAKOUTS)).map("".join),
    st.tuples(st.sampled_from(BREAKOUTS), ORIGIN_LIKE).map("".join),
    st.tuples(ORIGIN_LIKE, st.text(max_size=10)).map("".join),
    long_text,
    long_text.map(lambda text: "X-" + text),
    long_text.map(lambda text: f"https://{text}.example.com"),
    long_text.map(lambda text: f"^https://{text}\\.example\\.com$"),
    tokens,
)
scalars = st.one_of(
    hostile_strings,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(hostile_strings, st.sampled_from(KEYS)), children, max_size=4),
    ),
    max_leaves=20,
)
long_tokens = st.integers(min_value=1, max_value=12000).map(lambda n: "X-" + "a" * n)
list_values = st.one_of(
    st.lists(hostile_strings, min_size=1, max_size=6),
    st.lists(st.one_of(tokens, long_tokens), min_size=1, max_size=4),  # valid, but long
    st.lists(tokens, min_size=250, max_size=400),  # long lists of valid names
    values,
)


@st.composite
def mutated_policies(draw: st.DrawFn) -> bytes:
    """A valid policy with some keys replaced by hostile values, dumped as YAML."""
    data = dict(BASE)
    for key in draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4, unique=True)):
        data[key] = draw(list_values if key.endswith(("s", "regex")) else values)
    if draw(st.integers(0, 5)) == 0:
        data[draw(hostile_strings)] = draw(values)
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False, width=10**6)
    return text.encode("utf-8")


def _nested(depth: int, flow: bool) -> str:
    if flow:
        return "origins: " + "[" * depth + "https://a.example" + "]" * depth + "\n"
    lines = ["origins:"]
    for level in range(depth):
        lines.append("  " * (level + 1) + "-")
    lines[-1] += " https://a.example"
    return "\n".join(lines) + "\n"


def _laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "version: 1\nname: laughs\n" + "\n".join(lines) + f"\norigins: *a{levels - 1}\n"


raw_documents = st.one_of(
    st.integers(2, 3000).flatmap(
        lambda depth: st.booleans().map(
            lambda flow: f"version: 1\nname: deep\n{_nested(depth, flow)}"
        )
    ),
    st.integers(2, 12).map(_laughs),
    st.sampled_from(KEYS).map(
        lambda key: f"version: 1\nname: dup\norigins: [https://a.example]\n{key}: 1\n{key}: 2\n"
    ),
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            "---\n",
            "version: 1\n---\nversion: 1\n",
            "!!python/object/apply:os.system ['echo pwned']\n",
            "version: !!python/object/apply:os.getcwd []\norigins: [https://a.example]\n",
            "base: &base {version: 1}\n<<: *base\norigins: [https://a.example]\n",
            "version: 1\norigins: [https://a.example]\nname: !!binary aGVsbG8=\n",
            "\ufeffversion: 1\nname: bom\norigins: [https://a.example]\n",
            "version: 1\nname: tab\norigins:\n\t- https://a.example\n",
            "? [complex, key]\n: value\n",
            "version: 1\nname: x\norigins: {https://a.example: 1}\n",
            "- version: 1\n",
            "version: 1\nname: x\norigins: [https://a.example\n",
        ]
    ),
).map(lambda text: text.encode("utf-8"))


# --- the properties -------------------------------------------------------------------------

HOSTILE_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=in_ci(),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example,
    ],
)


@HOSTILE_SETTINGS
@given(content=mutated_policies())
def test_a_policy_with_hostile_values_is_rejected_or_renders_configs_servers_accept(
    checkers: dict[str, Edge], tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    assert_rejected_or_valid(checkers, tmp_path_factory.mktemp("hostile"), content)


@HOSTILE_SETTINGS
@given(content=raw_documents)
def test_a_hostile_yaml_document_is_rejected_cleanly(
    checkers: dict[str, Edge], tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    assert_rejected_or_valid(checkers, tmp_path_factory.mktemp("raw"), content)


# --- a few real processes ------------------------------------------------------------------


HOSTILE_FILES = {
    "billion-laughs": _laughs(12).encode(),
    "deep-nesting": f"version: 1\nname: deep\n{_nested(100000, flow=True)}".encode(),
    "not-utf8": b"version: 1\nname: latin\norigins: [https://caf\xe9.example]\n",
    "utf16": "version: 1\norigins: [https://a.example]\n".encode("utf-16"),
    "nul-bytes": b"version: 1\x00\norigins: [https://a.example]\n",
    "injection": b"version: 1\nname: x\norigins: ['https://a.example\"; return 200; #']\n",
    "huge-file": b"version: 1\nname: big\norigins:\n" + b"  - https://a.example\n" * 200000,
}


@pytest.mark.parametrize("label", sorted(HOSTILE_FILES))
def test_the_installed_command_survives_hostile_files(
    checkers: dict[str, Edge], tmp_path: Path, label: str
) -> None:
    assert_rejected_or_valid(checkers, tmp_path, HOSTILE_FILES[label], runner_kind="subprocess")


# --- regressions found by the properties above ------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("allow_headers", ["X" * 5000]),
        ("expose_headers", ["X" * 5000]),
        ("allow_methods", ["M" * 5000]),
        ("allow_headers", [f"X-Header-{number}" for number in range(400)]),
        ("expose_headers", [f"X-Header-{number}" for number in range(400)]),
        ("allow_methods", [f"M{number}" for number in range(800)]),
        ("origin_regex", ["^https://" + "a" * 5000 + r"\.example\.com$"]),
    ],
    ids=[
        "long-header",
        "long-expose-header",
        "long-method",
        "many-headers",
        "many-expose-headers",
        "many-methods",
        "long-regex",
    ],
)
def test_a_value_longer_than_nginx_accepts_in_one_parameter_is_rejected_or_rendered_validly(
    checkers: dict[str, Edge], tmp_path: Path, key: str, value: list[str]
) -> None:
    """nginx refuses a config token longer than its 4 KiB buffer ("too long parameter"):
    corsgen must refuse such a policy with a message, or split the value. Found by
    test_a_policy_with_hostile_values_is_rejected_or_renders_configs_servers_accept."""
    content = yaml.safe_dump({**BASE, key: value}, width=10**6).encode()

    assert_rejected_or_valid(checkers, tmp_path, content)


@pytest.mark.parametrize(
    "content",
    [b"version: 1\norigins: [https://caf\xe9.example]\n", "version: 1\n".encode("utf-16")],
    ids=["latin-1", "utf-16"],
)
def test_a_policy_file_that_is_not_utf8_is_rejected_with_a_message_naming_the_file(
    tmp_path: Path, content: bytes
) -> None:
    """Spec section 3: an invalid policy exits 1 "with a message on stderr naming the file".
    Found by test_the_installed_command_survives_hostile_files[not-utf8]: the message says
    "a policy file is not UTF-8 text" without saying which file."""
    policy = tmp_path / "latin.yaml"
    policy.write_bytes(content)

    result = runner.invoke(app, ["render", str(policy), "-t", "nginx"])

    assert result.exit_code == 1
    assert str(policy) in result.stderr


# --- no traceback from any command, whatever it is given -------------------------------------


def _hostile_paths(tmp: Path) -> dict[str, Path]:
    """Policy paths that are wrong as files or folders rather than as YAML."""
    paths: dict[str, Path] = {}
    for label, content in {
        "nul": b"version: 1\nname: nul\norigins: [https://a.exa\x00mple]\n",
        "tab": b"version: 1\nname: tab\norigins:\n\t- https://a.example\n",
        "latin-1": b"version: 1\nname: latin\norigins: [https://caf\xe9.example]\n",
        "utf-16": "version: 1\norigins: [https://a.example]\n".encode("utf-16"),
        "long": b"version: 1\nname: long\norigins: [https://" + b"a" * 100_000 + b".com]\n",
        "star": b"version: 1\nname: star\norigins: [https://a.example, '*']\n",
    }.items():
        paths[label] = tmp / f"{label}.yaml"
        paths[label].write_bytes(content)
    paths["loop"] = tmp / "loop.yaml"
    paths["loop"].symlink_to("loop.yaml")
    paths["dangling"] = tmp / "dangling.yaml"
    paths["dangling"].symlink_to("deleted.yaml")
    paths["folder-as-file"] = tmp / "folder.yaml"
    paths["folder-as-file"].mkdir()
    (paths["folder-as-file"] / "inside.yaml").mkdir()
    paths["empty-folder"] = tmp / "empty"
    paths["empty-folder"].mkdir()
    paths["missing"] = tmp / "missing.yaml"
    return paths


def _commands(policy: Path, tmp: Path) -> dict[str, list[str]]:
    blocked = tmp / "a-file"
    blocked.write_text("")
    return {
        "validate": ["validate", str(policy)],
        "render": ["render", str(policy), "-t", "nginx", "-t", "apache"],
        "render-out-dir": ["render", str(policy), "-t", "nginx", "-o", str(tmp / "out")],
        "check": ["check", str(policy), "-t", "apache", "-o", str(blocked / "out")],
        "lint": ["lint", str(policy)],
        "explain": ["explain", str(policy), "--origin", "https://a.example"],
        "probe": ["probe", "http://127.0.0.1:9/", "--policy", str(policy)],
        "init-from-fastapi": ["init", str(tmp / "new.yaml"), "--from-fastapi", str(policy)],
    }


@pytest.mark.parametrize(
    "label",
    ["nul", "tab", "latin-1", "utf-16", "long", "star", "loop", "dangling"]
    + ["folder-as-file", "empty-folder", "missing"],
)
def test_no_command_prints_a_traceback_on_a_hostile_path(tmp_path: Path, label: str) -> None:
    """Every command, on every hostile path: an exit code of the documented scheme and a
    message, never a traceback (an uncaught exception in-process)."""
    policy = _hostile_paths(tmp_path)[label]
    for command, args in _commands(policy, tmp_path).items():
        with time_limit(RUN_SECONDS):
            result = runner.invoke(app, args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{command} crashed on {label}") from result.exception
        assert "Traceback" not in result.output
        assert result.exit_code in (1, 2), f"{command} on {label}: {result.exit_code}"
        assert result.stderr.strip(), f"{command} on {label} failed without a word"
        longest = max(len(line) for line in result.stderr.splitlines())
        assert longest < 400, f"{command} on {label}: a {longest}-character line"


def test_an_out_dir_that_cannot_be_created_never_prints_a_traceback(tmp_path: Path) -> None:
    """In a real process, so that "Exception ignored" at exit would show too."""
    (tmp_path / "a-file").write_text("")
    policy = tmp_path / "ok.yaml"
    policy.write_text("version: 1\norigins: [https://a.example]\n")
    for args in (
        ["render", str(policy), "-t", "nginx", "-o", str(tmp_path / "a-file" / "out")],
        ["init", str(tmp_path / "a-file" / "new.yaml")],
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "corsgen", *args],
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            check=False,
        )
        assert completed.returncode == 3, completed.stderr
        assert len(completed.stderr.splitlines()) == 1, completed.stderr
        assert "Not a directory" in completed.stderr or "not a folder" in completed.stderr
