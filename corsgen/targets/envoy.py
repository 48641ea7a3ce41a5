"""Envoy: HTTP filter entries, a virtual host's header settings and a local-reply mapper.

One YAML file, ``NAME.envoy.yaml``, with three top-level keys the operator merges into
the configuration they already have (docs/envoy.md, examples/envoy/):

- ``http_filters``: three filters placed first in the ``http_connection_manager``'s
  ``http_filters`` (before ``ext_authz``, ``jwt_authn``, ``basic_auth``): the first looks
  the Origin up (a hash map for exact origins, Envoy's matcher ``exact_match_map``) and
  records an allowed one in the request's filter state, the second decides what the
  edge does, the third answers preflights (204) and refused requests (403) itself.
  They are ``disabled`` by default and enabled per virtual host, so policies of other
  virtual hosts never run them.
- ``virtual_host``: ``typed_per_filter_config`` enabling those filters, and the response
  headers (read from the filter state, so a missing value adds no header): Envoy adds a
  virtual host's ``response_headers_to_add`` to the upstream's answers, to direct
  responses and to its own local replies (401 of an auth filter, 503), so every status
  carries them.
- ``local_reply_config``: one mapper, for the http_connection_manager, that empties the
  body of a 204 local reply (Envoy writes its text body even on a 204, which breaks the
  next response on a keep-alive connection).

Envoy's own CORS filter is not used: it answers preflights with 200, answers disallowed
preflights with the policy's methods and headers, and cannot reflect request headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from corsgen.origin_regex import Alternation, Concat, Group, Node, Repeat, parse
from corsgen.origins import OriginPattern
from corsgen.targets.common import (
    Common,
    anchored_regexes,
    common_values,
    dotted_prefix,
    exact_origins,
)
from corsgen.targets.target import EVERY_FEATURE, NAME, OutputFile, Target

if TYPE_CHECKING:
    from corsgen.policy import Policy

ENVOY_FILE = OutputFile(
    pattern=f"{NAME}.envoy.yaml",
    template="envoy.yaml.j2",
    part="envoy part",
    directive="merge",
    where=(
        "into the listener's http_connection_manager (http_filters first, before any auth "
        "filter; local_reply_config) and the API's virtual host (virtual_host)"
    ),
)

# Envoy refuses any RE2 regex whose program is larger than the runtime value
# re2.max_program_size.error_level (100 by default; server-wide, never set by corsgen) --
# but only where a regex is read as a RegexMatcher (route header matchers, the CORS
# filter). The matcher API's StringMatcher, which every regex here is, has no such
# limit: the policy's regexes load whatever their size (tests/test_envoy_config.py shows
# both on the real Envoy), and RE2's own bound on repetition (1000) is above the
# policy's (255) -- for one quantifier. RE2 also refuses nested counted repetition whose
# bounds multiply past 1000 ("invalid repetition size": (?:a{5}){201}), which Python and
# PCRE accept: such a regex is refused for this target (re2_repetition_problem).
RE2_MAX_REPEAT = 1000

# A label of a wildcard entry, as the spec defines it: one or more labels of [a-z0-9_-].
_SUBDOMAIN_REGEX = r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\."
_ANY_PORT_REGEX = r"(:[0-9]+)?"
_RE2_SPECIAL = {".": r"\.", "[": r"\[", "]": r"\]"}


def _escape(text: str) -> str:
    """A literal for RE2: the characters of schemes and hosts that a regex reads otherwise
    (host characters are [a-z0-9._-], IPv6 literals add [ ] :)."""
    return "".join(_RE2_SPECIAL.get(character, character) for character in text)


# The hosts of one wildcard regex, in characters: RE2 compiles a program of about one
# instruction per character within its default memory budget (8 MB, ~300 000
# instructions), and a regex of this size matches in well under a microsecond.
WILDCARD_REGEX_HOST_CHARACTERS = 20_000


def _wildcard_regex(shape: OriginPattern, hosts: list[str]) -> str:
    """One regex for wildcard entries of the same shape (scheme, subdomain and port part)
    and these hosts: an alternation, which RE2 matches in one pass whatever its length.
    ``https://*.example.org`` -> ``^https://[a-z0-9_-]+(\\.[a-z0-9_-]+)*\\.example\\.org$``."""
    escaped = [_escape(host) for host in hosts]
    host = escaped[0] if len(escaped) == 1 else "(?:" + "|".join(escaped) + ")"
    if shape.any_subdomain:
        host = _SUBDOMAIN_REGEX + host
    if shape.any_port:
        port = _ANY_PORT_REGEX
    elif shape.port is not None:
        port = f":{shape.port}"
    else:
        port = ""
    return f"^{_escape(shape.scheme)}://{host}{port}$"


