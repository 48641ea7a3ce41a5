"""nginx: a file of ``map`` blocks for ``http { }`` and one for the API's ``location { }``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corsgen.nginx_hash import HashHint, map_hash_hint
from corsgen.origins import OriginKind, OriginPattern
from corsgen.targets.common import (
    Common,
    anchored_regexes,
    common_values,
    exact_origins,
    name_stem,
)
from corsgen.targets.target import EVERY_FEATURE, NAME, OutputFile, Target

if TYPE_CHECKING:
    from corsgen.policy import Policy

HTTP_FILE = OutputFile(
    pattern=f"{NAME}.http.conf",
    template="http.conf.j2",
    part="http part",
    directive="include",
    where="inside http { }",
)
LOCATION_FILE = OutputFile(
    pattern=f"{NAME}.location.conf",
    template="location.conf.j2",
    part="location part",
    directive="include",
    where="inside the location { } that serves or proxies the API",
)


@dataclass(frozen=True)
class NginxContext:
    common: Common
    var: str
    exact_origins: list[str]
    origin_regexes: list[str]
    host_port_keys: list[str]
    host_keys: list[str]
    hash_hint: HashHint | None


# nginx keeps every variable name in one hash whose default bucket (64 bytes, and the
# output must not ask for variables_hash_* settings) holds names of at most 46
# characters. The longest name the templates make is PREFIX + "_allow_credentials"
# (tests/test_names.py checks every variable of many names, and that this is the
# longest suffix of the templates).
NGINX_VARIABLE_NAME_LIMIT = 46
NGINX_LONGEST_VARIABLE_SUFFIX = "_allow_credentials"
NGINX_PREFIX = "corsgen_"
# The length of every shortened stem; shorter stems are used whole.
NGINX_STEM_BUDGET = (
    NGINX_VARIABLE_NAME_LIMIT - len(NGINX_PREFIX) - len(NGINX_LONGEST_VARIABLE_SUFFIX)
)
# 40 bits of SHA-256: two long names share variables only if their hashes begin alike.
NGINX_STEM_HASH_DIGITS = 10


def nginx_variable_prefix(name: str) -> str:
    """``corsgen_<stem>``, the stem shortened with a hash of the name where it must be.

    Stems shorter than the budget are used whole; all others become exactly the budget's
    length (a readable start, ``_``, hex of SHA-256 of the name), so a shortened stem never
    equals a whole one.
    """
    stem = name_stem(name)
    if len(stem) >= NGINX_STEM_BUDGET:
        digest = hashlib.sha256(name.encode("ascii")).hexdigest()[:NGINX_STEM_HASH_DIGITS]
        stem = f"{stem[: NGINX_STEM_BUDGET - NGINX_STEM_HASH_DIGITS - 1]}_{digest}"
    return NGINX_PREFIX + stem


def nginx_host_key(origin: OriginPattern, with_port: bool) -> str:
    """The key of a ``hostnames`` map entry for a wildcard entry.

    nginx's ``hostnames`` maps match ``*.example.org`` against one or more leading
    labels in a hash, not one regex per entry. The Origin is turned into a host-like
    key whose trailing labels carry the port and scheme: ``a.example.org.p8443.https``
    (``.p.`` for no port), or ``a.example.org.https`` for ``:*`` entries.
    """
    host = f"*.{origin.host}" if origin.any_subdomain else origin.host
    if not with_port:
        return f"{host}.{origin.scheme}"
    port = "" if origin.port is None else str(origin.port)
    return f"{host}.p{port}.{origin.scheme}"


def nginx_context(policy: Policy) -> NginxContext:
    patterns = [origin for origin in policy.origins if origin.kind is OriginKind.PATTERN]
    exact = exact_origins(policy)
    host_port_keys = [nginx_host_key(o, with_port=True) for o in patterns if not o.any_port]
    host_keys = [nginx_host_key(o, with_port=False) for o in patterns if o.any_port]
    return NginxContext(
        common=common_values(policy),
        var=nginx_variable_prefix(policy.name),
        exact_origins=exact,
        origin_regexes=anchored_regexes(policy),
        host_port_keys=host_port_keys,
        host_keys=host_keys,
        hash_hint=map_hash_hint([exact], [host_port_keys, host_keys]),
    )


def hash_notes(policy: Policy, context: NginxContext) -> list[str]:
    """Large allow-lists need map_hash_* settings that only the operator may set."""
    if context.hash_hint is None:
        return []
    return [
        f"policy {policy.name!r} needs map_hash_bucket_size "
        f"{context.hash_hint.bucket_size} and map_hash_max_size "
        f"{context.hash_hint.max_size} (at least) in http {{ }}; "
        f"see the top of {HTTP_FILE.name_for(policy.name)}"
    ]


TARGET = Target(
    name="nginx",
    server="nginx",
    version_floor="1.22",
    # All built in by default; each can be compiled out (--without-http_map_module, ...).
    needs=("map", "rewrite", "headers", "proxy"),
    files=(HTTP_FILE, LOCATION_FILE),
    expresses=EVERY_FEATURE,
    context=nginx_context,
    template_folder="nginx",
    notes=hash_notes,
)
