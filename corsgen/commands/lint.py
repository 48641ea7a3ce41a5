"""``corsgen lint POLICY...``: warn about valid but risky policies (rules in lint_rules.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from corsgen import term
from corsgen.cli_args import EXIT_INVALID, EXIT_USAGE, PolicyPaths
from corsgen.commands import read_sourced


def lint(
    policy_files: PolicyPaths,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when there is any warning (for CI).")
    ] = False,
) -> None:
    """Warn about valid but risky policy entries (rule id, file:line, why, fix).

    Exit 0 (also with warnings, unless --strict), 1 when a policy is invalid or --strict
    found warnings, 2 on usage errors.
    """
    from corsgen.batch import NoPoliciesError, collect
    from corsgen.errors import PolicyError
    from corsgen.lint_rules import lint as lint_policy

    try:
        files = collect(policy_files)
    except NoPoliciesError as exc:
        typer.echo(f"corsgen: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    warnings = 0
    invalid = 0
    for path in files:
        try:
            sourced = read_sourced(path)
        except PolicyError as exc:
            # An invalid file is reported and counted; the other files are still linted.
            term.report(exc)
            invalid += 1
            continue
        findings = lint_policy(sourced.policy, sourced.document)
        for finding in findings:
            typer.echo(finding.format())
        warnings += len(findings)
        if not findings:
            typer.echo(f"{path}: no warnings")
    if len(files) > 1 or warnings:
        typer.echo(
            f"corsgen lint: {warnings} warning{'s' if warnings != 1 else ''} in "
            f"{len(files)} file{'s' if len(files) != 1 else ''}"
            + (f", {invalid} invalid" if invalid else ""),
            err=True,
        )
    if invalid or (strict and warnings):
        raise typer.Exit(EXIT_INVALID)
