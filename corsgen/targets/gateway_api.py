"""Gateway API: the policy as the ``CORS`` filter of a Kubernetes ``HTTPRoute`` rule.

The output is one YAML file holding a ``filters:`` list with the one ``type: CORS`` entry
(Gateway API v1.5, standard channel, ``gateway.networking.k8s.io/v1``); the operator pastes
it under ``filters:`` of each rule of the ``HTTPRoute`` that routes the API
(docs/kubernetes.md shows a complete route). The filter is checked against the schema's
own facts — field limits, patterns and the CEL rules, vendored in
``gateway_api_cors_filter.schema.json`` — before anything is written: a route the API
server would reject is refused here, naming the policy key.

What the filter cannot say (``origin_regex``, port wildcards, app schemes, ``"null"``,
``block_disallowed_origins``, ``allow_private_network``) is refused through the capability
table, never dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corsgen.targets.target import EVERY_FEATURE, NAME, OutputFile, Target

if TYPE_CHECKING:
    from corsgen.policy import Policy

SCHEMA_PATH = Path(__file__).with_name("gateway_api_cors_filter.schema.json")
GATEWAY_API_VERSION = "v1.5"
# The filter's fields and the policy keys they come from, in the order they are written.
FIELDS = {
    "allowOrigins": "origins",
    "allowCredentials": "allow_credentials",
    "allowMethods": "allow_methods",
    "allowHeaders": "allow_headers",
    "exposeHeaders": "expose_headers",
    "maxAge": "max_age",
}
# Without maxAge the filter answers Access-Control-Max-Age: 5 (the schema's default).
SCHEMA_DEFAULT_MAX_AGE = 5

FILTER_FILE = OutputFile(
    pattern=f"{NAME}.cors-filter.yaml",
    template="cors-filter.yaml.j2",
    part="HTTPRoute CORS filter",
    directive="paste",
    where="under filters: of each HTTPRoute rule that routes the API",
)

REASONS = {
    "origins: http://host:*": "allowOrigins has no port wildcard (list each port)",
    "origins: app schemes": "allowOrigins takes http and https origins only",
    'origins: "null"': "allowOrigins cannot name the null origin",
    "origin_regex": "the filter matches exact origins and *. wildcards only",
    "allow_private_network": "the filter has no Private Network Access field",
    "block_disallowed_origins": "the filter never turns a request away; "
    "requests from other origins reach the backend",
}
# What to do when a value breaks one of the schema's limits, by policy key.
FIXES = {
    "origins": "allowOrigins takes http(s)://host[:port] with a DNS name or IPv4 address "
    "(no IPv6 literal, no '_'), at most 64 entries",
    "allow_methods": "allowMethods takes at most 9 of GET HEAD POST PUT DELETE CONNECT "
    "OPTIONS TRACE PATCH, upper-case",
    "allow_headers": "allowHeaders takes at most 64 header names",
    "expose_headers": "exposeHeaders takes at most 64 header names",
    "max_age": "maxAge is at least 1: set max_age to 1 or more",
}

# --- the schema's facts ------------------------------------------------------------------------

# The CEL rules (x-kubernetes-validations) of the vendored schema, as Python: CEL cannot be
# evaluated here, so each rule's text maps to a check that says the same. A rule the schema
# holds and this table does not is an error (tests/test_gateway_api.py).
CEL_RULES: dict[str, Callable[[Any], bool]] = {
    "!('*' in self && self.size() > 1)": lambda items: not ("*" in items and len(items) > 1),
    "!(has(self.cors) && self.type != 'CORS')": lambda entry: (
        not ("cors" in entry and entry.get("type") != "CORS")
    ),
    "!(!has(self.cors) && self.type == 'CORS')": lambda entry: (
        not ("cors" not in entry and entry.get("type") == "CORS")
    ),
    "self.filter(f, f.type == 'CORS').size() <= 1": lambda entries: (
        sum(1 for entry in entries if isinstance(entry, dict) and entry.get("type") == "CORS") <= 1
    ),
}
_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
}


@cache
def filter_schema() -> dict[str, Any]:
    """The vendored schema of an HTTPRoute rule's ``filters`` list, trimmed to CORS."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def schema_problems(value: Any, schema: dict[str, Any] | None = None, where: str = "") -> list[str]:
    """Where ``value`` (a ``filters`` list) breaks the schema, one line per problem.

    Covers the keywords the vendored schema uses, and its CEL rules; a field the schema
    does not know is a problem too (the API server would drop it without a word).
    """
    if schema is None:
        schema = filter_schema()
        where = "filters"
    kind = schema.get("type")
    if kind is not None and not _JSON_TYPES[kind](value):
        return [f"{where} must be of type {kind}, not {value!r}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where} {value!r} is not one of {', '.join(schema['enum'])}")
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{where} {value} is below the minimum {schema['minimum']}")
    if isinstance(value, str):
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            problems.append(
                f"{where} {value!r} is not {schema.get('minLength', 0)} to "
                f"{schema['maxLength']} characters long"
            )
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where} {value!r} does not match the schema's pattern")
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{where} has {len(value)} entries; at most {schema['maxItems']}")
        if schema.get("x-kubernetes-list-type") == "set" and len(set(map(str, value))) < len(value):
            problems.append(f"{where} repeats an entry (it is a set)")
        for index, item in enumerate(value):
            problems += schema_problems(item, schema["items"], f"{where}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        problems += [
            f"{where}.{key} is required" for key in schema.get("required", ()) if key not in value
        ]
        for key, item in value.items():
            if key in properties:
                problems += schema_problems(item, properties[key], f"{where}.{key}")
            else:
                problems.append(f"{where}.{key} is not a field of the {GATEWAY_API_VERSION} schema")
    for validation in schema.get("x-kubernetes-validations", ()):
        if not CEL_RULES[validation["rule"]](value):
            problems.append(f"{where}: {validation['message']}")
    return problems


