"""The spec's request matrix for a policy that blocks disallowed origins at the edge.

integration/policies/locked-down.yaml: with block_disallowed_origins every
non-preflight request from a not-allowed Origin, OPTIONS included, gets 403 at the
edge and never reaches the upstream; requests without Origin still pass. It also
answers private-network preflights and reflects requested headers.
"""

from __future__ import annotations

import pytest

from integration.cors_matrix import POLICIES, ListedOriginsContract

pytestmark = pytest.mark.slow


class TestLockedDownPolicy(ListedOriginsContract):
    POLICY = POLICIES / "locked-down.yaml"
    ALLOWED = ["https://intranet.example.com", "http://[::1]:8080"]
    NOT_ALLOWED = [
        "https://intranet.example.com.evil.com",
        "https://evil-intranet.example.com",
        "http://intranet.example.com",
        "https://intranet.example.com:8443",
        "http://[::1]:8081",
        "http://[::1]",
        "http://127.0.0.1:8080",
        "null",
    ]
    CASE_VARIANTS = ["https://INTRANET.example.com"]
    METHODS = {"GET", "POST", "DELETE"}
    REFLECTS_HEADERS = True
    MAX_AGE = "0"
    CREDENTIALS = True
    PRIVATE_NETWORK = True
    BLOCKS = True
