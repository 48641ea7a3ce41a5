"""A policy together with the file it came from, so messages can name an entry's line.

``corsgen lint`` and ``corsgen explain`` point at ``file:line`` for the entry they talk
about; :func:`corsgen.load.load_file` keeps the line of every key and list item, and
:class:`Sources` maps a normalised entry back to the raw item the user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corsgen.load import Document, load_file
from corsgen.origins import OriginSyntaxError, parse_origin
from corsgen.policy import Policy, policy_from_document


def normalised_origin(raw: str) -> str | None:
    """The normalised text of a raw ``origins`` item, or ``None`` when it is invalid."""
    try:
        return parse_origin(raw).text
    except OriginSyntaxError:
        return None


class Sources:
    """The raw YAML lists of a loaded file, to find the line an entry was written on."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.data: dict[str, Any] = document.data if isinstance(document.data, dict) else {}

    def raw_list(self, key: str) -> list[tuple[Any, int | None]]:
        """Each raw item of a list key with its line (``"*"`` shorthand as one item)."""
        value = self.data.get(key)
        if value == "*":
            return [("*", self.document.line_of((key,)))]
        if not isinstance(value, list):
            return []
        return [(item, self.document.line_of((key, index))) for index, item in enumerate(value)]

    def line_of_key(self, key: str) -> int | None:
        return self.document.lines.get((key,))

    def origin_line(self, normalised: str) -> int | None:
        """The line of the first raw ``origins`` item that normalises to ``normalised``."""
        for raw, line in self.raw_list("origins"):
            if isinstance(raw, str) and (raw == normalised or normalised_origin(raw) == normalised):
                return line
        return self.line_of_key("origins")

    def regex_line(self, regex: str) -> int | None:
        for raw, line in self.raw_list("origin_regex"):
            if raw == regex:
                return line
        return self.line_of_key("origin_regex")


@dataclass(frozen=True)
class Sourced:
    """A valid policy, its loaded document and where its entries are."""

    policy: Policy
    document: Document

    @property
    def path(self) -> Path:
        return self.document.path

    @property
    def sources(self) -> Sources:
        return Sources(self.document)

    def where(self, field: str | None, entry: str | None) -> str:
        """``file:line`` of an entry (``field`` is ``origins`` or ``origin_regex``)."""
        line = None
        if field == "origins" and entry is not None:
            line = self.sources.origin_line(entry)
        elif field == "origin_regex" and entry is not None:
            line = self.sources.regex_line(entry)
        return f"{self.path}:{line}" if line is not None else str(self.path)


def load_sourced(path: Path) -> Sourced:
    """Load and validate ``path``; raises ``PolicyError`` or ``OSError``."""
    document = load_file(path)
    return Sourced(policy_from_document(document), document)
