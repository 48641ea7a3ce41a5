"""``corsgen probe``'s checks: send the request matrix to a live server, judge each answer.

Sends the request matrix of :mod:`corsgen.matrix` (the policy's own origins, lookalikes,
preflights, requests without Origin) and holds every answer to what
:func:`corsgen.compare.differences` accepts. The run is bounded in request count and
time and never follows redirects; the command (:mod:`corsgen.commands.probe`) refuses
hosts other than this machine's loopback unless ``--allow-remote`` is given.
"""

from __future__ import annotations

import ipaddress
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from corsgen.compare import Observed, differences
from corsgen.evaluate import Request, Verdict, evaluate
from corsgen.policy import Policy

LOOPBACK_NAMES = ("localhost", "localhost.")


def is_loopback_url(url: str) -> bool:
    """Is the URL's host this machine (localhost, 127.0.0.0/8, ::1)?"""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Exchange:
    """One request sent, what the policy says it should get, and what came back."""

    request: Request
    verdict: Verdict
    status: int | None  # None: no answer came
    differences: tuple[str, ...]  # empty: the answer is one the policy allows
    failure: str | None = None  # why no answer came

    @property
    def differs(self) -> bool:
        return self.failure is not None or bool(self.differences)


def exchanges(
    url: str,
    policy: Policy,
    requests: list[Request],
    *,
    timeout: float,
    budget: float,
    insecure: bool,
) -> Iterator[Exchange]:
    """Send each request in turn and judge its answer; stop once ``budget`` seconds are used.

    Fewer exchanges than requests means the time budget ran out.
    """
    deadline = time.monotonic() + budget
    with httpx.Client(
        timeout=timeout, follow_redirects=False, verify=not insecure, trust_env=False
    ) as client:
        for request in requests:
            if time.monotonic() > deadline:
                return
            verdict = evaluate(policy, request)
            try:
                response = client.request(request.method, url, headers=request.header_lines())
            except httpx.HTTPError as exc:
                yield Exchange(request, verdict, None, (), failure=repr(exc))
                continue
            observed = Observed(
                status=response.status_code,
                headers=tuple(response.headers.multi_items()),
                body=response.content,
            )
            yield Exchange(
                request, verdict, response.status_code, tuple(differences(verdict, observed))
            )
