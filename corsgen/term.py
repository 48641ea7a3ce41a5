"""What a person reads in a terminal: colour where it helps, plain text when piped.

Colour follows the usual conventions: only when the stream is a terminal, never with
``NO_COLOR`` set (https://no-color.org), always with ``FORCE_COLOR`` set. ``--quiet``
silences progress and success lines; problems are always printed.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

import typer

from corsgen.errors import PolicyError

_quiet = False


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = quiet


def colour_enabled(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _echo(text: str, err: bool, **style: object) -> None:
    stream = sys.stderr if err else sys.stdout
    if style and colour_enabled(stream):
        text = typer.style(text, **style)  # type: ignore[arg-type]
    typer.echo(text, err=err, color=colour_enabled(stream))


def info(text: str, err: bool = True) -> None:
    """Progress and success lines: dropped with --quiet."""
    if not _quiet:
        _echo(text, err)


def success(text: str) -> None:
    if not _quiet:
        _echo(text, err=False, fg="green")


def problem(text: str) -> None:
    """A problem line (``file:line: entry 'x': ...``): always printed, in red on a terminal."""
    _echo(text, err=True, fg="red")


def report(error: PolicyError) -> None:
    """Every problem of an invalid policy file, then how many there were."""
    for item in error.problems:
        problem(item.format(error.path))
    count = len(error.problems)
    typer.echo(f"corsgen: {error.path}: {count} problem{'s' if count != 1 else ''}.", err=True)


def note(text: str) -> None:
    """Advice the operator must act on (map_hash sizes): printed even with --quiet."""
    _echo(text, err=True, fg="yellow")


def diff(text: str) -> None:
    """A unified diff on stdout, its lines coloured like git's on a terminal."""
    colour = colour_enabled(sys.stdout)
    for line in text.splitlines(keepends=True):
        style: dict[str, object] = {}
        if colour:
            if line.startswith(("+++", "---")):
                style = {"bold": True}
            elif line.startswith("+"):
                style = {"fg": "green"}
            elif line.startswith("-"):
                style = {"fg": "red"}
            elif line.startswith("@@"):
                style = {"fg": "cyan"}
        typer.echo(typer.style(line, **style) if style else line, nl=False, color=colour)  # type: ignore[arg-type]
