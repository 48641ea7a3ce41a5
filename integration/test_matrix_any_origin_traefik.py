"""The spec's request matrix for ``origins: "*"`` through a real Traefik (docs/traefik.md).

integration/policies/any-origin.yaml reflects the request's headers
(``allow_headers: "*"``), which Traefik refuses (test_matrix_traefik.py checks it); here the
same policy lists the two headers the matrix's browser asks for, and every test of
test_matrix_any_origin.py that does not depend on reflection runs against Traefik, on
this module's ``site``. A listed ``allow_headers`` is sent on every allowed preflight,
so the tests that ask for no header (the static file's preflight among them) or for an unlisted
one are the reflecting policy's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integration.cors_matrix import POLICIES
from integration.edge import EdgeServer, Site
from integration.test_matrix_any_origin import (
    test_authenticated_request_reaches_the_upstream_with_a_star,
    test_authentication_401_carries_a_star,
    test_every_upstream_status_carries_a_star,
    test_options_with_request_method_but_no_origin_goes_upstream_with_a_star,
    test_options_without_request_method_goes_upstream_with_a_star,
    test_preflight_from_any_origin_is_answered_204_with_a_star,
    test_preflight_gets_204_with_the_seven_methods_never_a_star,
    test_preflight_never_allows_credentials,
    test_preflight_never_exposes_headers,
    test_preflight_reflects_the_requested_headers,
    test_preflight_states_the_max_age,
    test_preflight_to_the_authenticated_location_is_answered_without_credentials,
    test_preflight_varies_on_the_request_method_and_headers,
    test_private_network_preflight_gets_no_allow_private_network_when_disabled,
    test_static_file_gets_a_star,
    test_upload_from_any_origin_or_none_gets_a_star,
    test_upstream_cors_headers_are_replaced_and_credentials_dropped,
)

pytestmark = pytest.mark.slow

# What the matrix's JSON POST asks for (cors_matrix.JSON_POST_HEADERS), listed.
LISTED = "[Authorization, Content-Type]"

__all__ = [
    "test_authenticated_request_reaches_the_upstream_with_a_star",
    "test_authentication_401_carries_a_star",
    "test_every_upstream_status_carries_a_star",
    "test_options_with_request_method_but_no_origin_goes_upstream_with_a_star",
    "test_options_without_request_method_goes_upstream_with_a_star",
    "test_preflight_from_any_origin_is_answered_204_with_a_star",
    "test_preflight_gets_204_with_the_seven_methods_never_a_star",
    "test_preflight_never_allows_credentials",
    "test_preflight_never_exposes_headers",
    "test_preflight_reflects_the_requested_headers",
    "test_preflight_states_the_max_age",
    "test_preflight_to_the_authenticated_location_is_answered_without_credentials",
    "test_preflight_varies_on_the_request_method_and_headers",
    "test_private_network_preflight_gets_no_allow_private_network_when_disabled",
    "test_static_file_gets_a_star",
    "test_upload_from_any_origin_or_none_gets_a_star",
    "test_upstream_cors_headers_are_replaced_and_credentials_dropped",
]


@pytest.fixture(scope="module")
def site(traefik_server: EdgeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    text = (POLICIES / "any-origin.yaml").read_text()
    assert 'allow_headers: "*"' in text
    listed = text.replace('allow_headers: "*"', f"allow_headers: {LISTED}")
    path = tmp_path_factory.mktemp("traefik-any-origin") / "mx-any-listed.yaml"
    path.write_text(listed.replace("name: mx-any", "name: mx-any-listed"))
    loaded = traefik_server.load(path)
    yield loaded
    traefik_server.unload(loaded.name)
