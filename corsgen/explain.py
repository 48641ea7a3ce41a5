"""``corsgen explain``: what one request gets under a policy, and which entry decided it.

The answer comes from :func:`corsgen.evaluate.evaluate`, the evaluator the differential
tests hold nginx and Apache to. Heavy modules are imported inside the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from corsgen.evaluate import Request, Verdict
    from corsgen.sourced import Sourced

_SHORT = {
    "edge 204": "204 at the edge",
    "edge 403": "403 at the edge",
    "upstream": "passed upstream",
}
_ANSWERS = {
    "edge 204": "204 No Content, answered at the edge (never reaches the upstream)",
    "edge 403": "403 Forbidden, answered at the edge (never reaches the upstream)",
    "upstream": "passed to the upstream; its status is kept and these headers are set on it",
}


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
    from corsgen.sourced import load_sourced

    sourced = load_sourced(policy_file)
    wanted = (method or "GET").upper()
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


def _where(sourced: Sourced, verdict: Verdict) -> str:
    match = verdict.origin
    if match.field is None:
        return ""
    return f" ({sourced.where(match.field, match.entry)})"


def describe(sourced: Sourced, request: Request, verdict: Verdict) -> list[str]:
    """The human-readable explanation, line by line."""
    kind = "preflight" if request.is_preflight else "not a preflight"
    if request.method == "OPTIONS" and not request.is_preflight:
        kind += ": OPTIONS needs Origin and Access-Control-Request-Method to be one"
    lines = [f"Request:  {request.method} ({kind})"]
    lines += [f"          {name}: {value}" for name, value in request.header_lines()]
    lines.append(f"Answer:   {_ANSWERS[verdict.answer.value]}")
    match = verdict.origin
    state = "allowed" if match.allowed else "not allowed"
    if match.either:
        state = "server's choice"
    lines.append(f"Origin:   {state}: {match.reason}{_where(sourced, verdict)}")
    if (
        not match.allowed
        and match.entry
        and match.field is None
        and sourced.sources.origin_line(match.entry) is not None
    ):
        lines.append(
            f"          nearest entry: {match.entry!r} ({sourced.where('origins', match.entry)})"
        )
    lines.append("Headers:")
    shown = [*verdict.headers.items()]
    vary = ", ".join(verdict.vary)
    if vary:
        merged = " (merged with the upstream's own Vary)" if verdict.status is None else ""
        shown.append(("Vary", vary + merged))
    elif verdict.vary_optional:
        shown.append(("Vary", f"{', '.join(verdict.vary_optional)} optional"))
    if not verdict.headers:
        lines.append("          (no Access-Control-* headers)")
    lines += [f"          {name}: {value}" for name, value in shown]
    for alternative in verdict.alternatives:
        lines.append(
            f"Or:       {_SHORT[alternative.answer.value]}, with "
            + (
                ", ".join(f"{name}: {value}" for name, value in alternative.headers.items())
                or "no Access-Control-* headers"
            )
            + " (spec: the server may choose)"
        )
    lines += [f"Browser:  {note}" for note in verdict.notes]
    return lines


def verdict_json(sourced: Sourced, request: Request, verdict: Verdict) -> dict:
    """The verdict as plain data (``--json``)."""

    def one(item: Verdict) -> dict:
        return {
            "answer": item.answer.value,
            "status": item.status,
            "headers": item.headers,
            "vary": list(item.vary),
            "vary_optional": list(item.vary_optional),
        }

    match = verdict.origin
    return {
        "request": {"method": request.method, "headers": dict(request.header_lines())},
        "preflight": verdict.preflight,
        **one(verdict),
        "origin": {
            "allowed": match.allowed,
            "either": match.either,
            "entry": match.entry,
            "field": match.field,
            "where": sourced.where(match.field, match.entry) if match.field else None,
            "reason": match.reason,
        },
        "either": verdict.either,
        "alternatives": [one(alternative) for alternative in verdict.alternatives],
        "notes": list(verdict.notes),
    }
