"""What ``corsgen explain`` says: one request's verdict as lines or JSON, with file:line.

The verdict comes from :func:`corsgen.evaluate.evaluate`, the evaluator the differential
tests hold nginx and Apache to; the command is :mod:`corsgen.commands.explain`.
"""

from __future__ import annotations

from corsgen.evaluate import Request, Verdict
from corsgen.sourced import Sourced

_SHORT = {
    "edge 204": "204 at the edge",
    "edge 403": "403 at the edge",
    "server 400": "400 from nginx's request parser",
    "upstream": "passed upstream",
}
_ANSWERS = {
    "edge 204": "204 No Content, answered at the edge (never reaches the upstream)",
    "edge 403": "403 Forbidden, answered at the edge (never reaches the upstream)",
    "server 400": "400 Bad Request from the server itself, before any configuration runs",
    "upstream": "passed to the upstream; its status is kept and these headers are set on it",
}


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
