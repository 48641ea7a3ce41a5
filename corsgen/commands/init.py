"""``corsgen init``: write a commented starter policy, or one translated from FastAPI.

The starter policy is :mod:`corsgen.init`, the translation :mod:`corsgen.from_fastapi`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from corsgen.cli_args import EXIT_INVALID, EXIT_OUTPUT, EXIT_USAGE

DEFAULT_PATH = Path("cors-policy.yaml")


def init_command(
    path: Annotated[
        Path,
        typer.Argument(help="Where to write the policy.", dir_okay=False, show_default=True),
    ] = DEFAULT_PATH,
    from_fastapi: Annotated[
        Optional[Path],  # noqa: UP045 - typer inspects the annotation at run time
        typer.Option(
            "--from-fastapi",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Translate the app.add_middleware(CORSMiddleware, ...) of this Python "
            "file (read, never run) instead of writing the starter policy.",
        ),
    ] = None,
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--name", help="The policy's name (default: from the file name)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the file if it exists.")
    ] = False,
) -> None:
    """Write a commented starter policy, or translate a FastAPI CORSMiddleware into one.

    The written policy always validates; when something cannot be translated, the
    reasons are printed with their lines and nothing is written.
    """
    from corsgen.errors import PolicyError
    from corsgen.init import check_name, default_name, load_policy_text, starter_policy
    from corsgen.output import write_files

    policy_name = name if name is not None else default_name(path)
    invalid_name = check_name(policy_name)
    if invalid_name:
        typer.echo(f"corsgen: --name: {invalid_name}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if path.exists() and not force:
        typer.echo(f"corsgen: {path} already exists; pass --force to overwrite it", err=True)
        raise typer.Exit(EXIT_USAGE)
    notes: list[str] = []
    if from_fastapi is None:
        text = starter_policy(policy_name, path.name)
        try:
            load_policy_text(text, path)
        except PolicyError as exc:  # pragma: no cover - the starter is tested to validate
            raise AssertionError(f"the starter policy does not validate:\n{exc}") from None
    else:
        from corsgen.from_fastapi import TranslationError, translate_fastapi

        try:
            source = from_fastapi.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            typer.echo(f"corsgen: cannot read {from_fastapi}: {exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        try:
            translation = translate_fastapi(source, from_fastapi, path, policy_name)
        except TranslationError as exc:
            typer.echo(exc.format(), err=True)
            typer.echo(
                f"corsgen: {from_fastapi}: the CORS settings cannot be translated as they "
                "are; nothing was written.",
                err=True,
            )
            raise typer.Exit(EXIT_INVALID) from None
        text = translation.text
        notes = [
            *translation.notes,
            f"the CORSMiddleware at {from_fastapi}:{translation.line} may stay: the "
            "snippets answer preflights at the edge and hide the application's own "
            "CORS headers (see docs/migrating-from-fastapi.md)",
        ]
    for note in notes:
        typer.echo(f"corsgen: note: {note}", err=True)
    try:
        write_files({path.name: text}, path.parent)
    except OSError as exc:
        typer.echo(f"corsgen: cannot write {path}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_OUTPUT) from None
    typer.echo(f"wrote {path} (policy {policy_name!r})", err=True)
    typer.echo(f"next: corsgen render {path} --target nginx --out-dir cors/")
