"""Shared helpers for corsgen's unit tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from corsgen.errors import PolicyError
from corsgen.load import load_text
from corsgen.policy import Policy, policy_from_document

# Real edge servers on 127.0.0.1, started once per session (differential, probe and
# hostile-input tests): the fixtures nginx_edge, apache_edge, ... of tests/edge_servers.py.
from tests.edge_servers import EDGE_FIXTURES, upstream  # noqa: F401

globals().update(EDGE_FIXTURES)

REPO = Path(__file__).resolve().parent.parent
POLICIES = Path(__file__).resolve().parent / "policies"


def parse(text: str, filename: str = "policy.yaml") -> Policy:
    """Validate a policy given as YAML text, as if read from ``filename``."""
    path = Path(filename)
    return policy_from_document(load_text(textwrap.dedent(text), path))


def demo_policy(allow_methods: str = "GET, POST") -> str:
    """The policy explain, evaluate and probe are tested on: an exact origin, a wildcard
    subdomain, a wildcard port and a regex, credentials, listed and exposed headers, a max
    age. Keys are on fixed lines: tests name ``policy.yaml:6`` and the like."""
    return textwrap.dedent(
        rf"""
        version: 1
        name: demo
        origins:
          - http://localhost:3000
          - https://app.example.com
          - https://*.example.org
          - http://127.0.0.1:*
        origin_regex:
          - '^https://pr-[0-9]+\.preview\.example\.dev$'
        allow_credentials: true
        allow_methods: [{allow_methods}]
        allow_headers: [Authorization, Content-Type]
        expose_headers: [X-Request-Id]
        max_age: 600
        """
    ).lstrip()


def problems(text: str, filename: str = "policy.yaml") -> list[str]:
    """The formatted problems of an invalid policy (fails the test if it is valid)."""
    with pytest.raises(PolicyError) as caught:
        parse(text, filename)
    return [problem.format(caught.value.path) for problem in caught.value.problems]


def minimal(**extra: str) -> str:
    """A valid policy text with extra top-level keys given as YAML fragments."""
    lines = ["version: 1", "name: test", "origins: [https://app.example.com]"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_policy(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, filename: str = "policy.yaml") -> Path:
        path = tmp_path / filename
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
