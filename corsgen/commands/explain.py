"""``corsgen explain``: what one request gets under a policy, and which entry decided it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from corsgen.commands import load_sourced_or_exit


def explain(
    policy_file: Annotated[
        Path,
        typer.Argument(
            help="The policy file (YAML).",
            exists=True,
            dir_okay=False,
            readable=True,
            show_default=False,
        ),
    ],
    origin: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer inspects the annotation at run time
        typer.Option(
            "--origin",
            help="The request's Origin header (omit for none); repeat it to send several "
            "Origin lines, as no browser does.",
        ),
    ] = None,
    method: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--method",
            help="The request method; with --preflight, the method the browser asks for "
            "(Access-Control-Request-Method). Default GET.",
        ),
    ] = None,
    header: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--header",
            help="A header the browser asks to send (Access-Control-Request-Headers); "
            "repeat for several. Implies nothing without --preflight.",
        ),
    ] = None,
    preflight: Annotated[
        bool,
        typer.Option("--preflight", help="Explain the OPTIONS preflight instead."),
    ] = False,
    private_network: Annotated[
        bool,
        typer.Option(
            "--private-network",
            help="The preflight carries Access-Control-Request-Private-Network: true.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Print what one request gets under a policy, and which entry decided it.

    Shows the verdict (answered at the edge with 204 or 403, or passed upstream), every
    Access-Control-* header and Vary, and the origins / origin_regex entry that matched
    the Origin with its file:line — or why none did.
    """
    from corsgen.evaluate import Request, evaluate
    from corsgen.explain import describe, verdict_json
    from corsgen.policy import normalise_method

    sourced = load_sourced_or_exit(policy_file)
    # As fetch() sends it: only the six standard methods are upper-cased (spec section 1).
    wanted = normalise_method(method or "GET")
    headers = ", ".join(header) if header else None
    first, *more = origin or [None]
    if preflight:
        request = Request(
            "OPTIONS",
            first,
            wanted,
            headers,
            "true" if private_network else None,
            more_origins=tuple(more),
        )
    else:
        request = Request(wanted, first, more_origins=tuple(more))
    verdict = evaluate(sourced.policy, request)
    if as_json:
        typer.echo(json.dumps(verdict_json(sourced, request, verdict), indent=2))
        return
    for line in describe(sourced, request, verdict):
        typer.echo(line)
