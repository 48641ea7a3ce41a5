"""The pre-commit hooks of .pre-commit-hooks.yaml, run for real by the pre-commit tool.

pre-commit installs a hook repository from git: it clones it at a commit and
pip-installs it into a virtualenv of its own (dependencies from PyPI). So that the test
sees the working tree as it is, committed or not, the files a build needs are copied
into a temporary git repository and committed there; git never runs in the checkout.

`pre-commit try-repo`, which cannot pass `args`, is run on a repository laid out as the
hooks' default `args` expect (docs/ci.md).

Slow-ish (the first run builds the hook's virtualenv, about a minute); it runs in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from corsgen.policy import load_policy
from corsgen.render import render
from edgeharness.availability import unavailable
from tests.conftest import REPO

pytestmark = pytest.mark.slow

# What pip needs to build corsgen from source (pyproject.toml names README.md as readme).
BUILD_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "corsgen", "templates")
POLICY = """\
version: 1
name: shop-api
origins:
  - https://shop.example.com
allow_credentials: true
allow_headers: [Content-Type]
"""
INSTALL_TIMEOUT = 900  # the first run creates the virtualenv and installs from PyPI
RUN_TIMEOUT = 300


def pre_commit() -> str:
    found = shutil.which("pre-commit")
    if found is None:
        unavailable("pre-commit is not installed (pip install pre-commit, in the test extra)")
    return found


def git(cwd: Path, *args: str) -> None:
    # Identity and signing given here, so neither the user's nor CI's git config matters.
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=corsgen tests",
            "-c",
            "user.email=tests@corsgen.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, str]:
    """A git repository holding this checkout's corsgen, and its commit."""
    source = tmp_path_factory.mktemp("corsgen-hooks")
    for name in BUILD_FILES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(origin, source / name)
    git(source, "init", "--quiet")
    git(source, "add", "--all")
    git(source, "commit", "--quiet", "-m", "corsgen as in the checkout under test")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=source, check=True, capture_output=True, text=True
    ).stdout.strip()
    return source, head


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    # One cache for the module: the hook's virtualenv is built once, not per test.
    return tmp_path_factory.mktemp("pre-commit-home")


def user_repo(root: Path, hook_repo: tuple[Path, str], hooks: str) -> Path:
    """A repository with a policy, its rendered nginx snippets and a pre-commit config."""
    source, head = hook_repo
    repo = root / "infra"
    (repo / "cors").mkdir(parents=True)
    policy_path = repo / "cors" / "shop-api.yaml"
    policy_path.write_text(POLICY)
    out = repo / "deploy" / "nginx"
    out.mkdir(parents=True)
    for name, text in render(load_policy(policy_path), "nginx").files.items():
        (out / name).write_text(text)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {source}\n    rev: {head}\n    hooks:\n{hooks}"
    )
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "policy and snippets")
    return repo