# --- the policy as a filter -----------------------------------------------------------------------


def _expressible_origins(policy: Policy) -> list[str]:
    # What the capability table refuses ("null", app schemes, port wildcards) is left out
    # here: the refusal names it, so it never reaches a rendered file.
    return [
        origin.text
        for origin in policy.origins
        if origin.text != "null" and origin.scheme in ("", "http", "https") and not origin.any_port
    ]


def cors_filter(policy: Policy) -> dict[str, Any]:
    """The ``filters`` entry as data: ``{"type": "CORS", "cors": {...}}``.

    ``maxAge`` is always written (the filter's default is 5 s, corsgen's 600 s), and so
    is ``allowCredentials``, so that a reviewer reads the decision. Empty header lists
    are left out, as an empty list says nothing more.
    """
    cors: dict[str, Any] = {
        "allowOrigins": _expressible_origins(policy),
        "allowCredentials": policy.allow_credentials,
        "allowMethods": list(policy.allow_methods),
        "allowHeaders": list(policy.allow_headers),
        "exposeHeaders": list(policy.expose_headers),
        "maxAge": policy.max_age,
    }
    return {"type": "CORS", "cors": {key: value for key, value in cors.items() if value != []}}


def gateway_api_limits(policy: Policy) -> list[str]:
    """The schema's limits the policy's values break, one problem per value and key."""
    problems = []
    for problem in schema_problems([cors_filter(policy)]):
        field = re.search(r"\.cors\.(\w+)", problem)
        key = FIELDS[field.group(1)] if field else "the policy"
        problems.append(
            f"policy {policy.name!r}: {key} cannot be expressed by --target gateway-api: "
            f"{problem.removeprefix('filters[0].')} (HTTPRoute {GATEWAY_API_VERSION} schema; "
            f"{FIXES.get(key, 'see docs/kubernetes.md')})"
        )
    return problems


@dataclass(frozen=True)
class GatewayApiContext:
    """The filter's fields as YAML scalars (JSON strings are YAML double-quoted scalars)."""

    gateway_api_version: str
    allow_origins: list[str]
    allow_credentials: str
    allow_methods: list[str]
    allow_headers: list[str]
    expose_headers: list[str]
    max_age: int
    schema_default_max_age: int


def yaml_scalar(value: str) -> str:
    """One quoting rule for every string the file holds: a JSON string is valid YAML."""
    return json.dumps(value)


def gateway_api_context(policy: Policy) -> GatewayApiContext:
    cors = cors_filter(policy)["cors"]
    return GatewayApiContext(
        gateway_api_version=GATEWAY_API_VERSION,
        allow_origins=[yaml_scalar(origin) for origin in cors["allowOrigins"]],
        allow_credentials="true" if cors["allowCredentials"] else "false",
        allow_methods=[yaml_scalar(method) for method in cors["allowMethods"]],
        allow_headers=[yaml_scalar(header) for header in cors.get("allowHeaders", [])],
        expose_headers=[yaml_scalar(header) for header in cors.get("exposeHeaders", [])],
        max_age=cors["maxAge"],
        schema_default_max_age=SCHEMA_DEFAULT_MAX_AGE,
    )


def gateway_api_notes(policy: Policy, context: GatewayApiContext) -> list[str]:
    """Where a Gateway API implementation may answer differently from spec section 2."""
    notes = [
        f"gateway-api ({policy.name}): maxAge {policy.max_age} is always written: without it "
        f"the filter answers Access-Control-Max-Age: {SCHEMA_DEFAULT_MAX_AGE}"
    ]
    if not policy.allows_any_origin:
        notes.append(
            f"gateway-api ({policy.name}): a preflight from an origin that is not allowed is "
            "answered by the implementation, with 200/204 and no CORS headers or with 403 "
            "(corsgen's edges: 403); browsers refuse it either way"
        )
    if policy.reflects_request_headers and not policy.allow_credentials:
        notes.append(
            f"gateway-api ({policy.name}): allowHeaders '*' without credentials may be "
            "answered with Access-Control-Allow-Headers: *, which browsers do not apply to "
            "Authorization; list the headers if pages send Authorization"
        )
    return notes


TARGET = Target(
    name="gateway-api",
    server="Gateway API HTTPRoute",
    version_floor=GATEWAY_API_VERSION.removeprefix("v"),
    needs=(),
    files=(FILTER_FILE,),
    expresses=EVERY_FEATURE - set(REASONS),
    context=gateway_api_context,
    template_folder="gateway-api",
    notes=gateway_api_notes,
    reasons=REASONS,
    limits=gateway_api_limits,
)
