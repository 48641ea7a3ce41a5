"""The one error type a user sees: every problem of a policy file, with where it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy file.

    ``entry`` is the offending value or key as the user wrote it (``None`` when the
    problem is the file as a whole); ``message`` says what is wrong and how to fix it.
    """

    line: int | None
    entry: str | None
    message: str
    column: int | None = None

    def format(self, path: Path | str) -> str:
        where = str(path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        entry = f"entry {self.entry!r}: " if self.entry is not None else ""
        return f"{where}: {entry}{self.message}"


class PolicyError(Exception):
    """A policy file that cannot be used; carries every problem found, in file order."""

    def __init__(self, path: Path | str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
        super().__init__(self.format())

    def format(self) -> str:
        return "\n".join(problem.format(self.path) for problem in self.problems)
