"""The harness never hands one port to two servers of one test run."""

from __future__ import annotations

from edgeharness.net import free_port


def test_free_port_never_repeats_itself() -> None:
    # bind(0) alone repeats ports within a few hundred calls (measured: 200 calls, 198
    # distinct); two sites of one nginx config on one port answered each other's requests.
    ports = [free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)
