"""The context builders: what the nginx and Apache templates are given for small policies.

They are pure functions of the policy; the golden files check the text, these check the
decisions behind it one at a time.
"""

from __future__ import annotations

import re

from corsgen.nginx_hash import HashHint
from corsgen.targets.apache import apache_context
from corsgen.targets.common import CORS_RESPONSE_HEADERS, PREFLIGHT_VARY
from corsgen.targets.nginx import nginx_context
from tests.conftest import parse

SMALL = """
    version: 1
    name: shop-api
    origins:
      - https://app.example.com
      - "null"
      - capacitor://localhost
      - https://*.example.org
      - http://127.0.0.1:*
      - http://*.localhost:8080
    origin_regex: ['^https://pr-[0-9]+\\.preview\\.example\\.dev$']
    allow_credentials: true
    allow_methods: [get, POST]
    allow_headers: [Content-Type, Authorization]
    expose_headers: [X-Request-Id]
    max_age: 60
"""

ANY_ORIGIN = """
    version: 1
    name: public
    origins: "*"
    allow_headers: "*"
    allow_private_network: true
    block_disallowed_origins: true
"""


# --- values both targets share -------------------------------------------------------------


def test_both_targets_are_given_the_same_common_values():
    policy = parse(SMALL)
    assert nginx_context(policy).common == apache_context(policy).common


def test_common_values_are_the_policys_lists_joined_as_the_headers_send_them():
    common = nginx_context(parse(SMALL)).common
    assert common.allow_methods == "GET, POST"
    assert common.allow_headers == "Content-Type, Authorization"
    assert common.expose_headers == "X-Request-Id"
    assert common.max_age == 60
    assert common.credentials is True
    assert common.any_origin is False and common.reflect_headers is False
    assert common.private_network is False and common.block_disallowed is False
    assert common.preflight_vary == PREFLIGHT_VARY
    assert common.cors_headers == CORS_RESPONSE_HEADERS


def test_any_origin_and_reflected_headers_leave_no_header_list_to_print():
    common = apache_context(parse(ANY_ORIGIN)).common
    assert common.any_origin is True
    assert common.reflect_headers is True and common.allow_headers == ""
    assert common.block_disallowed is True


def test_private_network_adds_its_request_header_to_the_preflight_vary():
    common = nginx_context(parse(ANY_ORIGIN)).common
    assert common.private_network is True
    assert common.preflight_vary == f"{PREFLIGHT_VARY}, Access-Control-Request-Private-Network"


# --- nginx ---------------------------------------------------------------------------------


def test_nginx_matches_exact_entries_app_schemes_and_null_as_whole_strings():
    context = nginx_context(parse(SMALL))
    assert context.exact_origins == ["https://app.example.com", "null", "capacitor://localhost"]


def test_nginx_turns_wildcard_entries_into_hostnames_keys_with_port_and_scheme():
    context = nginx_context(parse(SMALL))
    assert context.host_port_keys == ["*.example.org.p.https", "*.localhost.p8080.http"]
    assert context.host_keys == ["127.0.0.1.http"]


def test_nginx_gets_origin_regex_anchored_once_around_the_whole_origin():
    context = nginx_context(parse(SMALL))
    assert context.origin_regexes == [r"^(?:https://pr-[0-9]+\.preview\.example\.dev)$"]


def test_nginx_variables_are_prefixed_with_the_name_stem():
    assert nginx_context(parse(SMALL)).var == "corsgen_shop_api"


def test_nginx_asks_for_no_map_hash_settings_for_a_small_list():
    assert nginx_context(parse(SMALL)).hash_hint is None


def test_nginx_states_the_map_hash_settings_a_long_origin_needs():
    # One key wider than the default 64-byte bucket: nginx would refuse to start without
    # map_hash_bucket_size, so the context carries the size the http file asks for.
    host = "a" * 60 + ".example.com"
    hint = nginx_context(parse(SMALL.replace("app.example.com", host))).hash_hint
    assert isinstance(hint, HashHint)
    assert hint.bucket_size == 128


def test_nginx_gets_no_origin_lists_for_any_origin():
    context = nginx_context(parse(ANY_ORIGIN))
    assert context.exact_origins == context.origin_regexes == []
    assert context.host_port_keys == context.host_keys == []


# --- Apache --------------------------------------------------------------------------------


def test_apache_is_given_the_modules_its_file_checks_for():
    assert apache_context(parse(SMALL)).modules == ("headers", "setenvif", "rewrite")


def test_apache_environment_variables_are_the_upper_case_name_stem():
    context = apache_context(parse(SMALL))
    assert context.env == "CORSGEN_SHOP_API"
    assert context.name == "shop-api"


def test_apache_matches_exact_origins_with_one_anchored_trie_regex():
    (regex,) = apache_context(parse(SMALL)).exact_origin_regexes
    assert regex.startswith("^(?:") and regex.endswith(")$")
    for origin in ("https://app.example.com", "null", "capacitor://localhost"):
        assert re.fullmatch(regex, origin)
    for lookalike in ("https://app.example.com.evil.com", "https://app.example.co", "nul"):
        assert not re.fullmatch(regex, lookalike)


def test_apache_groups_wildcard_entries_by_scheme_and_port_then_adds_origin_regex():
    regexes = apache_context(parse(SMALL)).origin_regexes
    assert regexes == [
        r"^http://(?:127\.0\.0\.1)(?::[0-9]+)?$",
        r"^http://(?:[a-z0-9_-]+\.)+(?:localhost):8080$",
        r"^https://(?:[a-z0-9_-]+\.)+(?:example\.org)$",
        r"^(?:https://pr-[0-9]+\.preview\.example\.dev)$",
    ]
    wildcard = regexes[2]
    assert re.fullmatch(wildcard, "https://a.b.example.org")
    assert not re.fullmatch(wildcard, "https://example.org")  # never the apex


def test_apache_gets_no_origin_regexes_for_any_origin():
    context = apache_context(parse(ANY_ORIGIN))
    assert context.exact_origin_regexes == context.origin_regexes == []
