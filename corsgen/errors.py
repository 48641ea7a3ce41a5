"""The errors a user sees: every problem of a policy file with where it is, and I/O failures."""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

# A value is shown in full up to this many characters; longer ones are cut, so that a
# 100 kB entry gives a readable one-line message instead of a 200 kB one.
SHOWN_CHARACTERS = 60
_LONG_WORD = re.compile(rf"\S{{{SHOWN_CHARACTERS + 21},}}")


def shorten(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """``text`` itself, or its first ``limit`` characters, '…' and its length."""
    if len(text) <= limit + 20:  # cutting a few characters would not help anyone
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def quoted(text: str) -> str:
    """``repr(text)``, the text cut after ``SHOWN_CHARACTERS`` characters when long."""
    if len(text) <= SHOWN_CHARACTERS + 20:
        return repr(text)
    return f"{text[:SHOWN_CHARACTERS] + '…'!r} ({len(text)} characters)"


def _shorten_word(word: str) -> str:
    if len(word) > 2 and word[0] in "'\"" and word[-1] == word[0]:
        return f"{word[: SHOWN_CHARACTERS + 1]}…{word[0]} ({len(word) - 2} characters)"
    return shorten(word)


def shorten_words(message: str) -> str:
    """``message`` with every very long run of non-blanks (a value in it) shortened."""
    return _LONG_WORD.sub(lambda match: _shorten_word(match.group()), message)


def location(path: Path | str, line: int | None, column: int | None = None) -> str:
    """``path:line[:column]`` (or the path alone): how every message names a place in a file."""
    where = str(path)
    if line is not None:
        where += f":{line}"
        if column is not None:
            where += f":{column}"
    return where


@dataclass(frozen=True)
class Rule:
    """A rule of ``corsgen lint`` or ``corsgen audit``: what each of its findings prints.

    A finding, unlike a :class:`Problem`, is about a file that is valid: it names its
    rule by id and name, and says why the rule matters and how to fix what it found.
    """

    id: str
    name: str
    why: str
    fix: str


@dataclass(frozen=True)
class Problem:
    """One thing wrong at a line of a file: a policy file, or the application it is read from.

    ``entry`` is the offending value or key as the user wrote it (``None`` when the
    problem is the file as a whole); ``message`` says what is wrong and how to fix it.
    Long values are shortened when formatted, in the entry and in the message.
    """

    line: int | None
    entry: str | None
    message: str
    column: int | None = None

    def format(self, path: Path | str) -> str:
        entry = ""
        if self.entry is not None:
            entry = f"entry {quoted(self.entry)}: "
        return f"{location(path, self.line, self.column)}: {entry}{shorten_words(self.message)}"


class PolicyError(Exception):
    """A policy file that cannot be used; carries every problem found, in file order."""

    def __init__(self, path: Path | str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
        super().__init__(self.format())

    def format(self) -> str:
        return "\n".join(problem.format(self.path) for problem in self.problems)


class OutputError(OSError):
    """An output file could not be written; every file is as it was before the run.

    An ``OSError`` (``filename``, ``strerror``), so callers that catch ``OSError`` around
    a write keep working; ``str()`` is the whole sentence.
    """

    def __init__(
        self, path: Path, reason: str, action: str = "write", code: int = errno.EIO
    ) -> None:
        super().__init__(code, reason, str(path))
        self.path = path
        self.reason = reason
        self.action = action

    def __str__(self) -> str:
        return f"cannot {self.action} {self.path}: {self.reason}"


def path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a policy file or folder, or ``None`` when it can."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path}: symlink loop (a link that leads back to itself); fix or remove it"
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return f"{path}: symlink to a missing file ({os.readlink(path)})"
        return f"{path}: {exc.strerror}"
    return None