def wildcard_regexes(patterns: list[OriginPattern]) -> list[str]:
    """The wildcard entries as few RE2 regexes: one per shape (``https://*.``, ``:*``, a
    port), split when its hosts grow past :data:`WILDCARD_REGEX_HOST_CHARACTERS`. The
    origin filter tries its regexes one after another; 1 000 entries of one shape are
    one regex, not 1 000."""
    groups: dict[tuple[str, bool, bool, int | None], list[OriginPattern]] = {}
    for origin in patterns:
        key = (origin.scheme, origin.any_subdomain, origin.any_port, origin.port)
        groups.setdefault(key, []).append(origin)
    regexes = []
    for members in groups.values():
        chunk: list[str] = []
        size = 0
        for origin in members:
            if chunk and size + len(origin.host) > WILDCARD_REGEX_HOST_CHARACTERS:
                regexes.append(_wildcard_regex(members[0], chunk))
                chunk, size = [], 0
            chunk.append(origin.host)
            size += len(origin.host)
        regexes.append(_wildcard_regex(members[0], chunk))
    return regexes


# The protobuf types the template names, by role.
TYPES = {
    "header_input": "type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput",
    "state_input": (
        "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.FilterStateInput"
    ),
    "set_state": "type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config",
    "execute": "type.googleapis.com/envoy.extensions.filters.http.composite.v3.ExecuteFilterAction",
}
# The fault filter's runtime keys: each is given a name nobody sets, so that a runtime
# value meant for another fault filter (fault.http.abort.abort_percent, ...) never
# changes these answers.
FAULT_RUNTIME_KEYS = (
    "abort_percent_runtime",
    "abort_http_status_runtime",
    "abort_grpc_status_runtime",
    "delay_percent_runtime",
    "delay_duration_runtime",
    "max_active_faults_runtime",
    "response_rate_limit_percent_runtime",
)
# Present and not empty (an empty Origin is no Origin); Envoy matches regexes whole.
_PRESENT = "{safe_regex: {google_re2: {}, regex: '.+'}}"


@dataclass(frozen=True)
class Condition:
    """One predicate of the kind filter: a request header or a filter-state key, matched."""

    name: str
    input_type: str
    input_field: str  # header_name or key
    input: str
    match: str  # a StringMatcher, in YAML flow style


@dataclass(frozen=True)
class Answer:
    """A matcher of the kind filter: when all conditions hold, these filter-state values."""

    name: str
    conditions: list[Condition]
    state: dict[str, str]  # key (after the prefix) -> format string


@dataclass(frozen=True)
class Header:
    name: str
    value: str
    append_action: str


@dataclass(frozen=True)
class EnvoyContext:
    common: Common
    prefix: str  # corsgen.<stem>: filter names and filter-state keys start with it
    anchor: str  # the YAML anchor of the origin filter's one action
    answer_headers_anchor: str  # the YAML anchor of the local-reply mappers' headers
    types: dict[str, str]
    exact_origins: list[str]
    origin_regexes: list[str]  # wildcard entries, then origin_regex entries, as RE2
    answers: list[Answer]
    otherwise: Answer | None  # the kind filter's on_no_match
    local_replies: dict[str, int]  # answer -> status
    filters: list[str]  # the filters' names after the prefix, in chain order
    headers: list[Header]
    answer_headers: list[Header]
    fault_runtime: str  # the prefix of the fault filter's runtime keys (never set)
    fault_runtime_keys: tuple[str, ...]


def _repeat_budget(node: Node, budget: int) -> int:
    """RE2's RepetitionWalker: each counted repetition divides the budget by its upper
    bound (its lower one when unbounded); a path that reaches 0 is too large."""
    if isinstance(node, Repeat):
        times = node.high if node.high is not None else node.low
        if times > 0:
            budget //= times
        return _repeat_budget(node.body, budget)
    if isinstance(node, Group):
        return _repeat_budget(node.body, budget)
    if isinstance(node, Concat):
        return min((_repeat_budget(item, budget) for item in node.items), default=budget)
    if isinstance(node, Alternation):
        return min((_repeat_budget(branch, budget) for branch in node.branches), default=budget)
    return budget