def run_pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PRE_COMMIT")
    }
    environment.update(PRE_COMMIT_HOME=str(home), PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run(
        [pre_commit(), *args, "--color", "never"],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT + RUN_TIMEOUT,
    )


def run_hooks(repo: Path, home: Path) -> subprocess.CompletedProcess:
    return run_pre_commit(repo, home, "run", "--all-files")


CHECK_HOOK = (
    "      - id: corsgen-check\n"
    "        args: [cors/shop-api.yaml, --target, nginx, --out-dir, deploy/nginx]\n"
)


def test_corsgen_check_hook_passes_when_the_snippets_are_current_and_fails_after_an_edit(
    tmp_path, hook_repo, pre_commit_home
):
    repo = user_repo(tmp_path, hook_repo, CHECK_HOOK)

    # Current: the hook passes.
    result = run_hooks(repo, pre_commit_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "corsgen check (committed CORS snippets match the policy)" in result.stdout
    assert "Passed" in result.stdout

    # A hand edit of a snippet: the hook fails and shows the diff and the fix.
    location = repo / "deploy" / "nginx" / "shop-api.location.conf"
    drifted = "add_header Access-Control-Allow-Origin $corsgen_shop_api_allow_origin"
    location.write_text(location.read_text().replace(f"{drifted} always;", f"{drifted};"))
    git(repo, "add", "--all")  # pre-commit stashes unstaged changes; stage the edit
    result = run_hooks(repo, pre_commit_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert (
        "-add_header Access-Control-Allow-Origin $corsgen_shop_api_allow_origin;" in result.stdout
    )
    assert (
        "+add_header Access-Control-Allow-Origin $corsgen_shop_api_allow_origin always;"
        in result.stdout
    )
    assert (
        "run: corsgen render cors/shop-api.yaml --target nginx --out-dir deploy/nginx"
        in result.stdout
    )

    # A policy change without rendering again: red as well.
    location.write_text(
        render(load_policy(repo / "cors" / "shop-api.yaml"), "nginx").files[location.name]
    )
    policy = repo / "cors" / "shop-api.yaml"
    policy.write_text(policy.read_text().replace("[Content-Type]", "[Content-Type, X-Trace]"))
    git(repo, "add", "--all")
    result = run_hooks(repo, pre_commit_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert '+    preflight "Content-Type, X-Trace";' in result.stdout


def test_corsgen_check_hook_reports_an_invalid_policy(tmp_path, hook_repo, pre_commit_home):
    repo = user_repo(tmp_path, hook_repo, CHECK_HOOK)
    policy = repo / "cors" / "shop-api.yaml"
    policy.write_text(policy.read_text().replace("https://shop.example.com", "https://shop/x"))
    git(repo, "add", "--all")
    result = run_hooks(repo, pre_commit_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "cors/shop-api.yaml:4: entry 'https://shop/x': has a path after the host" in result.stdout
    )


def test_corsgen_lint_hook_runs_corsgen_lint_on_the_policies_in_args(
    tmp_path, hook_repo, pre_commit_home
):
    repo = user_repo(tmp_path, hook_repo, "      - id: corsgen-lint\n        args: [cors/]\n")
    result = run_hooks(repo, pre_commit_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "corsgen lint (CORS policy warnings)" in result.stdout
    assert "Passed" in result.stdout


# `pre-commit try-repo` cannot pass `args`: it runs the hooks with the defaults of
# .pre-commit-hooks.yaml, the conventional layout of docs/ci.md — the policies in cors/,
# their nginx and Apache snippets in cors/generated/. try-repo installs the hook into a
# throwaway store of its own (PRE_COMMIT_HOME is not used), so every call below builds
# the hook's virtualenv again; pip's cache keeps that to seconds once warm.
CONVENTIONAL_OUT = Path("cors", "generated")


def conventional_repo(root: Path) -> Path:
    """A repository laid out as the hooks' defaults expect, with no pre-commit config."""
    repo = root / "infra"
    (repo / CONVENTIONAL_OUT).mkdir(parents=True)
    policy_path = repo / "cors" / "shop-api.yaml"
    policy_path.write_text(POLICY)
    for target in ("nginx", "apache"):
        for name, text in render(load_policy(policy_path), target).files.items():
            (repo / CONVENTIONAL_OUT / name).write_text(text)
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "policy and snippets, conventional layout")
    return repo


def try_repo(
    repo: Path, hook_repo: tuple[Path, str], home: Path, hook: str, *, passes: bool
) -> str:
    """pre-commit try-repo ``hook`` on every file of ``repo``: its output, once checked
    that the hook passed (or failed)."""
    source, _ = hook_repo
    result = run_pre_commit(repo, home, "try-repo", str(source), hook, "--all-files", "--verbose")
    assert result.returncode == (0 if passes else 1), result.stdout + result.stderr
    assert ("Passed" if passes else "Failed") in result.stdout
    return result.stdout


def test_try_repo_corsgen_check_passes_on_the_conventional_layout_and_fails_after_an_edit(
    tmp_path, hook_repo, pre_commit_home
):
    repo = conventional_repo(tmp_path)

    # Current: green, and both targets were checked in cors/generated/.
    output = try_repo(repo, hook_repo, pre_commit_home, "corsgen-check", passes=True)
    assert "corsgen check (committed CORS snippets match the policy)" in output
    assert "cors/generated: up to date (nginx, apache)" in output

    # A hand edit of the nginx and of the Apache snippet: red, with both diffs and the fix.
    location = repo / CONVENTIONAL_OUT / "shop-api.location.conf"
    drifted = "add_header Access-Control-Allow-Origin $corsgen_shop_api_allow_origin"
    location.write_text(location.read_text().replace(f"{drifted} always;", f"{drifted};"))
    apache = repo / CONVENTIONAL_OUT / "shop-api.conf"
    header = "Access-Control-Allow-Origin"
    apache.write_text(
        apache.read_text().replace(f"Header always set {header}", f"Header set {header}")
    )
    git(repo, "add", "--all")
    output = try_repo(repo, hook_repo, pre_commit_home, "corsgen-check", passes=False)
    assert f"-{drifted};" in output
    assert f"+{drifted} always;" in output
    assert f"-Header set {header}" in output
    assert f"+Header always set {header}" in output
    assert (
        "corsgen: 2 file(s) in cors/generated are not current; run: corsgen render cors "
        "--target nginx --target apache --out-dir cors/generated" in output
    )


def test_try_repo_corsgen_lint_lints_the_conventional_policy_folder(
    tmp_path, hook_repo, pre_commit_home
):
    repo = conventional_repo(tmp_path)

    # Valid policies: green; --verbose shows that cors/ was linted.
    output = try_repo(repo, hook_repo, pre_commit_home, "corsgen-lint", passes=True)
    assert "corsgen lint (CORS policy warnings)" in output
    assert "cors/shop-api.yaml: no warnings" in output

    # An invalid policy in cors/: red, with the file and line.
    policy = repo / "cors" / "shop-api.yaml"
    policy.write_text(policy.read_text().replace("https://shop.example.com", "https://shop/x"))
    git(repo, "add", "--all")
    output = try_repo(repo, hook_repo, pre_commit_home, "corsgen-lint", passes=False)
    assert "cors/shop-api.yaml:4: entry 'https://shop/x': has a path after the host" in output
