"""``corsgen init``: write a commented starter policy, or one translated from FastAPI.

The starter policy is :mod:`corsgen.init`, the translation :mod:`corsgen.from_fastapi`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer

from corsgen.cli_args import EXIT_INVALID, EXIT_OUTPUT, EXIT_USAGE
from corsgen.commands import file_option

DEFAULT_PATH = Path("cors-policy.yaml")
# Where --from-ingress-nginx writes when no PATH is given: one file per policy.
INGRESS_FOLDER = Path("cors-policies")


def init_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="Where to write the policy (with --from-ingress-nginx: the folder).",
            show_default=True,
        ),
    ] = DEFAULT_PATH,
    from_fastapi: Annotated[
        Optional[Path],  # noqa: UP045 - typer inspects the annotation at run time
        file_option(
            "--from-fastapi",
            help="Translate the app.add_middleware(CORSMiddleware, ...) of this Python "
            "file (read, never run) instead of writing the starter policy.",
        ),
    ] = None,
    from_ingress_nginx: Annotated[
        Optional[Path],  # noqa: UP045
        file_option(
            "--from-ingress-nginx",
            help="Translate the nginx.ingress.kubernetes.io/cors-* annotations of the "
            "Ingress manifests in this file, defaults made explicit; PATH is then a folder "
            "(default: cors-policies), one policy per distinct set, named after its Ingress.",
        ),
    ] = None,
    from_httproute: Annotated[
        Optional[Path],  # noqa: UP045
        file_option(
            "--from-httproute",
            help="Translate the CORS filter of the Gateway API HTTPRoute manifests in this "
            "file (or a filter rendered by corsgen).",
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

    if sum(source is not None for source in (from_fastapi, from_ingress_nginx, from_httproute)) > 1:
        typer.echo(
            "corsgen: --from-fastapi, --from-ingress-nginx and --from-httproute exclude "
            "each other; translate one source at a time",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE)
    if from_ingress_nginx is not None:
        _init_from_ingress_nginx(from_ingress_nginx, path, name, force)
        return
    if path.is_dir():
        # Typer's dir_okay would refuse the folder --from-ingress-nginx writes into.
        typer.echo(f"corsgen: {path} is a folder; name the policy file to write", err=True)
        raise typer.Exit(EXIT_USAGE)
    policy_name = name if name is not None else default_name(path)
    invalid_name = check_name(policy_name)
    if invalid_name:
        typer.echo(f"corsgen: --name: {invalid_name}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if path.exists() and not force:
        typer.echo(f"corsgen: {path} already exists; pass --force to overwrite it", err=True)
        raise typer.Exit(EXIT_USAGE)
    notes: list[str] = []
    if from_httproute is not None:
        from corsgen.from_httproute import translate_httproute

        source = _read(from_httproute)
        try:
            route_translation = translate_httproute(source, from_httproute, path, policy_name)
        except PolicyError as exc:
            _untranslatable(exc, from_httproute, "the CORS filter")
        text = route_translation.text
        notes = route_translation.notes
    elif from_fastapi is None:
        text = starter_policy(policy_name, path.name)
        try:
            load_policy_text(text, path)
        except PolicyError as exc:  # pragma: no cover - the starter is tested to validate
            raise AssertionError(f"the starter policy does not validate:\n{exc}") from None
    else:
        from corsgen.from_fastapi import TranslationError, translate_fastapi

        try:
            translation = translate_fastapi(_read(from_fastapi), from_fastapi, path, policy_name)
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


def _read(source: Path) -> str:
    try:
        return source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"corsgen: cannot read {source}: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _untranslatable(exc: Exception, source: Path, what: str) -> NoReturn:
    typer.echo(str(exc), err=True)
    typer.echo(
        f"corsgen: {source}: {what} cannot be translated as written; nothing was written.",
        err=True,
    )
    raise typer.Exit(EXIT_INVALID) from None


def _init_from_ingress_nginx(source: Path, path: Path, name: str | None, force: bool) -> None:
    """One policy per distinct annotation set, written into the folder ``path``; linted."""
    from corsgen.errors import PolicyError
    from corsgen.from_ingress_nginx import translate_ingress_nginx
    from corsgen.lint_rules import lint
    from corsgen.load import load_text
    from corsgen.output import write_files

    if name is not None:
        typer.echo(
            "corsgen: --name does not apply to --from-ingress-nginx: each policy is named "
            "after its Ingress",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE)
    folder = INGRESS_FOLDER if path == DEFAULT_PATH else path
    try:
        translations = translate_ingress_nginx(_read(source), source, folder)
    except PolicyError as exc:
        _untranslatable(exc, source, "the cors-* annotations")
    files = {f"{t.name}.yaml": t.text for t in translations}
    existing = [folder / file for file in files if (folder / file).exists()]
    if existing and not force:
        typer.echo(
            f"corsgen: {', '.join(map(str, existing))} already exist(s); pass --force to overwrite",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE)
    for translation in translations:
        for note in translation.notes:
            typer.echo(f"corsgen: note: {note}", err=True)
    try:
        write_files(files, folder)
    except OSError as exc:
        typer.echo(f"corsgen: cannot write into {folder}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_OUTPUT) from None
    for translation in translations:
        written = folder / f"{translation.name}.yaml"
        typer.echo(f"wrote {written} (policy {translation.name!r})", err=True)
        # The defaults ingress-nginx applied silently are risky: say what lint says.
        for finding in lint(translation.policy, load_text(translation.text, written)):
            typer.echo(f"corsgen: lint: {finding.format()}", err=True)
    typer.echo(f"next: corsgen render {folder} --target gateway-api --out-dir cors/")