def re2_repetition_problem(regex: str) -> str | None:
    """Why RE2 (so Envoy) refuses ``regex``, an accepted origin_regex entry, or None."""
    if _repeat_budget(parse(regex), RE2_MAX_REPEAT) == 0:
        return (
            f"origin_regex entry {regex!r} nests counted repetitions whose bounds multiply "
            f"past {RE2_MAX_REPEAT}, which RE2, Envoy's regex engine, refuses ('invalid "
            "repetition size'); write it with smaller bounds for --target envoy"
        )
    return None


def envoy_limits(policy: Policy) -> list[str]:
    """The origin_regex entries Envoy's RE2 would refuse to load, one problem each."""
    problems = (re2_repetition_problem(regex) for regex in policy.origin_regex)
    return [f"policy {policy.name!r}: {problem}" for problem in problems if problem]


def origin_regexes(policy: Policy) -> list[str]:
    """Every regex the origin filter tries, in order: wildcard entries, then origin_regex."""
    patterns = [origin for origin in policy.origins if origin.kind == "pattern"]
    return wildcard_regexes(patterns) + anchored_regexes(policy)


def _header(name: str) -> Condition:
    return Condition(name, TYPES["header_input"], "header_name", name, _PRESENT)


def _conditions(policy: Policy, prefix: str, *, preflight: bool, allowed: bool) -> list[Condition]:
    conditions = []
    if preflight:
        conditions += [
            Condition(
                "method", TYPES["header_input"], "header_name", ":method", "{exact: OPTIONS}"
            ),
            _header("origin"),
            _header("access-control-request-method"),
        ]
    if allowed and not policy.allows_any_origin:
        conditions.append(
            Condition("allowed", TYPES["state_input"], "key", f"{prefix}.origin", _PRESENT)
        )
    if not preflight and not allowed:
        conditions.append(_header("origin"))
    return conditions


def _answers(policy: Policy, prefix: str, common: Common) -> tuple[list[Answer], Answer | None]:
    """The kind filter's matchers in order (the first that holds decides), and its default.

    The values are Envoy format strings, where "%" starts a command (%REQ(...)%): the
    policy's methods and header names never hold one (validation refuses "%" in them), so
    each formats to itself.
    """
    preflight_state = {
        "answer": "preflight",
        "allow_methods": common.allow_methods,
        # allow_headers "*": the request's Access-Control-Request-Headers, whose field lines
        # Envoy joins with "," when it reads the request (the spec's combined value).
        "allow_headers": (
            "%REQ(access-control-request-headers)%"
            if common.reflect_headers
            else common.allow_headers
        ),
        "max_age": str(common.max_age),
        "vary": _preflight_vary(policy, common),
        "answer_vary": common.preflight_vary,
    }
    answers = []
    preflight = _conditions(policy, prefix, preflight=True, allowed=True)
    if common.private_network:
        # Access-Control-Allow-Private-Network only when the preflight asks for it.
        asked = Condition(
            "private_network",
            TYPES["header_input"],
            "header_name",
            "access-control-request-private-network",
            "{exact: 'true'}",
        )
        answers.append(
            Answer(
                "preflight_private_network",
                [*preflight, asked],
                {**preflight_state, "allow_private_network": "true"},
            )
        )
    answers.append(Answer("preflight", preflight, preflight_state))
    if not policy.allows_any_origin:
        answers.append(
            Answer(
                "preflight_denied",
                _conditions(policy, prefix, preflight=True, allowed=False),
                {
                    "answer": "preflight_denied",
                    "vary": preflight_state["vary"],
                    "answer_vary": common.preflight_vary,
                },
            )
        )
    # Every other request of an allowed Origin is passed on; recording it here keeps the
    # blocked matcher below from ever seeing an allowed Origin.
    actual_state = {"answer": "pass"}
    if common.expose_headers:
        actual_state["expose_headers"] = common.expose_headers
    otherwise = None
    if policy.allows_any_origin:
        otherwise = Answer("pass", [], actual_state)
    else:
        answers.append(
            Answer("pass", _conditions(policy, prefix, preflight=False, allowed=True), actual_state)
        )
    if common.block_disallowed and not policy.allows_any_origin:
        # After the allowed matchers: an Origin that reaches this one is not allowed.
        # (Under origins "*" every Origin is allowed: nothing is blocked.)
        answers.append(
            Answer(
                "blocked",
                _conditions(policy, prefix, preflight=False, allowed=False),
                {"answer": "blocked", "answer_vary": "Origin"},
            )
        )
    return answers, otherwise


