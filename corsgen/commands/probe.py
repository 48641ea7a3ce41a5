"""``corsgen probe URL --policy POLICY``: hold a live server to the reference evaluator.

The requests and the judging are :mod:`corsgen.probe`; this command checks the URL,
refuses hosts other than this machine's loopback unless ``--allow-remote`` is given, and
prints every answer that differs.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from corsgen.cli_args import EXIT_INVALID, EXIT_USAGE
from corsgen.commands import file_option, load_sourced_or_exit

if TYPE_CHECKING:
    from corsgen.evaluate import Request


def probe(
    url: Annotated[str, typer.Argument(help="The URL to probe (the API behind the edge).")],
    policy_file: Annotated[
        Path,
        file_option(
            "--policy", "The policy file the server is meant to implement.", show_default=False
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
    from corsgen.matrix import request_matrix
    from corsgen.probe import exchanges, is_loopback_url

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

    policy = load_sourced_or_exit(policy_file).policy
    requests = request_matrix(policy, limit=max_requests)
    sent = differing = 0
    for exchange in exchanges(
        url, policy, requests, timeout=timeout, budget=budget, insecure=insecure
    ):
        sent += 1
        differing += exchange.differs
        label = _label(exchange.request)
        verdict = exchange.verdict
        if exchange.failure is not None:
            typer.echo(f"FAIL {label}\n    - no answer: {exchange.failure}")
        elif exchange.differences:
            typer.echo(f"DIFF {label} -> {exchange.status}")
            expected = ", ".join(f"{k}: {v}" for k, v in verdict.headers.items())
            typer.echo(
                f"    expected: {verdict.answer.value}; "
                + (expected or "no Access-Control-* headers")
                + (" (or another answer the spec allows)" if verdict.either else "")
            )
            for line in exchange.differences:
                typer.echo(f"    - {line}")
        elif verbose:
            typer.echo(f"ok   {label} -> {exchange.status}")
    if sent < len(requests):
        typer.echo(
            f"corsgen: time budget of {budget:g}s used up after {sent} of {len(requests)} requests",
            err=True,
        )
    typer.echo(
        f"corsgen probe: {sent} requests to {url}, {differing} differ from {policy_file}",
        err=True,
    )
    if differing:
        raise typer.Exit(EXIT_INVALID)


def _label(request: Request) -> str:
    parts = [request.method]
    parts += [f"{name}: {value}" for name, value in request.header_lines()]
    if not request.origin:
        parts.append("(no Origin)")
    return " | ".join(parts)
