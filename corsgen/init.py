"""``corsgen init``: write a commented starter policy, or one translated from FastAPI.

The translation itself is :mod:`corsgen.from_fastapi`; this module holds the starter
policy and the command. Whatever is written has been validated first, exactly as
``corsgen render`` will read it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from corsgen.cli_args import EXIT_INVALID, EXIT_OUTPUT, EXIT_USAGE

if TYPE_CHECKING:
    from corsgen.policy import Policy

DEFAULT_PATH = Path("cors-policy.yaml")
FALLBACK_NAME = "api"
EXIT_UNTRANSLATABLE = EXIT_INVALID

_NAME_CHARACTERS = re.compile(r"[^a-z0-9_-]+")


# --- names and the starter policy ---------------------------------------------------------


def default_name(path: Path) -> str:
    """A valid policy name from a file name: ``My API.yaml`` → ``my-api``."""
    name = _NAME_CHARACTERS.sub("-", path.stem.lower())
    name = name.lstrip("0123456789_-")[:63].rstrip("-_")
    return name or FALLBACK_NAME


def check_name(name: str) -> str | None:
    """Why ``name`` is not a valid policy name, or None when it is."""
    from corsgen.policy import NAME_PATTERN

    if NAME_PATTERN.match(name):
        return None
    return (
        f"{name!r} is not a valid policy name: a lower-case letter followed by up to 62 "
        "of a-z 0-9 _ -"
    )


STARTER = """\
# CORS policy for corsgen (policy file version 1). Every key, default and rule:
# docs/policy.md in the corsgen sources. Render it with:
#   corsgen render {filename} --target nginx --out-dir cors/    (or --target apache)
# and keep the snippets current in CI with:
#   corsgen check {filename} --target nginx --out-dir cors/
version: 1
name: {name}

# The pages allowed to call this API, as the browser sends them in Origin:
# scheme://host[:port], no path. Other forms:
#   - https://*.example.org     any subdomain of example.org (not example.org itself)
#   - http://127.0.0.1:*        any port, or none
#   - capacitor://localhost     app webviews and browser extensions
#   - "*"                       alone: any origin (never with allow_credentials: true)
origins:
  - https://app.example.com
  - http://localhost:3000

# Regular expressions, each matched against the whole Origin (escape the dots):
# origin_regex:
#   - '^https://pr-[0-9]+\\.preview\\.example\\.com$'

# true when pages send cookies or HTTP authentication (fetch credentials: "include").
allow_credentials: false

# The methods a preflight may ask for; "*" = DELETE GET HEAD OPTIONS PATCH POST PUT.
allow_methods: [GET, HEAD, POST]

# The request headers a page may set, e.g. [Authorization, Content-Type];
# "*" allows whatever the preflight asks for. Content-Type: a fetch() that sends
# JSON sets it, and its preflight fails without it.
allow_headers: [Content-Type]

# The response headers a page may read besides the always-readable ones,
# e.g. [X-Request-Id].
expose_headers: []

# Seconds (0 to 86400) a browser may reuse a preflight answer; browsers cap it
# (Chromium 7200, Firefox 86400, Safari 600).
max_age: 600

# Legacy: true answers Private Network Access preflights of older Chrome (a public
# page calling this API on a private address). Chrome 142+ uses Local Network Access
# instead: a secure (https) page and the user's permission, no preflight.
allow_private_network: false

# true answers requests from origins that are not allowed with 403 at the edge;
# false passes them on, without CORS headers.
block_disallowed_origins: false
"""


def yaml_name(name: str) -> str:
    """A valid policy name as a YAML scalar: ``null``, ``true`` and ``false`` need quotes."""
    return f'"{name}"' if name in ("null", "true", "false") else name


def starter_policy(name: str, filename: str) -> str:
    """The text of the commented starter policy."""
    # The file name only appears in comments; one that would end a comment is not shown.
    if not filename.isprintable():
        filename = "POLICY"
    return STARTER.format(name=yaml_name(name), filename=filename)


def load_policy_text(text: str, path: Path) -> Policy:
    """Validate a policy's text exactly as ``corsgen render`` will read it from ``path``."""
    from corsgen.load import load_text
    from corsgen.policy import policy_from_document

    return policy_from_document(load_text(text, path))


# --- the command --------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    from corsgen.output import write_files

    write_files({path.name: text}, path.parent)


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
            raise typer.Exit(EXIT_UNTRANSLATABLE) from None
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
        _write(path, text)
    except OSError as exc:
        typer.echo(f"corsgen: cannot write {path}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_OUTPUT) from None
    typer.echo(f"wrote {path} (policy {policy_name!r})", err=True)
    typer.echo(f"next: corsgen render {path} --target nginx --out-dir cors/")


__all__ = ["default_name", "init_command", "load_policy_text", "starter_policy", "yaml_name"]
