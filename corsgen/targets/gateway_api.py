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

With ``--option`` (route-name, namespace, parent-ref, hostname, backend, path-prefix) the
target writes a complete ``HTTPRoute`` instead, ``NAME.httproute.yaml``, ready for
``kubectl apply``: one rule holding the same filter and the backends. Its own fields are
checked against the HTTPRoute v1 schema's facts as the options are read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corsgen.targets.common import yaml_scalar
from corsgen.targets.target import (
    EVERY_FEATURE,
    NAME,
    OutputFile,
    RenderOption,
    RenderOptions,
    Target,
    first_option,
)

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

ROUTE_FILE = OutputFile(
    pattern=f"{NAME}.httproute.yaml",
    template="httproute.yaml.j2",
    part="HTTPRoute",
    directive="apply",
    where="with kubectl apply -f (the complete route: CORS filter and backends)",
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
    route: Route | None  # with options: the complete HTTPRoute's own fields


def gateway_api_context(policy: Policy, options: RenderOptions) -> GatewayApiContext:
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
        route=route(policy, options) if options else None,
    )


# --- the complete route: its options and their values, checked as the schema would ---------------

# The HTTPRoute v1 schema's facts for the fields the route holds (gateway-api v1.5.1,
# config/crd/standard/gateway.networking.k8s.io_httproutes.yaml).
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
HOSTNAME = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
HOSTNAME_MAX_LENGTH = 253
MAX_PARENT_REFS = 32
MAX_HOSTNAMES = 16
MAX_BACKEND_REFS = 16
PATH_MAX_LENGTH = 1024
# The options that make a route; without any, the target writes the bare filter entry.
REQUIRED_FOR_ROUTE = ("parent-ref", "backend")


def _dns_label_problem(value: str) -> str | None:
    if DNS_LABEL.fullmatch(value):
        return None
    return "not a DNS label (lower-case letters, digits and '-', at most 63, no '-' at an end)"


def _parent_ref_problem(value: str) -> str | None:
    namespace, slash, name = value.rpartition("/")
    for part in (namespace, name) if slash else (name,):
        if _dns_label_problem(part):
            return (
                f"write the Gateway as NAMESPACE/NAME or NAME, each a DNS label ({part!r} is not)"
            )
    return None


def _hostname_problem(value: str) -> str | None:
    if len(value) <= HOSTNAME_MAX_LENGTH and HOSTNAME.fullmatch(value):
        return None
    return (
        "not an RFC 1123 host name (lower-case, optionally starting with '*.', no port, "
        f"at most {HOSTNAME_MAX_LENGTH} characters)"
    )


def _backend_problem(value: str) -> str | None:
    name, colon, port = value.rpartition(":")
    if not colon or _dns_label_problem(name):
        return "write the Service as NAME:PORT, NAME a DNS label (shop-api:8080)"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return f"the port {port!r} is not a number from 1 to 65535"
    return None


def _path_prefix_problem(value: str) -> str | None:
    if value.startswith("/") and len(value) <= PATH_MAX_LENGTH and "//" not in value:
        return None
    return f"a path starting with '/', without '//', at most {PATH_MAX_LENGTH} characters"


OPTIONS = (
    RenderOption(
        "route-name",
        "metadata.name of the HTTPRoute (default: the policy's name)",
        problem=_dns_label_problem,
    ),
    RenderOption("namespace", "metadata.namespace of the HTTPRoute", problem=_dns_label_problem),
    RenderOption(
        "parent-ref",
        "a Gateway the route attaches to, NAMESPACE/NAME or NAME (required for a route)",
        repeatable=True,
        problem=_parent_ref_problem,
    ),
    RenderOption(
        "hostname",
        "a host name the route serves, *. allowed (default: the Gateway's listeners')",
        repeatable=True,
        problem=_hostname_problem,
    ),
    RenderOption(
        "backend",
        "a Service the rule routes to, NAME:PORT (required for a route)",
        repeatable=True,
        problem=_backend_problem,
    ),
    RenderOption(
        "path-prefix",
        "the rule's PathPrefix match (default: /, every path)",
        problem=_path_prefix_problem,
    ),
)


def route_option_rules(options: RenderOptions, policies: list[Policy]) -> list[str]:
    """What the options must say together, once each value is valid on its own."""
    if not options:
        return []
    problems = [
        f"--target gateway-api writes a complete HTTPRoute only with --option {name}=...; "
        "without options it writes the filter entry"
        for name in REQUIRED_FOR_ROUTE
        if name not in options
    ]
    for name, most in (
        ("parent-ref", MAX_PARENT_REFS),
        ("hostname", MAX_HOSTNAMES),
        ("backend", MAX_BACKEND_REFS),
    ):
        if len(options.get(name, ())) > most:
            problems.append(f"--option {name} is given {len(options[name])} times; at most {most}")
        if len(set(options.get(name, ()))) < len(options.get(name, ())):
            problems.append(f"--option {name} repeats a value")
    if "route-name" in options and len(policies) > 1:
        # Two routes of one name would replace each other in the cluster.
        problems.append(
            f"--option route-name names one route, but {len(policies)} policies are rendered; "
            "render one policy per route, or leave route-name out (each route is named "
            "after its policy)"
        )
    elif "route-name" not in options:
        problems += [
            f"policy {policy.name!r}: its name is not a DNS label, so it cannot name the "
            "HTTPRoute; give --option route-name=..."
            for policy in policies
            if _dns_label_problem(policy.name)
        ]
    return problems


@dataclass(frozen=True)
class ParentRef:
    name: str
    namespace: str | None


@dataclass(frozen=True)
class BackendRef:
    name: str
    port: int


@dataclass(frozen=True)
class Route:
    """The route's own fields, as YAML scalars where they are strings."""

    name: str
    namespace: str | None
    parent_refs: list[ParentRef]
    hostnames: list[str]
    path_prefix: str
    backend_refs: list[BackendRef]


def route(policy: Policy, options: RenderOptions) -> Route:
    """The route's fields from options that route_option_rules has already accepted."""
    namespace = first_option(options, "namespace", "")
    parents = [value.rpartition("/") for value in options["parent-ref"]]
    backends = [value.rpartition(":") for value in options["backend"]]
    return Route(
        name=yaml_scalar(first_option(options, "route-name", policy.name)),
        namespace=yaml_scalar(namespace) if namespace else None,
        parent_refs=[
            ParentRef(yaml_scalar(name), yaml_scalar(space) if space else None)
            for space, _, name in parents
        ],
        hostnames=[yaml_scalar(host) for host in options.get("hostname", ())],
        path_prefix=yaml_scalar(first_option(options, "path-prefix", "/")),
        backend_refs=[BackendRef(yaml_scalar(name), int(port)) for name, _, port in backends],
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
    options=OPTIONS,
    option_rules=route_option_rules,
    files_with_options=(ROUTE_FILE,),
)
