"""Apache httpd: one file to ``Include`` inside the API's ``<VirtualHost>``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corsgen.origins import OriginKind, OriginPattern
from corsgen.pcre_trie import trie_regexes
from corsgen.targets.common import Common, anchored_regexes, common_values, exact_origins, name_stem
from corsgen.targets.target import EVERY_FEATURE, NAME, OutputFile, Target

if TYPE_CHECKING:
    from corsgen.policy import Policy

VHOST_FILE = OutputFile(
    pattern=f"{NAME}.conf",
    template="vhost.conf.j2",
    part="Apache part",
    directive="Include",
    where="inside the <VirtualHost> that serves or proxies the API",
)

# The modules the file uses; it stops Apache with an Error naming any that is not loaded.
MODULES = ("headers", "setenvif", "rewrite")

# One DNS label as the spec's wildcard stands for it.
WILDCARD_LABELS = r"(?:[a-z0-9_-]+\.)+"


@dataclass(frozen=True)
class ApacheContext:
    common: Common
    env: str
    name: str
    modules: tuple[str, ...]
    exact_origin_regexes: list[str]
    origin_regexes: list[str]


def apache_env_prefix(name: str) -> str:
    """``CORSGEN_<STEM>``: Apache has no length limit, so the whole stem.

    Apache compares environment variable names case-insensitively; upper case is only for
    the reader (the stem has no upper-case letters to be confused with).
    """
    return "CORSGEN_" + name_stem(name).upper()


def subdomain_regex(origin: OriginPattern) -> str:
    return WILDCARD_LABELS if origin.any_subdomain else ""


def port_regex(origin: OriginPattern) -> str:
    if origin.any_port:
        return "(?::[0-9]+)?"
    return "" if origin.port is None else f":{origin.port}"


def apache_origin_regexes(policy: Policy) -> tuple[list[str], list[str]]:
    """The anchored regexes of the exact origins, and of the wildcard entries.

    Each list is a few trie-shaped regexes (see corsgen/pcre_trie.py), not one regex per
    entry: wildcard entries are grouped by scheme and port, their hosts in one trie.
    """
    exact = [f"^(?:{body})$" for body, _ in trie_regexes(exact_origins(policy))]
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for origin in policy.origins:
        if origin.kind is OriginKind.PATTERN:
            key = (origin.scheme, subdomain_regex(origin), port_regex(origin))
            groups[key].append(origin.host)
    wildcards = [
        f"^{scheme}://{subdomains}(?:{body}){port}$"
        for (scheme, subdomains, port), hosts in sorted(groups.items())
        for body, _ in trie_regexes(hosts)
    ]
    return exact, wildcards


def apache_context(policy: Policy) -> ApacheContext:
    exact, wildcards = apache_origin_regexes(policy)
    return ApacheContext(
        common=common_values(policy),
        env=apache_env_prefix(policy.name),
        name=policy.name,
        modules=MODULES,
        exact_origin_regexes=exact,
        origin_regexes=wildcards + anchored_regexes(policy),
    )


TARGET = Target(
    name="apache",
    server="Apache httpd",
    version_floor="2.4",
    needs=MODULES,
    files=(VHOST_FILE,),
    expresses=EVERY_FEATURE,
    context=apache_context,
    template_folder="apache",
)
