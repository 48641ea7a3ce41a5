"""A friendly terminal: colour for people, plain text when piped or with NO_COLOR, --quiet."""

from __future__ import annotations

from typer.testing import CliRunner

from corsgen.cli import app
from tests.conftest import REPO

EXAMPLE = str(REPO / "examples" / "predict-api.yaml")
ESC = "\x1b["


def run(*args: str, env: dict[str, str] | None = None):
    # Neutral colour settings, whatever the environment running the tests has.
    return CliRunner().invoke(
        app, list(args), env={"FORCE_COLOR": "", "NO_COLOR": "", **(env or {})}
    )


def drifted_dir(tmp_path):
    run("render", EXAMPLE, "-t", "apache", "-o", str(tmp_path))
    conf = tmp_path / "predict-api.conf"
    conf.write_text(conf.read_text() + "# local edit\n")
    return tmp_path


def test_output_is_plain_when_not_a_terminal(tmp_path):
    result = run("check", EXAMPLE, "-t", "apache", "-o", str(drifted_dir(tmp_path)))
    assert result.exit_code == 1
    assert "-# local edit" in result.stdout
    assert ESC not in result.output


def test_force_color_colours_diffs_and_problems(tmp_path, write_policy):
    env = {"FORCE_COLOR": "1", "NO_COLOR": ""}
    result = run("check", EXAMPLE, "-t", "apache", "-o", str(drifted_dir(tmp_path)), env=env)
    assert f"{ESC}31m-# local edit" in result.stdout
    bad = write_policy("version: 2\norigins: [https://a.com]\n")
    result = run("validate", str(bad), env=env)
    assert result.stderr.startswith(f"{ESC}31m{bad}:1: entry '2'")


def test_no_color_wins_over_force_color(tmp_path):
    env = {"FORCE_COLOR": "1", "NO_COLOR": "1"}
    result = run("check", EXAMPLE, "-t", "apache", "-o", str(drifted_dir(tmp_path)), env=env)
    assert ESC not in result.output


def test_quiet_keeps_problems_and_output_but_drops_progress(tmp_path, write_policy):
    result = run("--quiet", "render", EXAMPLE, "-t", "nginx", "-o", str(tmp_path))
    assert result.exit_code == 0
    assert result.output == ""
    result = run("-q", "check", EXAMPLE, "-t", "nginx", "-o", str(tmp_path))
    assert (result.exit_code, result.output) == (0, "")
    bad = write_policy("version: 2\norigins: [https://a.com]\n")
    result = run("-q", "validate", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:1: entry '2'" in result.stderr


def test_shell_completion_is_offered():
    result = run("--help")
    assert "--install-completion" in result.stdout
    assert "--show-completion" in result.stdout
