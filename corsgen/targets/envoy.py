"""Envoy: one HTTP filter, a virtual host's header settings and local-reply mappers.

One YAML file, ``NAME.envoy.yaml``, with three top-level keys the operator merges into
the configuration they already have (docs/envoy.md, examples/envoy/):

- ``http_filters``: one composite filter placed first in the ``http_connection_manager``'s
  ``http_filters`` (before ``ext_authz``, ``jwt_authn``, ``basic_auth``). Its one matcher
  tree reads the method and the Origin (exact origins in a hash map, Envoy's matcher
  ``exact_match_map``; wildcards and ``origin_regex`` as RE2) and runs at most one filter
  per request: the fault filter's ``abort`` answers a preflight (204 for an allowed
  Origin, 403 for another) and, with ``block_disallowed_origins``, refuses other requests
  of a disallowed Origin (403); a ``header_mutation`` adds the policy's headers to the
  response of any other request of an allowed Origin, whoever answers it (the upstream,
  a direct response, an auth filter's 401, Envoy's own 503). A request of another Origin
  runs no filter at all.
- ``virtual_host``: ``response_headers_to_remove`` (the upstream's CORS headers) and
  ``Vary: Origin`` on every response.
- ``local_reply_config``: mappers that dress the filter's own answers (response flag
  ``FI``): the preflight headers, read from the request (``%REQ(origin)%``), and an empty
  body on the 204 (Envoy writes its text body even on a 204, which breaks the next
  response on a keep-alive connection).

Why one filter and no filter state: every filter of the chain costs each request of the
listener something, even when its matcher matches nothing, and a filter-state value costs
more to write and read than the header it becomes (docs/performance.md, Envoy).

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
    "execute": "type.googleapis.com/envoy.extensions.filters.http.composite.v3.ExecuteFilterAction",
    "header_mutation": (
        "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"
    ),
    "fault": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
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
OVERWRITE = "OVERWRITE_IF_EXISTS_OR_ADD"
APPEND = "APPEND_IF_EXISTS_OR_ADD"


@dataclass(frozen=True)
class Header:
    name: str
    value: str  # an Envoy format string: %REQ(origin)% is the request's Origin
    append_action: str


@dataclass(frozen=True)
class Answer:
    """One answer the edge gives itself: a local reply of the fault filter."""

    name: str
    status: int


@dataclass(frozen=True)
class Mapper:
    """A local-reply mapper that dresses one of the filter's answers: an answer of this
    status to a preflight (``preflight``) or to any request, and only when the preflight
    asks for Private Network Access (``private_network_asked``)."""

    status: int
    preflight: bool
    private_network_asked: bool
    empty_body: bool
    headers: list[Header]


@dataclass(frozen=True)
class EnvoyContext:
    common: Common
    prefix: str  # corsgen.<stem>: the filter's name, its actions' and runtime keys' start
    anchor: str  # the start of the YAML anchors of the actions every allowed origin shares
    types: dict[str, str]
    exact_origins: list[str]
    origin_regexes: list[str]  # wildcard entries, then origin_regex entries, as RE2
    preflight: Answer
    preflight_denied: Answer | None  # None under origins "*": every Origin is allowed
    blocked: Answer | None  # block_disallowed_origins
    allowed_headers: list[Header]  # added to every other response of an allowed Origin
    host_headers: list[Header]  # added by the virtual host to every response
    mappers: list[Mapper]
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


def _origin_headers(policy: Policy, common: Common) -> list[Header]:
    """What every answer to an allowed Origin starts with: ACAO (the request's own Origin,
    or "*"), and ACAC with credentials."""
    origin = "*" if policy.allows_any_origin else "%REQ(origin)%"
    headers = [Header("Access-Control-Allow-Origin", origin, OVERWRITE)]
    if common.credentials:
        headers.append(Header("Access-Control-Allow-Credentials", "true", OVERWRITE))
    return headers


def _allowed_headers(policy: Policy, common: Common) -> list[Header]:
    """What an allowed Origin's responses carry besides Vary (never on a preflight)."""
    headers = _origin_headers(policy, common)
    if common.expose_headers:
        headers.append(Header("Access-Control-Expose-Headers", common.expose_headers, OVERWRITE))
    return headers


