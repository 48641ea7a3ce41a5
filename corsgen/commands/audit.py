"""``corsgen audit PATH...``: CORS mistakes in existing nginx and Apache configs."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from corsgen import term
from corsgen.cli_args import EXIT_INVALID, EXIT_OK, EXIT_USAGE


class Server(str, Enum):
    auto = "auto"
    nginx = "nginx"
    apache = "apache"


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"


class FailOn(str, Enum):
    warning = "warning"
    error = "error"
    never = "never"


def audit(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="nginx or Apache config files, or folders (/etc/nginx, /etc/apache2).",
            exists=True,
            show_default=False,
        ),
    ],
    server: Annotated[
        Server, typer.Option("--server", help="Which server the files are for (auto: guess).")
    ] = Server.auto,
    output_format: Annotated[
        Format,
        typer.Option("--format", "-f", help="text for people, json, or sarif (code scanning)."),
    ] = Format.text,
    policies: Annotated[
        Optional[list[Path]],  # noqa: UP045 - typer inspects the annotation at run time
        typer.Option(
            "--policies",
            help="Policy files or folders: report generated files rendered from an older "
            "version of their policy. May be given twice.",
            show_default=False,
        ),
    ] = None,
    suggest_policy: Annotated[
        bool,
        typer.Option(
            "--suggest-policy",
            help="Print, instead of the findings, the corsgen policy each hand-written "
            "allow-list amounts to (exit 1 when none is recognised).",
        ),
    ] = False,
    fail_on: Annotated[
        FailOn,
        typer.Option("--fail-on", help="Exit 1 on findings of this severity or worse."),
    ] = FailOn.warning,
) -> None:
    """Find CORS mistakes in nginx and Apache configs (rule id, file:line, why, fix).

    Includes are followed as the server follows them. Silence one finding on purpose with
    a `# corsgen: ignore[CORS101]` comment on its line or the line above. Exit 0 when
    clean, 1 on findings at or above --fail-on or a file that cannot be parsed, 2 on
    usage errors.
    """
    from corsgen.audit import Severity, audit_paths
    from corsgen.audit.report import as_json, as_sarif, shown_path

    digests = None if policies is None else _policy_digests(policies)
    result = audit_paths(paths, None if server is Server.auto else server.value, digests)
    for note in result.notes:
        term.note(f"corsgen: note: {note}")
    for problem in result.problems:
        term.problem(f"corsgen: {problem}")
    if suggest_policy:
        typer.echo("\n".join(suggestion.text() for suggestion in result.suggestions), nl=False)
        if not result.suggestions:
            typer.echo("corsgen: no hand-written allow-list recognised", err=True)
        raise typer.Exit(EXIT_OK if result.suggestions else EXIT_INVALID)
    if output_format is Format.json:
        typer.echo(json.dumps(as_json(result.findings), indent=2))
    elif output_format is Format.sarif:
        typer.echo(json.dumps(as_sarif(result.findings), indent=2))
    else:
        colour = term.colour_enabled(sys.stdout)
        current: Path | None = None
        for item in result.findings:
            if item.path != current:
                current = item.path
                heading = shown_path(item.path)
                typer.echo(typer.style(heading, bold=True) if colour else heading, color=colour)
            first, *rest = item.format().splitlines()
            style = "red" if item.severity is Severity.error else "yellow"
            typer.echo("  " + (typer.style(first, fg=style) if colour else first), color=colour)
            for line in rest:
                typer.echo("  " + line)
        counts = {
            severity: sum(1 for f in result.findings if f.severity is severity)
            for severity in Severity
        }
        summary = ", ".join(f"{n} {s.value}{'s' if n != 1 else ''}" for s, n in counts.items())
        files = len(result.files)
        term.info(f"corsgen audit: {summary} in {files} file{'s' if files != 1 else ''}")
    threshold: Optional[Severity] = (  # noqa: UP045
        None if fail_on is FailOn.never else Severity(fail_on.value)
    )
    failing = threshold is not None and any(
        item.severity.rank >= threshold.rank for item in result.findings
    )
    raise typer.Exit(EXIT_INVALID if failing or result.problems else EXIT_OK)


def _policy_digests(paths: list[Path]) -> dict[str, str]:
    """Each policy's sha256 by name (what a generated file's banner records), or exit 1
    after every problem of an invalid policy (the audit would compare against nothing)."""
    from corsgen.batch import NoPoliciesError, collect, load_all

    try:
        loaded = load_all(collect(paths))
    except NoPoliciesError as exc:
        typer.echo(f"corsgen: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    for error in loaded.errors:
        term.report(error)
    if loaded.errors:
        raise typer.Exit(EXIT_INVALID)
    return {policy.name: policy.digest() for policy in loaded.policies}
