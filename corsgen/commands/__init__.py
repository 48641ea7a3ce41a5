"""The commands beside render/validate/check: explain, lint, probe and init.

With :mod:`corsgen.cli`, :mod:`corsgen.cli_args` and :mod:`corsgen.term` this is the
command-line layer, the only code that imports typer, prints or exits
(docs/architecture.md). Each command reads its options, calls the safety net or the
pipeline below, and turns the result into lines and an exit code. The modules below are
imported inside the commands, so that ``corsgen --version`` does not load pydantic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from corsgen import term
from corsgen.cli_args import EXIT_INVALID, EXIT_USAGE

if TYPE_CHECKING:
    from corsgen.sourced import Sourced


def file_option(flag: str, help: str, **more: Any) -> Any:
    """A ``--flag FILE`` option that click checks before the command runs.

    A missing file, a folder or an unreadable file is refused with click's usage error
    (exit 2) naming the option, the same way for every command that reads one file.
    """
    return typer.Option(flag, help=help, exists=True, dir_okay=False, readable=True, **more)


def read_sourced(path: Path) -> Sourced:
    """Load and validate ``path``; exit 2 when it cannot be read, raise ``PolicyError``."""
    from corsgen.sourced import load_sourced

    try:
        return load_sourced(path)
    except OSError as exc:
        typer.echo(f"corsgen: cannot read {path}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def load_sourced_or_exit(path: Path) -> Sourced:
    """Load and validate ``path``; when it is invalid, print why and exit 1."""
    from corsgen.errors import PolicyError

    try:
        return read_sourced(path)
    except PolicyError as exc:
        term.report(exc)
        raise typer.Exit(EXIT_INVALID) from None
