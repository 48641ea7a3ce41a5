"""The README's own examples work as written."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.policy import load_policy
from corsgen.render import render
from tests.conftest import REPO


def test_init_from_fastapi_translates_the_readmes_fastapi_snippet(tmp_path):
    readme = (REPO / "README.md").read_text()
    (snippet,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    main = tmp_path / "main.py"
    main.write_text(snippet)
    policy_path = tmp_path / "predict-api.yaml"
    result = CliRunner().invoke(app, ["init", "--from-fastapi", str(main), str(policy_path)])
    assert result.exit_code == 0, result.output
    policy = load_policy(policy_path)
    assert [origin.text for origin in policy.origins] == [
        "http://localhost.tiangolo.com",
        "https://localhost.tiangolo.com",
        "http://localhost",
        "http://localhost:8080",
    ]
    assert policy.allow_credentials is True
    assert policy.reflects_request_headers
    for target in ("nginx", "apache"):
        assert render(policy, target).files
