"""Skip or fail: the one place that decides what a missing server, image or browser means.

A developer without nginx, Apache, Docker or Chromium sees one skip line saying how to
install it; CI (``CI=true``) fails instead, so a green CI run never hides a skipped edge.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

from edgeharness.targets import Target


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(message: str) -> NoReturn:
    """Skip the test with ``message``, or fail it under ``CI=true``."""
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require(available: bool, message: str) -> None:
    """:func:`unavailable` unless ``available``."""
    if not available:
        unavailable(message)


def require_installed(*targets: Target) -> None:
    """Each target's server binary on this host (skip or fail as above)."""
    for target in targets:
        require(target.installed(), target.missing_message())


def skip_unless_available(message: str | None) -> pytest.MarkDecorator:
    """A collection-time skip when ``message`` says what is missing (None: nothing is).

    A marker rather than :func:`unavailable` in a fixture makes ``-ra`` fold the skips
    into one line per file. Under ``CI=true`` it skips nothing: the fixture that needs
    the missing piece calls :func:`unavailable` and fails.
    """
    return pytest.mark.skipif(message is not None and not in_ci(), reason=message or "")
