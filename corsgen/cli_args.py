"""What every corsgen command shares: exit codes and the policy-files argument."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corsgen.errors import path_problem

# The exit codes of every command, in one place (README "Exit status", docs/policy.md).
EXIT_OK = 0
# The policy is invalid; for check, lint --strict and probe: not current, not clean, or
# answered otherwise by the server; for init --from-fastapi: cannot be translated.
EXIT_INVALID = 1
EXIT_USAGE = 2  # unknown option, missing or unreadable file, symlink loop
# The output could not be written (out-dir not writable, under a file, disk full); every
# file in the out-dir is as it was. Not 1: the policy is fine, the machine is not.
EXIT_OUTPUT = 3
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, what shells report for an interrupted command
# The reader of stdout went away (`corsgen render ... | head -1`): 128 + SIGPIPE, what
# shells report for `cat big | head -1`, so `set -o pipefail` scripts see the usual code.
EXIT_BROKEN_PIPE = 141


def _existing(paths: list[Path]) -> list[Path]:
    # click's own `exists=True` says "does not exist" for a symlink loop: say what it is.
    for path in paths:
        problem = path_problem(path)
        if problem is not None:
            raise typer.BadParameter(problem)
    return paths


PolicyPaths = Annotated[
    list[Path],
    typer.Argument(
        help="Policy files (YAML), or directories of them (*.yaml, *.yml).",
        readable=True,
        show_default=False,
        callback=_existing,
    ),
]
