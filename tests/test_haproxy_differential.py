"""Real HAProxy answers every generated request as the reference evaluator says.

The property of tests/test_differential.py (Hypothesis policies and requests: exact,
wildcard, port-wildcard and regex origins, lookalikes, preflights, non-preflight OPTIONS,
no Origin; upstream statuses and Vary; a locally answered path and HTTP basic auth) run
against a HAProxy 2.6 process on 127.0.0.1 in front of the harness's upstream stub. The
fragment is pasted into the frontend and the map files put in CORSGEN_MAP_DIR, exactly as
docs/haproxy.md says.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from corsgen.load import load_text
from corsgen.policy import policy_from_document
from corsgen.render import render
from edgeharness.availability import require_installed
from edgeharness.haproxy import HAPROXY, frontend_config
from edgeharness.upstream import Upstream
from tests.edge_servers import GENERATION_HEADER, STARTER_POLICY, Edge
from tests.test_differential import STATS, _check

pytestmark = pytest.mark.slow


class HaproxyEdge(Edge):
    name = "haproxy"
    server = HAPROXY

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        # The map files keep their names: the fragment finds them by name in the map dir.
        return dict(rendered)

    def write_main_config(self) -> Path:
        fragments = [
            text for name, text in self.policy_files_now().items() if name.endswith(".cfg")
        ]
        # /ready answers before the fragment: it only tells which generation is running.
        ready = (
            f"http-request return status 200 hdr {GENERATION_HEADER} {self.generation}"
            " if { path /ready }\n"
        )
        text = frontend_config(
            [ready, *fragments],
            map_dir=self.policy_dir,
            port=self.port,
            upstream_port=self.upstream.port,
            auth_path="/auth/",
            static_path="/static/",
        )
        config = self.root / "haproxy.cfg"
        config.write_text(text, encoding="utf-8")
        return config

    def policy_files_now(self) -> dict[str, str]:
        return {path.name: path.read_text() for path in sorted(self.policy_dir.iterdir())}

    def load(self, rendered: dict[str, str]) -> None:
        # No master process to reload: a new HAProxy on the new generation's port.
        if self.process is not None:
            self.process.stop()
        self.start(rendered)


@pytest.fixture(scope="session")
def haproxy_edge(upstream: Upstream) -> Iterator[Edge]:
    """A real HAProxy on 127.0.0.1; each policy restarts it on a port of its own."""
    require_installed(HAPROXY)
    edge = HaproxyEdge(upstream)
    policy = policy_from_document(load_text(STARTER_POLICY, Path("starter.yaml")))
    try:
        edge.start(render(policy, "haproxy").files)
        yield edge
    finally:
        edge.stop()


def test_haproxy_answers_every_generated_request_as_the_evaluator_says(haproxy_edge: Edge):
    started = time.monotonic()
    _check(haproxy_edge)
    stats = STATS.get(haproxy_edge.name, {})
    print(
        f"\nhaproxy: {stats.get('policies', 0)} policies, {stats.get('requests', 0)} "
        f"requests in {time.monotonic() - started:.1f}s"
    )
