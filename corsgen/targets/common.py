"""Context values every target prints the same way.

Every decision about *what* the generated config says is made in the context builders,
once; the templates only lay the prepared values out. Values are already validated as
safe to place inside a double-quoted config string.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corsgen.origins import OriginKind

if TYPE_CHECKING:
    from corsgen.policy import Policy

# Every response header of the CORS protocol: removed from upstream responses so the
# policy's own values are the only ones a browser sees (two ACAO values fail the check).
CORS_RESPONSE_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Private-Network",
)

PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
# With allow_private_network, the preflight answer (ACAPN or not) also depends on this one.
PRIVATE_NETWORK_VARY = "Access-Control-Request-Private-Network"


@dataclass(frozen=True)
class Common:
    """Values every target prints the same way."""

    any_origin: bool
    credentials: bool
    allow_methods: str
    allow_headers: str
    reflect_headers: bool
    expose_headers: str
    max_age: int
    private_network: bool
    block_disallowed: bool
    cors_headers: tuple[str, ...]
    preflight_vary: str


def common_values(policy: Policy) -> Common:
    return Common(
        any_origin=policy.allows_any_origin,
        credentials=policy.allow_credentials,
        allow_methods=", ".join(policy.allow_methods),
        allow_headers="" if policy.reflects_request_headers else ", ".join(policy.allow_headers),
        reflect_headers=policy.reflects_request_headers,
        expose_headers=", ".join(policy.expose_headers),
        max_age=policy.max_age,
        private_network=policy.allow_private_network,
        block_disallowed=policy.block_disallowed_origins,
        cors_headers=CORS_RESPONSE_HEADERS,
        preflight_vary=(
            f"{PREFLIGHT_VARY}, {PRIVATE_NETWORK_VARY}"
            if policy.allow_private_network
            else PREFLIGHT_VARY
        ),
    )


def exact_origins(policy: Policy) -> list[str]:
    """Origins compared as whole strings: exact entries, app schemes and ``null``."""
    return [
        origin.text
        for origin in policy.origins
        if origin.kind in (OriginKind.EXACT, OriginKind.NULL)
    ]


def yaml_scalar(value: str) -> str:
    """One quoting rule for every string a YAML file holds: a JSON string is valid YAML."""
    return json.dumps(value)


def anchored_regexes(policy: Policy) -> list[str]:
    """The policy's ``origin_regex`` entries as the targets match them: whole-Origin anchored."""
    return [pattern.pattern for pattern in policy.regex_patterns]


def wildcard_groups(policy: Policy) -> dict[tuple[bool, int], list[str]]:
    """The wildcard entries by form, sorted: (port wildcard, labels kept behind ``*.``, 0
    for none) -> the entries of that form, in the policy's order. HAProxy and Caddy rewrite
    an Origin into each form and look it up once, however many entries there are."""
    groups: dict[tuple[bool, int], list[str]] = {}
    for origin in policy.origins:
        if origin.kind is OriginKind.PATTERN:
            labels = len(origin.host.split(".")) if origin.any_subdomain else 0
            groups.setdefault((origin.any_port, labels), []).append(origin.text)
    return dict(sorted(groups.items()))


# --- identifiers --------------------------------------------------------------------------
#
# Every identifier a policy defines (nginx variable, Apache environment variable) is
# PREFIX + stem(name) + suffix, the suffix taken from the fixed set its template uses. No
# suffix of a template is a string-suffix of another (tests/test_names.py checks), and
# stem() is injective: so two names never share an identifier, side by side in one server
# (``shop`` + ``_options_action`` once equalled ``shop-options`` + ``_action``).

# "-" cannot appear in either server's identifiers; "_" escapes it only in names that have
# no "_" of their own (the common case stays readable: predict-api -> predict_api).
_STEM_ESCAPES = {"_": "__", "-": "_0"}


def name_stem(name: str) -> str:
    """An injective spelling of a policy name in ``[a-z0-9_]``.

    Names without ``_``: ``-`` becomes ``_`` (starts with a letter, as names do). Names
    with ``_``: ``0`` followed by a prefix-free code (``_`` -> ``__``, ``-`` -> ``_0``, the
    rest as written), so ``a-b`` (``a_b``) and ``a_b`` (``0a__b``) stay apart: a stem
    starting with a digit never comes from a name without ``_``.
    """
    if "_" not in name:
        return name.replace("-", "_")
    return "0" + "".join(_STEM_ESCAPES.get(char, char) for char in name)


def dotted_prefix(name: str) -> str:
    """``corsgen.<stem>``, the prefix of every identifier a dotted-name target (HAProxy,
    Caddy, Envoy) makes for a policy: stems hold no dot, so the identifiers of one name
    never equal another's, whatever the suffixes."""
    return "corsgen." + name_stem(name)
