"""The published JSON Schema (schema/policy-v1.json) for editors, and the policies it describes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.load import load_file
from tests.conftest import POLICIES, REPO

SCHEMA_FILE = REPO / "schema" / "policy-v1.json"
EXAMPLE_POLICIES = sorted((REPO / "examples").glob("*.yaml"))
SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def published_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validator() -> jsonschema.protocols.Validator:
    schema = published_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_the_published_schema_is_what_corsgen_schema_prints():
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert SCHEMA_FILE.read_text(encoding="utf-8") == result.stdout, (
        f"{SCHEMA_FILE} is out of date; regenerate it with: corsgen schema > schema/policy-v1.json"
    )


def test_the_published_schema_is_a_draft_2020_12_schema():
    schema = published_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_example_policies_are_found():
    # Guards the parametrised tests below against an empty glob.
    assert "predict-api.yaml" in [path.name for path in EXAMPLE_POLICIES]


@pytest.mark.parametrize("policy_path", EXAMPLE_POLICIES, ids=lambda path: path.name)
def test_each_example_policy_points_editors_at_the_published_schema(policy_path: Path):
    first_line = policy_path.read_text(encoding="utf-8").splitlines()[0]
    match = SCHEMA_COMMENT.match(first_line)
    assert match, f"{policy_path} must start with # yaml-language-server: $schema=..."
    assert (policy_path.parent / match.group(1)).resolve() == SCHEMA_FILE


@pytest.mark.parametrize(
    "policy_path",
    EXAMPLE_POLICIES + sorted(POLICIES.glob("*.yaml")),
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_every_example_and_test_policy_is_valid_under_the_schema(policy_path: Path):
    # Read the way corsgen reads it (YAML 1.2 core), so `yes` stays a string, as it must.
    data = load_file(policy_path).data
    errors = [error.message for error in validator().iter_errors(data)]
    assert errors == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"allow_credential": True}, "Additional properties are not allowed"),
        ({"max_age": "600"}, "'600' is not of type 'integer'"),
        ({"max_age": 86401}, "86401 is greater than the maximum of 86400"),
        ({"version": 2}, "1 was expected"),
        ({"allow_credentials": "yes"}, "'yes' is not of type 'boolean'"),
        ({"origins": "https://app.example.com"}, "is not valid under any of the given schemas"),
    ],
)
def test_the_schema_flags_what_an_editor_should_flag(change, message):
    data = {"version": 1, "origins": ["https://app.example.com"], **change}
    errors = [error.message for error in validator().iter_errors(data)]
    assert len(errors) == 1
    assert message in errors[0]


def test_the_schema_does_not_require_name():
    # The name defaults to the file's stem, so a file without it is valid.
    data = {"version": 1, "origins": ["https://app.example.com"]}
    assert list(validator().iter_errors(data)) == []
