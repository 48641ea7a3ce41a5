"""Policy names side by side (spec section 4): one name's identifiers are never another's.

Every identifier a rendering defines is PREFIX + stem(name) + suffix, the suffix taken from
a fixed set per target. If no suffix is a string-suffix of another and stem() is injective,
no two names share an identifier. The tests below check both halves on the templates
themselves, then check the whole on real renderings of a list of tricky names.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable
from functools import cache

import pytest
import yaml

from corsgen.policy import Policy
from corsgen.render import render, template_root
from corsgen.targets import TARGETS, get_target
from corsgen.targets.apache import apache_env_prefix
from corsgen.targets.nginx import (
    NGINX_LONGEST_VARIABLE_SUFFIX,
    NGINX_VARIABLE_NAME_LIMIT,
    nginx_variable_prefix,
)
from corsgen.targets.traefik import NAME_SUFFIXES as TRAEFIK_NAME_SUFFIXES

LONG_NAME = "a-policy-name-of-sixty-three-characters-is-still-a-valid-name-x"
# The targets whose files define identifiers; a Gateway API CORS filter defines none.
NAMING_TARGETS = tuple(name for name in TARGETS if name not in ("gateway-api", "envoy"))
# Envoy's identifiers are corsgen.<stem>.<suffix> (filter names, filter-state keys, runtime
# keys) with suffixes the context builder also picks: stems hold no dot, so the second
# dot splits each one, and only the tricky-names test below applies.
CLASH_TARGETS = (*NAMING_TARGETS, "envoy")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,62}")

# The identifier templates: `${{ var }}_suffix` in nginx, `{{ env }}_SUFFIX` in Apache.
SUFFIX_IN_TEMPLATE = {
    "nginx": re.compile(r"\{\{ var \}\}(_[A-Za-z0-9_]+)"),
    "apache": re.compile(r"\{\{ env \}\}(_[A-Za-z0-9_]+)"),
    # `{{ acl }}.suffix` and `{{ var }}.suffix` in HAProxy (ACL and variable names).
    "haproxy": re.compile(r"\{\{ (?:acl|var) \}\}(\.[a-z_]+)"),
    # `{{ id }}.suffix` in Caddy (named matchers and variables).
    "caddy": re.compile(r"\{\{ id \}\}(\.[a-z_]+)"),
}

# Where a rendering *defines* an identifier.
NGINX_DEFINITIONS = (
    re.compile(r"^\s*map\s+(?:\"[^\"]*\"|\S+)\s+\$(\w+)\s*\{", re.M),
    re.compile(r"^\s*set\s+\$(\w+)\s", re.M),
)
APACHE_DEFINITION = re.compile(r"^SetEnvIf(?:Expr)?\s.*\s(\w+)=\S*$", re.M)
ENVOY_DEFINITIONS = (
    re.compile(r"^\s*-? ?(?:name|object_key): (corsgen\.\S+)$", re.M),
    re.compile(r"&(\S+)"),  # the YAML anchor of the origin filter's action
)
HAPROXY_DEFINITIONS = (
    re.compile(r"^\s*acl\s+(\S+)\s", re.M),
    re.compile(r"^\s*http-request\s+set-var\(([^)]+)\)", re.M),
)
CADDY_DEFINITIONS = (
    re.compile(r"^\s*@(\S+)\s", re.M),
    re.compile(r"^\s*vars\s+(?:@\S+\s+)?(\S+)\s", re.M),
)
# The outputs of Caddy's wildcard maps: one per wildcard form a policy uses, so not a fixed
# suffix of the template; checked on their own below.
CADDY_MAP_OUTPUT = re.compile(r"^\s*map\s+\S+\s+\{(\S+)\}\s", re.M)


def template_suffixes(target: str) -> set[str]:
    if target == "traefik":
        # Traefik's names are made in its context builder, each router and middleware
        # name corsgen-STEM plus one suffix of the module's table.
        return set(TRAEFIK_NAME_SUFFIXES)
    text = "".join(path.read_text() for path in sorted((template_root() / target).glob("*.j2")))
    return set(SUFFIX_IN_TEMPLATE[target].findall(text))


def tricky_names() -> list[str]:
    names = {
        "shop", "shop-options", "shop_options", "shop-options-action", "shop_options_action",
        "a-b", "a_b", "a--b", "a__b", "a-_b", "a_-b", "a_0b", "a-0b", "a0b", "a_00b",
        # ending in - or _
        "a", "a-", "a_", "a--", "a__", "a-_", "a_-", "shop-", "shop_", "shop-options-",
        # digits after - or _ (an escape of the stem is "_0")
        "a-0", "a_0", "a0", "a__0", "a_-0", "a-_0", "a0_", "a-1-2", "a_1_2", "a-1_2",
        "predict-api", "predict_api", "predict-api-v2", "predict_api_v2",
        # the 63-character name with its last character changed
        LONG_NAME[:-1] + "y", LONG_NAME[:-1] + "-", LONG_NAME[:-1] + "_",
    }  # fmt: skip
    for full in (LONG_NAME, LONG_NAME.replace("-", "_"), "a-_" * 21, "a_-" * 21, "a" * 63):
        names.update(full[:length] for length in range(1, 64))
    assert all(NAME_PATTERN.fullmatch(name) for name in names)
    return sorted(names)


def policies(name: str) -> list[Policy]:
    """Two policies of one name that together use every identifier of both templates."""
    everything = {
        "version": 1,
        "name": name,
        "origins": ["https://app.example.com", "https://*.example.org", "http://127.0.0.1:*"],
        "origin_regex": [r"^https://pr-[0-9]+\.preview\.example\.dev$"],
        "allow_credentials": True,
        "allow_headers": ["Content-Type"],
        "expose_headers": ["X-Request-Id"],
        "allow_private_network": True,
        "block_disallowed_origins": True,
    }
    any_origin = {
        "version": 1,
        "name": name,
        "origins": "*",
        "allow_headers": "*",
        "expose_headers": ["X-Request-Id"],
        "allow_private_network": True,
    }
    return [Policy.model_validate(everything), Policy.model_validate(any_origin)]


def defined_identifiers(target: str, text: str) -> set[str]:
    if target == "traefik":
        http = yaml.safe_load(text)["http"]
        return set(http["routers"]) | set(http["middlewares"])
    if target == "nginx":
        return {found for regex in NGINX_DEFINITIONS for found in regex.findall(text)}
    if target == "haproxy":
        return {found for regex in HAPROXY_DEFINITIONS for found in regex.findall(text)}
    if target == "caddy":
        return {found for regex in CADDY_DEFINITIONS for found in regex.findall(text)}
    if target == "envoy":
        return {found for regex in ENVOY_DEFINITIONS for found in regex.findall(text)}
    return set(APACHE_DEFINITION.findall(text))


@cache
def identifiers_by_name(target: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name in tricky_names():
        # Only what the target expresses (Traefik refuses allow_headers "*"; the other
        # policy uses each of its names).
        expressed = [
            policy for policy in policies(name) if not get_target(target).unexpressed(policy)
        ]
        texts = [text for policy in expressed for text in render(policy, target).files.values()]
        found[name] = {ident for text in texts for ident in defined_identifiers(target, text)}
    return found


def shared(by_name: dict[str, set[str]]) -> list[str]:
    """Identifiers (compared case-insensitively, as both servers do) defined by two names."""
    owner: dict[str, str] = {}
    clashes = []
    for name, idents in by_name.items():
        for ident in idents:
            other = owner.setdefault(ident.lower(), name)
            if other != name:
                clashes.append(f"{ident} ({other!r} and {name!r})")
    return clashes


def suffix_pairs(suffixes: Iterable[str]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in itertools.permutations(suffixes, 2) if a.endswith(b)]


@pytest.mark.parametrize("target", NAMING_TARGETS)
def test_the_identifier_suffixes_of_the_templates_are_suffix_free(target: str):
    suffixes = template_suffixes(target)
    assert len(suffixes) >= 9, suffixes  # the regex still finds the identifiers
    # `shop` + `_options_action` was `shop-options` + `_action`.
    assert suffix_pairs(suffixes) == []


def test_the_nginx_length_budget_counts_the_longest_suffix_of_the_templates():
    longest = max(template_suffixes("nginx"), key=len)
    assert len(NGINX_LONGEST_VARIABLE_SUFFIX) == len(longest), longest


@pytest.mark.parametrize("target", CLASH_TARGETS)
def test_no_two_tricky_names_define_the_same_identifier(target: str):
    by_name = identifiers_by_name(target)
    assert shared(by_name) == []


@pytest.mark.parametrize("target", NAMING_TARGETS)
def test_the_renderings_define_one_identifier_per_suffix_and_name(target: str):
    # Guards the test above: each name's renderings use every suffix of the templates.
    count = len(template_suffixes(target))
    wrong = {name: len(idents) for name, idents in identifiers_by_name(target).items()}
    assert {name: n for name, n in wrong.items() if n != count} == {}


def test_no_two_tricky_names_share_an_output_of_caddys_wildcard_maps():
    by_name = {
        name: {
            found
            for policy in policies(name)
            for text in render(policy, "caddy").files.values()
            for found in CADDY_MAP_OUTPUT.findall(text)
        }
        for name in tricky_names()
    }
    assert all(len(outputs) == 2 for outputs in by_name.values())  # *.example.org and :*
    assert shared(by_name) == []


def test_every_nginx_variable_fits_the_default_variables_hash():
    too_long = [
        ident
        for idents in identifiers_by_name("nginx").values()
        for ident in idents
        if len(ident) > NGINX_VARIABLE_NAME_LIMIT
    ]
    assert too_long == []


def small_names(length: int) -> Iterable[str]:
    """Every name of up to ``length`` characters over a few letters, digits, - and _."""
    for size in range(length):
        for first in "ab":
            for rest in itertools.product("a0-_", repeat=size):
                yield first + "".join(rest)


@pytest.mark.parametrize("prefix", [nginx_variable_prefix, apache_env_prefix])
def test_the_prefix_of_a_name_is_never_the_prefix_of_another_name(prefix):
    names = list(small_names(6)) + tricky_names()
    names = sorted(set(names))
    prefixes: dict[str, str] = {}
    for name in names:
        other = prefixes.setdefault(prefix(name).lower(), name)
        assert other == name, f"{other!r} and {name!r} both give {prefix(name)}"


def test_names_without_underscore_stay_readable():
    assert nginx_variable_prefix("predict-api") == "corsgen_predict_api"
    assert apache_env_prefix("predict-api") == "CORSGEN_PREDICT_API"


def test_names_with_underscore_start_with_a_digit_and_escape_dash_and_underscore():
    # A name without "_" never yields a stem starting with a digit, so the two never meet.
    assert nginx_variable_prefix("a_b") == "corsgen_0a__b"
    assert nginx_variable_prefix("a_-b") == "corsgen_0a___0b"
    assert apache_env_prefix("a_b") == "CORSGEN_0A__B"


def test_long_names_become_a_fixed_length_readable_prefix_and_40_bits_of_sha256():
    budget = NGINX_VARIABLE_NAME_LIMIT - len(NGINX_LONGEST_VARIABLE_SUFFIX)
    fitting = "a" * (budget - len("corsgen_") - 1)
    assert nginx_variable_prefix(fitting) == "corsgen_" + fitting
    for name in ("a" * (budget - len("corsgen_")), LONG_NAME):
        prefix = nginx_variable_prefix(name)
        assert len(prefix) == budget, prefix
        digest = hashlib.sha256(name.encode("ascii")).hexdigest()
        readable, _, hex_part = prefix.rpartition("_")
        assert len(hex_part) * 4 >= 40 and digest.startswith(hex_part)
        assert name.replace("-", "_").startswith(readable.removeprefix("corsgen_"))
    # Apache has no length limit: the stem is used whole.
    assert apache_env_prefix(LONG_NAME) == "CORSGEN_" + LONG_NAME.replace("-", "_").upper()
