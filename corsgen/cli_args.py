"""What every corsgen command shares: exit codes and the policy-files argument."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EXIT_INVALID = 1  # the policy is invalid (or, for check/lint --strict, not current/clean)
EXIT_USAGE = 2  # unknown option, missing or unreadable file

PolicyPaths = Annotated[
    list[Path],
    typer.Argument(
        help="Policy files (YAML), or directories of them (*.yaml, *.yml).",
        exists=True,
        readable=True,
        show_default=False,
    ),
]
