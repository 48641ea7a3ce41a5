""".ci/run: the README's test command under CI=true, then ruff; never green without tests.

Each test runs the real script in a scratch repository whose README.md holds the test
command, with a ``.venv/bin/python`` that is this interpreter (where pytest and ruff are).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

RUN_TIMEOUT = 120


def scratch_repo(tmp_path: Path, test_command: str, tests: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    (root / ".ci").mkdir(parents=True)
    (root / ".ci" / "run").write_bytes((REPO / ".ci" / "run").read_bytes())
    readme = f"# x\n\n```bash\necho first\n```\n\n```bash\n{test_command}\n```\n"
    (root / "README.md").write_text(readme)
    # pyproject.toml keeps pytest and ruff in the scratch repo, not in the checkout above.
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\ntestpaths = ['t']\n")
    (root / "t").mkdir()
    for name, text in tests.items():
        (root / "t" / name).write_text(text)
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    python.chmod(0o755)
    return root


def run_ci(root: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CI", "PYTEST_ADDOPTS") and not key.startswith("PYTEST_")
    }
    return subprocess.run(
        ["bash", str(root / ".ci" / "run")],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


PYTEST = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider"
PASSING = (
    'import os\n\n\ndef test_ci_is_set() -> None:\n    assert os.environ.get("CI") == "true"\n'
)
SKIPPED = (
    'import pytest\n\n\n@pytest.mark.skip(reason="no server")\ndef test_x() -> None:\n    pass\n'
)


def test_a_passing_run_sets_ci_itself_and_runs_ruff(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path, PYTEST, {"test_ok.py": PASSING})
    result = run_ci(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pytest ran 1 tests: 1 passed, 0 skipped" in result.stdout
    assert "+ ruff check . && ruff format --check ." in result.stdout


def test_a_command_that_runs_no_pytest_fails(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path, "true", {"test_ok.py": PASSING})
    result = run_ci(root)
    assert result.returncode != 0
    assert "ran no pytest" in result.stderr


def test_a_run_where_every_test_skipped_fails(tmp_path: Path) -> None:
    # pytest itself exits 0 when every test was skipped.
    root = scratch_repo(tmp_path, PYTEST, {"test_skipped.py": SKIPPED})
    result = run_ci(root)
    assert result.returncode != 0, result.stdout
    assert "pytest passed no test" in result.stderr


def test_a_run_that_collects_nothing_fails(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path, f"{PYTEST} -k no_such_test", {"test_ok.py": PASSING})
    assert run_ci(root).returncode != 0


def test_unformatted_code_fails_after_green_tests(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path, PYTEST, {"test_ok.py": PASSING})
    (root / "sloppy.py").write_text("x = ( 1,2 )\n")
    result = run_ci(root)
    assert result.returncode != 0
    assert "1 file would be reformatted" in result.stdout + result.stderr
