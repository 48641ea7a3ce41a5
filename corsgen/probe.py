"""``corsgen probe URL --policy POLICY``: hold a live server to the reference evaluator.

Sends the request matrix of :mod:`corsgen.matrix` (the policy's own origins, lookalikes,
preflights, requests without Origin) and reports every answer that
:func:`corsgen.evaluate.differences` rejects. The run is bounded in request count and
time, never follows redirects, and refuses hosts other than this machine's loopback
unless ``--allow-remote`` is given. Heavy modules are imported inside the command.
"""

from __future__ import annotations

import ipaddress
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from corsgen.evaluate import Request

EXIT_DIFFERENCES = 1
EXIT_USAGE = 2
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


def probe(
    url: Annotated[str, typer.Argument(help="The URL to probe (the API behind the edge).")],
    policy_file: Annotated[
        Path,
        typer.Option(
            "--policy",
            help="The policy file the server is meant to implement.",
            exists=True,
            dir_okay=False,
            readable=True,
            show_default=False,
        ),
    ],
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each answer.")
    ] = 5.0,
    max_requests: Annotated[
        int, typer.Option("--max-requests", min=1, max=2000, help="Send at most this many.")
    ] = 300,
    budget: Annotated[
        float,
        typer.Option("--budget", min=1.0, help="Stop sending after this many seconds in all."),
    ] = 60.0,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow a host other than this machine (localhost, 127.0.0.0/8, ::1).",
        ),
    ] = False,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Do not verify the server's TLS certificate.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print every request, not only differences.")
    ] = False,
) -> None:
    """Check a running server against the policy; exit 1 on any difference.

    Sends the policy's own origins, lookalikes of them, preflights and requests without
    Origin, and reports every answer that differs from what the policy says (or that never
    came). Only this machine's loopback is probed unless --allow-remote is given; redirects
    are never followed.
    """
    split = urllib.parse.urlsplit(url)
    if split.scheme not in ("http", "https") or not split.hostname:
        typer.echo(f"corsgen: {url!r} is not an http:// or https:// URL", err=True)
        raise typer.Exit(EXIT_USAGE)
    if not allow_remote and not is_loopback_url(url):
        typer.echo(
            f"corsgen: refusing to probe {split.hostname!r}: it is not this machine's "
            "loopback (localhost, 127.0.0.0/8, ::1); pass --allow-remote to probe a "
            "server you are responsible for",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE)

    import httpx

    from corsgen.evaluate import Observed, differences, evaluate
    from corsgen.matrix import request_matrix
    from corsgen.sourced import load_sourced

    policy = load_sourced(policy_file).policy
    requests = request_matrix(policy, limit=max_requests)
    deadline = time.monotonic() + budget
    sent = differing = 0
    with httpx.Client(
        timeout=timeout, follow_redirects=False, verify=not insecure, trust_env=False
    ) as client:
        for request in requests:
            if time.monotonic() > deadline:
                typer.echo(
                    f"corsgen: time budget of {budget:g}s used up after {sent} of "
                    f"{len(requests)} requests",
                    err=True,
                )
                break
            sent += 1
            verdict = evaluate(policy, request)
            label = _label(request)
            try:
                response = client.request(request.method, url, headers=request.header_lines())
            except httpx.HTTPError as exc:
                differing += 1
                typer.echo(f"FAIL {label}\n    - no answer: {exc!r}")
                continue
            observed = Observed(
                status=response.status_code,
                headers=tuple(response.headers.multi_items()),
                body=response.content,
            )
            found = differences(verdict, observed)
            if found:
                differing += 1
                typer.echo(f"DIFF {label} -> {response.status_code}")
                expected = ", ".join(f"{k}: {v}" for k, v in verdict.headers.items())
                typer.echo(
                    f"    expected: {verdict.answer.value}; "
                    + (expected or "no Access-Control-* headers")
                    + (" (or another answer the spec allows)" if verdict.either else "")
                )
                for line in found:
                    typer.echo(f"    - {line}")
            elif verbose:
                typer.echo(f"ok   {label} -> {response.status_code}")
    typer.echo(
        f"corsgen probe: {sent} requests to {url}, {differing} differ from {policy_file}",
        err=True,
    )
    if differing:
        raise typer.Exit(EXIT_DIFFERENCES)


def _label(request: Request) -> str:
    parts = [request.method]
    parts += [f"{name}: {value}" for name, value in request.header_lines()]
    if not request.origin:
        parts.append("(no Origin)")
    return " | ".join(parts)
