"""The spec's request matrix through a real Traefik in its container (docs/traefik.md).

The same classes as for nginx, Apache and HAProxy, on ``traefik_server``: each policy
rendered once per router of the site (``/``, ``/private/`` behind basicAuth, ``/static/``
to a file server) and applied by Traefik's file provider. Traefik refuses
``allow_headers: "*"`` (it cannot reflect the request's headers in a 204), so the
locked-down and any-origin policies run here with their headers listed instead; the
refusal of the originals is checked too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from integration import test_matrix_locked_down, test_matrix_many_origins, test_matrix_predict_api
from integration import test_matrix_wildcard_regex as wildcard_regex
from integration.cors_matrix import POLICIES
from integration.edge import EdgeServer, render

pytestmark = pytest.mark.slow

LISTED_HEADERS = ["Authorization", "Content-Type", "X-Trace-Id"]


class OnTraefik:
    """Mixed into a matrix class: its tests run on Traefik only."""

    @pytest.fixture(scope="class")
    @classmethod
    def edge_server(cls, traefik_server: EdgeServer) -> EdgeServer:
        return traefik_server


class TestPredictApiOnTraefik(OnTraefik, test_matrix_predict_api.TestPredictApiPolicy):
    pass


class TestWildcardRegexOnTraefik(OnTraefik, wildcard_regex.TestWildcardRegexPolicy):
    pass


class TestManyOriginsOnTraefik(OnTraefik, test_matrix_many_origins.TestManyOriginsPolicy):
    pass


class TestLockedDownListedHeadersOnTraefik(OnTraefik, test_matrix_locked_down.TestLockedDownPolicy):
    """integration/policies/locked-down.yaml with its headers listed: blocks disallowed
    origins, answers private-network preflights, credentials, an IPv6 origin."""

    REFLECTS_HEADERS = False
    ALLOW_HEADERS = LISTED_HEADERS

    @classmethod
    def policy_file(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        text = (POLICIES / "locked-down.yaml").read_text()
        assert 'allow_headers: "*"' in text
        listed = text.replace('allow_headers: "*"', f"allow_headers: [{', '.join(LISTED_HEADERS)}]")
        path = tmp_path_factory.mktemp("traefik-policies") / "mx-locked-listed.yaml"
        path.write_text(listed.replace("name: mx-locked", "name: mx-locked-listed"))
        return path


@pytest.mark.parametrize("policy", ["any-origin.yaml", "locked-down.yaml", "long-name.yaml"])
def test_traefik_refuses_the_matrix_policies_that_reflect_request_headers(
    policy: str, tmp_path: Path
) -> None:
    proc = render(POLICIES / policy, "traefik", tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'uses allow_headers: "*", which --target traefik cannot express' in proc.stderr
    assert list(tmp_path.iterdir()) == []
