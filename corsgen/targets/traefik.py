"""Traefik: dynamic configuration for the file provider (YAML), routers and middlewares.

Traefik's ``headers`` middleware cannot carry a CORS policy on its own: it answers every
preflight itself with 200 (allowed origin or not, with ``Access-Control-Allow-Methods``
and the credentials flag either way), sets ``Access-Control-Allow-Credentials`` and
``-Expose-Headers`` on every response whatever the Origin, and reflects
``Access-Control-Request-Headers`` only with credentials and only its first line. What
Traefik *can* do conditionally is route: a router's rule sees the method and the
request headers. So the policy becomes routers over the operator's own rule, each sending
one kind of request to middlewares whose headers are fixed for that kind:

- ``corsgen-STEM-preflight`` (and ``-preflight-pn`` when private network access is
  asked): an allowed preflight, answered by ``noop@internal`` (Traefik's internal service,
  which answers 418) rewritten to 204 by an ``errors`` middleware, with the header set of
  the policy; never forwarded.
- ``corsgen-STEM-preflight-denied``: a preflight from an Origin not allowed, 403 the same
  way, with ``Vary`` only.
- ``corsgen-STEM-blocked`` (``block_disallowed_origins``): any other request from an
  Origin not allowed, 403.
- ``corsgen-STEM-allowed``: any other request from an allowed Origin, forwarded to the
  operator's service through the operator's middlewares, with ACAO/ACAC/ACEH.
- ``corsgen-STEM-other``: everything else the rule matches (no Origin, or one not allowed),
  forwarded the same way, with every upstream ``Access-Control-*`` header removed.

The operator gives their router's rule, service, entry points and middlewares as render
options; these routers replace their router (docs/traefik.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from corsgen.origins import OriginKind
from corsgen.targets.common import (
    CORS_RESPONSE_HEADERS,
    Common,
    anchored_regexes,
    common_values,
    exact_origins,
    name_stem,
    yaml_scalar,
)
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
    from corsgen.origins import OriginPattern
    from corsgen.policy import Policy

DYNAMIC_FILE = OutputFile(
    pattern=f"{NAME}.traefik.yml",
    template="dynamic.yml.j2",
    part="dynamic configuration",
    directive="put",
    where="in the directory of Traefik's file provider (providers.file.directory)",
)

# What a router rule without the operator's own matches: every request of the entry points.
DEFAULT_RULE = "PathPrefix(`/`)"
# A label of a wildcard host, as HAProxy's and the evaluator's wildcard matching read it.
LABEL = "[a-z0-9_-]+"
# Go's regexp.QuoteMeta: the characters that are special in an RE2 pattern.
_GO_SPECIAL = set("\\.+*?()|[]{}^$")

# The preflight answer's lists are fixed header values, written as the policy writes them.
_ACAO, _ACAC, ACAM, ACAH, _ACEH, ACMA, ACAPN = CORS_RESPONSE_HEADERS


# Every router and middleware name is corsgen-STEM plus one of these. Stems never hold "-"
# (name_stem), so a name splits one way only, and no two policies (or router-names) share
# a name, side by side in one Traefik (tests/test_names.py).
NAME_SUFFIXES = (
    "-preflight",
    "-preflight-pn",
    "-preflight-origin",
    "-private-network",
    "-preflight-denied",
    "-blocked",
    "-allowed",
    "-other",
    "-204",
    "-403",
)


def go_quote(text: str) -> str:
    """``text`` as an RE2 pattern matching exactly it (Go's regexp.QuoteMeta)."""
    return "".join("\\" + char if char in _GO_SPECIAL else char for char in text)


def wildcard_regexes(patterns: list[OriginPattern]) -> list[str]:
    """The wildcard entries as RE2 patterns: ``*.`` one or more labels of ``[a-z0-9_-]``,
    ``:*`` any digits or no port (spec section 4, Matching).

    Entries of one shape (scheme, ``*.`` or not, port) share one pattern whose hosts are
    a sorted alternation: Go's regexp factors the common prefixes of neighbouring
    alternatives, so a thousand entries match as one trie, not a thousand patterns.
    """
    shapes: dict[tuple[str, bool, bool, int | None], list[str]] = {}
    for origin in patterns:
        shape = (origin.scheme, origin.any_subdomain, origin.any_port, origin.port)
        shapes.setdefault(shape, []).append(go_quote(origin.host))
    regexes = []
    for (scheme, any_subdomain, any_port, port), hosts in sorted(
        shapes.items(), key=lambda item: repr(item[0])
    ):
        labels = f"{LABEL}(?:\\.{LABEL})*\\." if any_subdomain else ""
        port_part = f":{port}" if port is not None else ""
        if any_port:
            port_part = "(?::[0-9]+)?"
        alternation = "|".join(sorted(set(hosts)))
        regexes.append(f"{go_quote(scheme)}://{labels}(?:{alternation}){port_part}")
    return regexes


def allowed_regex(policy: Policy) -> str:
    """One anchored RE2 pattern that an Origin matches exactly when the policy allows it:
    exact origins as a sorted alternation (a trie once Go factors it), the wildcard
    shapes, then the origin_regex entries (already anchored)."""
    exact = sorted(go_quote(origin) for origin in exact_origins(policy))
    patterns = [origin for origin in policy.origins if origin.kind is OriginKind.PATTERN]
    alternatives = exact + wildcard_regexes(patterns) + anchored_regexes(policy)
    return "^(?:" + "|".join(alternatives) + ")$"


# Every string of the file is written as a yaml_scalar. Validation keeps out of every entry
# what Traefik reads specially in this file: "`" (which ends a string of a rule) and "{{"
# (the file provider runs each file through Go's text/template first): a policy that
# validates is written as it is.
@dataclass(frozen=True)
class Router:
    name: str
    rule: str  # a YAML scalar, as every string below
    service: str
    middlewares: list[str]
    priority: int


@dataclass(frozen=True)
class Headers:
    """One ``headers`` middleware: what it does to the request and to the response."""

    name: str
    remove_request: list[str] = field(default_factory=list)
    # header -> value; "" deletes it. Traefik applies these before the CORS fields below.
    response: dict[str, str] = field(default_factory=dict)
    # The CORS fields: ACAO is set to the first Origin line when it is in the list or
    # matches a regex (or to "*" for the list ["*"]); ACAC and ACEH whenever given.
    origin_list: list[str] = field(default_factory=list)
    origin_regex: list[str] = field(default_factory=list)
    credentials: bool = False
    expose: list[str] = field(default_factory=list)
    merge_vary: bool = False  # addVaryHeader: Origin merged into the upstream's Vary


@dataclass(frozen=True)
class TraefikContext:
    common: Common
    routers: list[Router]
    entry_points: list[str]  # empty: every entry point (Traefik's default)
    headers: list[Headers]
    # errors middlewares: name -> the status that noop@internal's 418 becomes.
    status_rewrites: dict[str, int]
    noop_service: str
    notes: list[str]  # for the operator, on stderr: the defaults taken


def _rule_call(matcher: str, *arguments: str) -> str:
    # Traefik reads backquoted strings raw: a regex keeps its backslashes as written.
    return f"{matcher}(" + ", ".join(f"`{argument}`" for argument in arguments) + ")"


def traefik_context(policy: Policy, options: RenderOptions) -> TraefikContext:
    c = common_values(policy)
    # Every name starts with corsgen-STEM and goes on with "-" suffixes; stems never hold
    # "-", so the names of one policy (or router-name) never equal another's.
    prefix = "corsgen-" + name_stem(first_option(options, "router-name", policy.name))
    rule = first_option(options, "rule", DEFAULT_RULE)
    service = first_option(options, "service", policy.name)
    # The operator's routers keep their priority (Traefik's default is the rule's length);
    # corsgen's special routers sit one above it, so a more specific router of the
    # operator's (a longer rule) still wins over all of them.
    base_priority = int(first_option(options, "priority", str(len(rule))))
    special = base_priority + 1
    operator_middlewares = [yaml_scalar(m) for m in options.get("middleware", ())]

    origin_sent = _rule_call("HeaderRegexp", "Origin", ".")
    preflight = (
        f"{_rule_call('Method', 'OPTIONS')} && {origin_sent} && "
        f"{_rule_call('HeaderRegexp', 'Access-Control-Request-Method', '.')}"
    )
    # Decided once, by the routers; the headers middlewares match the same pattern against
    # the first Origin line (one regex: faster than their list, compared one by one).
    allowed_pattern = allowed_regex(policy)
    allowed = _rule_call("HeaderRegexp", "Origin", allowed_pattern)
    asks_private_network = _rule_call("Header", "Access-Control-Request-Private-Network", "true")

    def scoped(condition: str) -> str:
        return yaml_scalar(f"({rule}) && {condition}")

    def name(suffix: str) -> str:
        assert suffix in NAME_SUFFIXES, suffix
        return prefix + suffix

    if c.any_origin:
        origin_list, origin_regex = [yaml_scalar("*")], []
    else:
        origin_list, origin_regex = [], [yaml_scalar(allowed_pattern)]
    strip_upstream = {header: yaml_scalar("") for header in CORS_RESPONSE_HEADERS}
    expose = [yaml_scalar(header) for header in policy.expose_headers]
    noop = yaml_scalar("noop@internal")
    upstream = yaml_scalar(service)
    routers: list[Router] = []
    headers: list[Headers] = []
    rewrites: dict[str, int] = {}

    # Allowed preflights: noop@internal's 418 rewritten to 204 by an errors middleware,
    # which drops the headers set inside it: every header is set by middlewares outside
    # it. The one that echoes the Origin must not see a preflight (it would answer 200
    # itself, with the policy's lists whatever the Origin): the first middleware removes
    # Access-Control-Request-Method from the request once routing has read it.
    answer, echo, to_204 = name("-preflight"), name("-preflight-origin"), name("-204")
    preflight_headers = {ACAM: c.allow_methods, ACMA: str(c.max_age), "Vary": c.preflight_vary}
    if c.allow_headers:
        preflight_headers[ACAH] = c.allow_headers
    headers.append(
        Headers(
            answer,
            remove_request=["Access-Control-Request-Method"],
            response={k: yaml_scalar(v) for k, v in preflight_headers.items()},
        )
    )
    headers.append(
        Headers(echo, origin_list=origin_list, origin_regex=origin_regex, credentials=c.credentials)
    )
    rewrites[to_204] = 204
    preflight_chain = [yaml_scalar(answer), yaml_scalar(echo), yaml_scalar(to_204)]
    allowed_preflight = preflight if c.any_origin else f"{preflight} && {allowed}"
    if c.private_network:
        # Asked for private network access: the same answer plus ACAPN, one priority up.
        private = name("-private-network")
        headers.append(Headers(private, response={ACAPN: yaml_scalar("true")}))
        routers.append(
            Router(
                name("-preflight-pn"),
                scoped(f"{allowed_preflight} && {asks_private_network}"),
                noop,
                [yaml_scalar(private), *preflight_chain],
                special + 1,
            )
        )
    routers.append(Router(answer, scoped(allowed_preflight), noop, preflight_chain, special))
    if not c.any_origin:
        denied, to_403 = name("-preflight-denied"), name("-403")
        headers.append(Headers(denied, response={"Vary": yaml_scalar(c.preflight_vary)}))
        rewrites[to_403] = 403
        routers.append(
            Router(
                denied,
                scoped(f"{preflight} && !{allowed}"),
                noop,
                [yaml_scalar(denied), yaml_scalar(to_403)],
                special,
            )
        )
        if c.block_disallowed:
            blocked = name("-blocked")
            headers.append(Headers(blocked, response={"Vary": yaml_scalar("Origin")}))
            routers.append(
                Router(
                    blocked,
                    scoped(f"!({preflight}) && {origin_sent} && !{allowed}"),
                    noop,
                    [yaml_scalar(blocked), yaml_scalar(to_403)],
                    special,
                )
            )
        # Other requests from an allowed Origin: forwarded, the upstream's CORS headers
        # removed, ACAO from the first Origin line, ACAC and ACEH as the policy says.
        allowed_actual = name("-allowed")
        headers.append(
            Headers(
                allowed_actual,
                response=strip_upstream,
                origin_list=origin_list,
                origin_regex=origin_regex,
                credentials=c.credentials,
                expose=expose,
                merge_vary=True,
            )
        )
        routers.append(
            Router(
                allowed_actual,
                scoped(f"!({preflight}) && {allowed}"),
                upstream,
                [yaml_scalar(allowed_actual), *operator_middlewares],
                special,
            )
        )
    # Everything else the rule matches (no Origin, one not allowed, OPTIONS that is no
    # preflight): forwarded without any Access-Control-* header, Vary merged; under
    # origins "*" every response carries ACAO "*" (and ACEH), Origin or not.
    main = name("-other")
    if c.any_origin:
        headers.append(
            Headers(main, response=strip_upstream, origin_list=origin_list, expose=expose)
        )
    else:
        headers.append(Headers(main, response=strip_upstream, merge_vary=True))
    routers.append(
        Router(
            main,
            yaml_scalar(rule),
            upstream,
            [yaml_scalar(main), *operator_middlewares],
            base_priority,
        )
    )
    return TraefikContext(
        common=c,
        routers=routers,
        entry_points=[yaml_scalar(entry) for entry in options.get("entrypoint", ())],
        headers=headers,
        status_rewrites=rewrites,
        noop_service=noop,
        notes=[
            f"traefik: no --option {option}: {meaning}"
            for option, meaning in (
                ("rule", f"the routers match every request ({DEFAULT_RULE})"),
                ("service", f"forwarded requests go to the service {service!r}"),
            )
            if option not in options
        ],
    )


# --- render options: the operator's router, which corsgen's routers replace -----------------

_NAME_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(@[A-Za-z0-9_-]+)?")
_ENTRY_POINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _rule_problem(value: str) -> str | None:
    """A rule is placed inside ``( ... ) && ...``: it must not close that parenthesis."""
    if not value.strip() or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return "a Traefik rule on one line, e.g. Host(`api.example.com`)"
    depth, quote = 0, ""
    for char in value:
        if quote:
            quote = "" if char == quote else quote
        elif char in '`"':
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return "a ')' closes a parenthesis the rule did not open"
    if quote or depth:
        return "the rule leaves a string or a parenthesis open"
    return None


def _pattern_problem(pattern: re.Pattern[str], what: str) -> Callable[[str], str | None]:
    def problem(value: str) -> str | None:
        return None if pattern.fullmatch(value) else what

    return problem


def _priority_problem(value: str) -> str | None:
    if value.isdigit() and 0 < int(value) < 2**62:
        return None
    return "the priority of your router, a positive whole number"


_ROUTER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")

OPTIONS = (
    RenderOption(
        "router-name",
        "what the names of the routers and middlewares are made from, written as a policy "
        "name (default: the policy's name); one per router when a policy serves several",
        problem=_pattern_problem(_ROUTER_NAME, "a name like a policy's, [a-z][a-z0-9_-]{0,62}"),
    ),
    RenderOption(
        "rule",
        "your router's rule; every router corsgen writes matches it "
        f"(default: {DEFAULT_RULE}, every request)",
        problem=_rule_problem,
    ),
    RenderOption(
        "service",
        "the service your router forwards to, NAME or NAME@PROVIDER (default: the policy's name)",
        problem=_pattern_problem(_NAME_REFERENCE, "a Traefik service name, NAME or NAME@PROVIDER"),
    ),
    RenderOption(
        "entrypoint",
        "an entry point of your router (default: every entry point, as Traefik does)",
        repeatable=True,
        problem=_pattern_problem(_ENTRY_POINT, "an entry point name"),
    ),
    RenderOption(
        "middleware",
        "a middleware of your router (authentication, ...), run after corsgen's on the "
        "requests that are forwarded, in the order given",
        repeatable=True,
        problem=_pattern_problem(
            _NAME_REFERENCE, "a Traefik middleware name, NAME or NAME@PROVIDER"
        ),
    ),
    RenderOption(
        "priority",
        "your router's priority, if you set one (default: the rule's length, as Traefik does)",
        problem=_priority_problem,
    ),
)

REASONS = {
    'allow_headers: "*"': (
        "Traefik reflects Access-Control-Request-Headers only in the preflight answer its "
        "headers middleware gives itself (status 200, not 204; only with credentials; only "
        "the first field line), and no other Traefik feature copies a request header into "
        "a response; list the headers instead"
    ),
}


def traefik_notes(policy: Policy, context: TraefikContext) -> list[str]:
    return context.notes


TARGET = Target(
    name="traefik",
    server="Traefik",
    version_floor="3.7",
    needs=(),
    files=(DYNAMIC_FILE,),
    expresses=EVERY_FEATURE - set(REASONS),
    context=traefik_context,
    template_folder="traefik",
    notes=traefik_notes,
    reasons=REASONS,
    options=OPTIONS,
)
