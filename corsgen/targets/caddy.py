"""Caddy: a Caddyfile snippet the operator ``import``s into the block that serves the API.

``NAME.caddy`` holds named matchers, ``map``, ``vars``, ``header`` and a ``route`` of
``respond`` lines. Imported at the top of the site block (or of the ``handle`` block that
proxies the API), it answers preflights at the edge and puts the policy's headers on every
response, Caddy's own errors included: ``header`` without ``defer`` writes into the
response before the next handler runs, and Caddy keeps those fields when ``basic_auth``
(401) or ``reverse_proxy`` (502) fails; ``header`` with ``defer`` then replaces what the
upstream sent, so every ``Access-Control-*`` field appears at most once.

Caddy sorts the directives of a block by its directive order, and ``basic_auth`` /
``forward_auth`` come before ``route`` and ``respond``: where the API authenticates, the
operator writes the authentication and the handlers inside a ``route`` after the import
(docs/caddy.md), so preflights are answered first. No global option is needed.

The allow-list is one CEL ``expression`` (Caddy's ``in`` on a constant list is a hash set
lookup after CEL's constant optimisation, where ``map`` and the ``header`` matcher compare
entry by entry), evaluated once per request into a variable; every other decision is a
native matcher on that variable, another, and the request's headers. Wildcard entries are
matched by rewriting the Origin into the entry's form with a ``map`` regex
(``https://a.b.example.org`` -> ``https://*.example.org``) and looking that key up, one
lookup per form, however many wildcard entries there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from corsgen.targets.common import (
    Common,
    anchored_regexes,
    common_values,
    dotted_prefix,
    exact_origins,
    wildcard_groups,
)
from corsgen.targets.target import EVERY_FEATURE, NAME, OutputFile, Target

if TYPE_CHECKING:
    from corsgen.policy import Policy

SNIPPET_FILE = OutputFile(
    pattern=f"{NAME}.caddy",
    template="snippet.caddy.j2",
    part="Caddy part",
    directive="import",
    where=(
        "at the top of the site (or handle) block that serves the API; "
        "authentication after it, inside route { }"
    ),
)

# The request's Origin as Caddy reads it (repeated field lines joined with ",").
ORIGIN = "{http.request.header.Origin}"
REQUEST_METHOD = "{http.request.header.Access-Control-Request-Method}"
# Repeated Access-Control-Request-Headers lines joined with "," (a proxy may split one).
REQUEST_HEADERS = "{http.request.header.Access-Control-Request-Headers}"
PRIVATE_NETWORK = "{http.request.header.Access-Control-Request-Private-Network}"

# An Origin rewritten into the form a wildcard entry is written in; only Origins made of
# scheme, DNS name or IP literal and port are rewritten, so a key never holds a "*" that
# the Origin brought itself. Go's regexp (RE2) is leftmost-first like PCRE: the greedy
# label group leaves exactly the entry's {labels} labels to the group behind it.
_HOST = r"([a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])"
ANY_PORT_REGEX = rf"^(https?://{_HOST})(:[0-9]+)?$"
ANY_PORT_KEY = "${1}:*"
SUBDOMAIN_REGEX = r"^(https?://)[a-z0-9_-]+(\.[a-z0-9_-]+)*((\.[a-z0-9_-]+){{{labels}}}(:[0-9]+)?)$"
SUBDOMAIN_KEY = "${1}*${3}"
SUBDOMAIN_ANY_PORT_REGEX = (
    r"^(https?://)[a-z0-9_-]+(\.[a-z0-9_-]+)*((\.[a-z0-9_-]+){{{labels}}})(:[0-9]+)?$"
)
SUBDOMAIN_ANY_PORT_KEY = "${1}*${3}:*"


@dataclass(frozen=True)
class WildcardForm:
    """One form of wildcard entry: the ``map`` that rewrites an Origin into it, and the
    entries of that form (the keys the rewritten Origin is looked up among)."""

    destination: str  # the map's output placeholder name
    regex: str
    key: str
    entries: list[str]


@dataclass(frozen=True)
class CaddyContext:
    common: Common
    file_name: str
    id: str  # the prefix of every matcher, variable and map output: corsgen.<stem>
    origin: str
    request_headers: str  # the placeholder of Access-Control-Request-Headers
    request_method: str
    private_network: str
    wildcard_forms: list[WildcardForm]
    has_regexes: bool
    # The CEL expressions of the allow-list, each true when the Origin is on its part of
    # the list (several for a list too long for one expression); empty for origins "*".
    listed: list[str]
    # The CORS fields an actual response carries; the deferred header removes the others.
    actual_headers: tuple[str, ...]


def wildcard_forms(policy: Policy, prefix: str) -> list[WildcardForm]:
    """One form per distinct (port wildcard, label count), each with its entries."""
    forms = []
    for (any_port, labels), entries in wildcard_groups(policy).items():
        if labels == 0:
            name, regex, key = "any_port", ANY_PORT_REGEX, ANY_PORT_KEY
        elif any_port:
            name = f"labels_{labels}_any_port"
            regex = SUBDOMAIN_ANY_PORT_REGEX.format(labels=labels)
            key = SUBDOMAIN_ANY_PORT_KEY
        else:
            name, regex, key = (
                f"labels_{labels}",
                SUBDOMAIN_REGEX.format(labels=labels),
                SUBDOMAIN_KEY,
            )
        forms.append(WildcardForm(f"{prefix}.wildcard_{name}", regex, key, entries))
    return forms


# cel-go refuses an expression of more than 100 000 code points (Caddy keeps its default):
# a long allow-list is split over several matchers, each well under it.
CEL_SIZE_LIMIT = 100_000
CEL_BUDGET = 90_000


def _cel_list(values: list[str]) -> str:
    # Origins hold no quote or backslash (validation refuses them): a plain CEL string.
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def _membership_clauses(subject: str, values: list[str]) -> list[str]:
    """``subject in [...]`` over ``values``, in as few clauses as fit the budget each."""
    clauses: list[str] = []
    chunk: list[str] = []
    size = len(subject) + 6
    for value in values:
        if chunk and size + len(value) + 4 > CEL_BUDGET:
            clauses.append(f"{subject} in {_cel_list(chunk)}")
            chunk, size = [], len(subject) + 6
        chunk.append(value)
        size += len(value) + 4
    if chunk:
        clauses.append(f"{subject} in {_cel_list(chunk)}")
    return clauses


def listed_expressions(policy: Policy, forms: list[WildcardForm]) -> list[str]:
    """CEL expressions, each true when the Origin is on (its part of) the policy's list.

    Exact origins and each wildcard form are ``in`` on a constant list, which CEL's
    optimiser turns into a set lookup; ``origin_regex`` entries are CEL's ``matches``
    (Go's RE2), after them. Usually one expression; several when the list is too long
    for one (CEL_SIZE_LIMIT).
    """
    clauses = _membership_clauses(ORIGIN, exact_origins(policy))
    for form in forms:
        clauses += _membership_clauses(f"{{{form.destination}}}", form.entries)
    # Raw CEL strings: the regex's backslashes reach RE2 as written (a regex holds no quote).
    clauses += [f'{ORIGIN}.matches(r"{regex}")' for regex in anchored_regexes(policy)]
    sent = f'{ORIGIN} != ""'
    expressions: list[list[str]] = [[]]
    size = 0
    for clause in clauses:
        if expressions[-1] and size + len(clause) + 4 > CEL_BUDGET:
            expressions.append([])
            size = 0
        expressions[-1].append(clause)
        size += len(clause) + 4
    return [f"{sent} && ({' || '.join(parts)})" for parts in expressions if parts]


def actual_headers(policy: Policy) -> tuple[str, ...]:
    return (
        "Access-Control-Allow-Origin",
        *(["Access-Control-Allow-Credentials"] if policy.allow_credentials else []),
        *(["Access-Control-Expose-Headers"] if policy.expose_headers else []),
    )


def caddy_context(policy: Policy) -> CaddyContext:
    prefix = dotted_prefix(policy.name)
    forms = [] if policy.allows_any_origin else wildcard_forms(policy, prefix)
    return CaddyContext(
        common=common_values(policy),
        file_name=SNIPPET_FILE.name_for(policy.name),
        id=prefix,
        origin=ORIGIN,
        request_headers=REQUEST_HEADERS,
        request_method=REQUEST_METHOD,
        private_network=PRIVATE_NETWORK,
        wildcard_forms=forms,
        has_regexes=bool(policy.origin_regex),
        listed=[] if policy.allows_any_origin else listed_expressions(policy, forms),
        actual_headers=actual_headers(policy),
    )


def regex_limits(policy: Policy) -> list[str]:
    """``origin_regex`` entries Caddy would read differently from the policy's meaning."""
    problems = []
    for index, regex in enumerate(policy.origin_regex):
        where = f"policy {policy.name!r}: origin_regex[{index}] {regex!r}"
        for position, char in enumerate(regex):
            following = regex[position + 1 : position + 2]
            if char == "{" and (following.isalpha() or following == "$"):
                problems.append(
                    f"{where}: --target caddy cannot express '{{{following}': the Caddyfile "
                    "and Caddy's CEL read {name} and {$NAME} as placeholders and environment "
                    "variables; match the brace with [{] instead"
                )
                break
        if _escapes(regex) & {"s", "S"}:
            problems.append(
                f"{where}: --target caddy cannot express \\s or \\S: Go's regexp leaves the "
                "vertical tab out of \\s where Python and PCRE include it; write the "
                "characters out ([ \\t]), or leave them out (an Origin holds no whitespace)"
            )
    return problems


def _escapes(regex: str) -> set[str]:
    """The characters written after a backslash (``\\s`` -> ``s``)."""
    found = set()
    position = 0
    while position < len(regex):
        if regex[position] == "\\" and position + 1 < len(regex):
            found.add(regex[position + 1])
            position += 2
        else:
            position += 1
    return found


TARGET = Target(
    name="caddy",
    server="Caddy",
    version_floor="2.11",
    needs=(),
    files=(SNIPPET_FILE,),
    expresses=EVERY_FEATURE,
    context=caddy_context,
    template_folder="caddy",
    limits=regex_limits,
)