def _preflight_headers(policy: Policy, common: Common, *, private_network: bool) -> list[Header]:
    """An allowed preflight's answer. The values are Envoy format strings, where "%"
    starts a command: the policy's methods and header names never hold one (validation
    refuses "%" in them), so each formats to itself; a header whose value formats empty
    (no Access-Control-Request-Headers to reflect) is not added."""
    # allow_headers "*": the request's Access-Control-Request-Headers, whose field lines
    # Envoy joins with "," when it reads the request (the spec's combined value).
    allow_headers = (
        "%REQ(access-control-request-headers)%" if common.reflect_headers else common.allow_headers
    )
    headers = [
        *_origin_headers(policy, common),
        Header("Access-Control-Allow-Methods", common.allow_methods, OVERWRITE),
        Header("Access-Control-Allow-Headers", allow_headers, OVERWRITE),
        Header("Access-Control-Max-Age", str(common.max_age), OVERWRITE),
    ]
    if private_network:
        headers.append(Header("Access-Control-Allow-Private-Network", "true", OVERWRITE))
    # The answer's whole Vary (a local reply has none to merge with).
    return [*headers, Header("Vary", common.preflight_vary, OVERWRITE)]


def _mappers(policy: Policy, common: Common) -> list[Mapper]:
    """The local-reply mappers, first match wins. A preflight (OPTIONS with Origin and
    Access-Control-Request-Method) never gets past the filter, which answers every one of
    them, 204 or 403: a fault-injected 204 to a preflight is the filter's allowed answer."""
    # With allow_private_network, a preflight that asks for it first (the mapper that adds
    # Access-Control-Allow-Private-Network), then every other.
    asked = (True, False) if common.private_network else (False,)
    preflight_answers = [
        Mapper(
            204,
            preflight=True,
            private_network_asked=private_network,
            empty_body=True,
            headers=_preflight_headers(policy, common, private_network=private_network),
        )
        for private_network in asked
    ]
    if policy.allows_any_origin:
        return preflight_answers
    # A denied preflight: no Access-Control-* header, the preflight's Vary.
    denied = Mapper(
        403,
        preflight=True,
        private_network_asked=False,
        empty_body=False,
        headers=[Header("Vary", common.preflight_vary, OVERWRITE)],
    )
    if not common.block_disallowed:
        return [*preflight_answers, denied]
    # A refused request of another kind (not a preflight: that mapper came first).
    blocked = Mapper(
        403,
        preflight=False,
        private_network_asked=False,
        empty_body=False,
        headers=[Header("Vary", "Origin", OVERWRITE)],
    )
    return [*preflight_answers, denied, blocked]


def envoy_context(policy: Policy) -> EnvoyContext:
    prefix = dotted_prefix(policy.name)
    common = common_values(policy)
    any_origin = policy.allows_any_origin
    # Vary: added as a field line of its own, which HTTP merges with the upstream's Vary
    # (Accept-Encoding stays). Under origins "*" no response varies by Origin.
    host_headers = [] if any_origin else [Header("Vary", "Origin", APPEND)]
    return EnvoyContext(
        common=common,
        prefix=prefix,
        anchor=prefix.replace(".", "_"),
        types=TYPES,
        exact_origins=exact_origins(policy),
        origin_regexes=origin_regexes(policy),
        preflight=Answer("preflight", 204),
        preflight_denied=None if any_origin else Answer("preflight_denied", 403),
        blocked=Answer("blocked", 403) if common.block_disallowed and not any_origin else None,
        allowed_headers=_allowed_headers(policy, common),
        host_headers=host_headers,
        mappers=_mappers(policy, common),
        fault_runtime=prefix + ".unset",
        fault_runtime_keys=FAULT_RUNTIME_KEYS,
    )


TARGET = Target(
    name="envoy",
    server="Envoy",
    version_floor="1.40",
    needs=(
        "envoy.filters.http.composite",
        "envoy.filters.http.header_mutation",
        "envoy.filters.http.fault",
    ),
    files=(ENVOY_FILE,),
    expresses=EVERY_FEATURE,
    context=envoy_context,
    template_folder="envoy",
    limits=envoy_limits,
)