def _preflight_vary(policy: Policy, common: Common) -> str:
    """What a preflight answer adds to Vary: all of it under origins "*" (no other Vary is
    added there), else what it adds to the "Origin" every response gets."""
    if policy.allows_any_origin:
        return common.preflight_vary
    return common.preflight_vary.removeprefix("Origin, ")


def _headers(policy: Policy, prefix: str, common: Common, *, answers: bool) -> list[Header]:
    """The response headers of the virtual host, or (``answers``) of the local-reply mapper
    of the answer filter's 204 and 403."""

    def state(key: str) -> str:
        return f"%FILTER_STATE({prefix}.{key}:PLAIN)%"

    overwrite = "OVERWRITE_IF_EXISTS_OR_ADD"
    headers = [
        Header(
            "Access-Control-Allow-Origin",
            "*" if policy.allows_any_origin else state("origin"),
            overwrite,
        )
    ]
    if common.credentials:
        headers.append(Header("Access-Control-Allow-Credentials", state("credentials"), overwrite))
    if common.expose_headers:
        headers.append(Header("Access-Control-Expose-Headers", state("expose_headers"), overwrite))
    headers += [
        Header("Access-Control-Allow-Methods", state("allow_methods"), overwrite),
        Header("Access-Control-Allow-Headers", state("allow_headers"), overwrite),
        Header("Access-Control-Max-Age", state("max_age"), overwrite),
    ]
    if common.private_network:
        headers.append(
            Header(
                "Access-Control-Allow-Private-Network", state("allow_private_network"), overwrite
            )
        )
    # Vary: added as a field line of its own, which HTTP merges with the upstream's Vary
    # (Accept-Encoding stays).
    if answers:
        # On the answers of the answer filter, Vary is the whole value (nothing to merge).
        return [*headers, Header("Vary", state("answer_vary"), overwrite)]
    append = "APPEND_IF_EXISTS_OR_ADD"
    if not policy.allows_any_origin:
        headers.append(Header("Vary", "Origin", append))
    headers.append(Header("Vary", state("vary"), append))
    return headers


def envoy_context(policy: Policy) -> EnvoyContext:
    prefix = dotted_prefix(policy.name)
    common = common_values(policy)
    answers, otherwise = _answers(policy, prefix, common)
    local_replies = {"preflight": 204}
    if not policy.allows_any_origin:
        local_replies["preflight_denied"] = 403
    if common.block_disallowed and not policy.allows_any_origin:
        local_replies["blocked"] = 403
    filters = (["origin"] if not policy.allows_any_origin else []) + ["kind", "answer"]
    return EnvoyContext(
        common=common,
        prefix=prefix,
        anchor=prefix.replace(".", "_") + "_allowed",
        answer_headers_anchor=prefix.replace(".", "_") + "_answer_headers",
        types=TYPES,
        exact_origins=exact_origins(policy),
        origin_regexes=origin_regexes(policy),
        answers=answers,
        otherwise=otherwise,
        local_replies=local_replies,
        filters=filters,
        headers=_headers(policy, prefix, common, answers=False),
        answer_headers=_headers(policy, prefix, common, answers=True),
        fault_runtime=prefix + ".unset",
        fault_runtime_keys=FAULT_RUNTIME_KEYS,
    )


TARGET = Target(
    name="envoy",
    server="Envoy",
    version_floor="1.40",
    needs=(
        "envoy.filters.http.composite",
        "envoy.filters.http.set_filter_state",
        "envoy.filters.http.fault",
    ),
    files=(ENVOY_FILE,),
    expresses=EVERY_FEATURE,
    context=envoy_context,
    template_folder="envoy",
    limits=envoy_limits,
)
