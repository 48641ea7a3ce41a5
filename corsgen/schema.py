"""The JSON Schema of the policy file, as editors' YAML language servers use it."""

from __future__ import annotations

from typing import Any

from corsgen.policy import Policy


def policy_schema() -> dict[str, Any]:
    schema = Policy.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "corsgen policy file, version 1"
    # `name` defaults to the file's stem, so the file itself need not contain it.
    schema["required"] = [key for key in schema.get("required", []) if key != "name"]
    return schema
