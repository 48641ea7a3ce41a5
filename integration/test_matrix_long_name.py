"""A policy with the longest name the spec allows still loads into every server.

Spec section 1: ``name`` is ``[a-z][a-z0-9_-]{0,62}`` and is used in generated
variable names; section 3: every generated config passes ``nginx -t`` /
``apachectl -t`` when included as documented, and corsgen never sets server-wide
directives (``variables_hash_*`` included). So a 63-character name must work with
the servers' default settings.
"""

from __future__ import annotations

import pytest

from integration.cors_matrix import (
    ACAO,
    ACAPN,
    JSON_POST_HEADERS,
    POLICIES,
    assert_header,
    assert_status,
)
from integration.edge import EdgeServer

pytestmark = pytest.mark.slow

POLICY = POLICIES / "long-name.yaml"
ORIGIN = "https://a.example.org"


def test_policy_with_a_63_character_name_loads_and_answers(
    edge_server: EdgeServer, test_id: str
) -> None:
    site = edge_server.load(POLICY)
    try:
        pre = site.preflight(
            "/predict",
            ORIGIN,
            "POST",
            request_headers=JSON_POST_HEADERS,
            private_network=True,
            test_id=test_id,
        )
        assert_status(pre, 204)
        assert_header(pre, ACAO, ORIGIN)
        assert_header(pre, ACAPN, "true")
        actual = site.get("/status/200", origin=ORIGIN, test_id=test_id + "-get")
        assert_status(actual, 200)
        assert_header(actual, ACAO, ORIGIN)
    finally:
        edge_server.unload(site.name)
