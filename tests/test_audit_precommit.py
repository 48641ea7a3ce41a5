"""The corsgen-audit pre-commit hook, run for real by the pre-commit tool.

The hook repository and the pre-commit cache are tests/test_precommit.py's (the hook's
virtualenv is built once per module there, about a minute on the first run).
"""

from __future__ import annotations

import pytest

from tests.test_precommit import git, hook_repo, pre_commit_home, run_hooks, user_repo

pytestmark = pytest.mark.slow
__all__ = ["hook_repo", "pre_commit_home"]  # fixtures used by name below

SITE = """server {
    listen 8080;
    location / {
        include shop-api.location.conf;
        proxy_pass http://127.0.0.1:8000;
    }
}
"""


def test_corsgen_audit_hook_passes_a_clean_config_and_fails_on_a_finding(
    tmp_path, hook_repo, pre_commit_home
):
    repo = user_repo(tmp_path, hook_repo, "      - id: corsgen-audit\n")
    site = repo / "deploy" / "nginx" / "site.conf"
    site.write_text(SITE)
    git(repo, "add", "--all")
    # The generated snippets and a site including them as documented: clean.
    result = run_hooks(repo, pre_commit_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "corsgen audit (CORS mistakes in nginx and Apache configs)" in result.stdout
    assert "Passed" in result.stdout

    # A hand-written header next to the snippet, without always: the hook fails.
    site.write_text(
        SITE.replace(
            "        proxy_pass",
            "        add_header Access-Control-Max-Age 86400;\n        proxy_pass",
        )
    )
    git(repo, "add", "--all")
    result = run_hooks(repo, pre_commit_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deploy/nginx/site.conf:5: error CORS102 cors-header-without-always" in result.stdout
    assert "deploy/nginx/site.conf:5: warning CORS108 max-age-above-browser-cap" in result.stdout
