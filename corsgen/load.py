"""Read a policy file into plain Python data, remembering the line of every key and item.

PyYAML (with libyaml when available) composes the node tree, which carries positions;
this module turns it into dicts, lists and scalars itself so that it can

* resolve plain scalars by the YAML 1.2 core schema (``yes``/``on`` stay strings, so
  ``allow_credentials: yes`` is a type error rather than a silent ``true``),
* refuse anchors/aliases (a billion-laughs file stays small) and duplicate keys,
* bound nesting depth before composing (a deeply nested file cannot exhaust the stack).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from corsgen.errors import PolicyError, Problem

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A policy file is two levels deep; anything far deeper is not a policy.
MAX_DEPTH = 16

Location = tuple[str | int, ...]

# YAML 1.2 core schema, for plain (unquoted) scalars only.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


@dataclass(frozen=True)
class Document:
    """A loaded policy file: its data and the 1-based line of every key and list item."""

    path: Path
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int | None:
        """The line of ``location``, or of its nearest enclosing key or item."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:end]))
            if line is not None:
                return line
        return None


def load_text(text: str, path: Path) -> Document:
    """Parse ``text`` (the contents of ``path``) into a :class:`Document`."""
    try:
        _check_depth(text, path)
        root = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:
        raise PolicyError(path, [_unacceptable_character(text, exc)]) from None
    except yaml.MarkedYAMLError as exc:
        tab = _tab_indentation(text, exc)
        if tab is not None:
            raise PolicyError(path, [tab]) from None
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        problem = Problem(
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            entry=None,
            message=f"YAML syntax error: {message} (fix the YAML syntax at this position)",
        )
        raise PolicyError(path, [problem]) from None
    except yaml.YAMLError as exc:
        raise PolicyError(path, [Problem(None, None, f"YAML error: {exc}")]) from None
    if root is None:
        raise PolicyError(
            path, [Problem(1, None, "the file is empty (start it with 'version: 1')")]
        )
    builder = _Builder(path)
    data = builder.build(root, ())
    return Document(path=path, data=data, lines=builder.lines)


def load_file(path: Path) -> Document:
    """Read and parse a policy file. ``OSError`` propagates (a usage error, not a policy one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problem = Problem(
            None,
            None,
            f"the file is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8",
        )
        raise PolicyError(path, [problem]) from None
    return load_text(text, path)


def _position(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of character ``index`` of ``text``."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _unacceptable_character(text: str, error: yaml.reader.ReaderError) -> Problem:
    # PyYAML's reader refuses control characters with only a character offset ("position
    # 10"), which nobody can find in an editor: name the line and column instead.
    line, column = _position(text, error.position)
    code = error.character if isinstance(error.character, int) else ord(error.character)
    what = "a NUL byte" if code == 0 else f"the control character U+{code:04X}"
    return Problem(
        line,
        None,
        f"{what} is not allowed in a YAML file (delete it; editors often show it as "
        "nothing at all)",
        column=column,
    )


# Indentation that starts with, or contains, a tab before the first other character.
_TAB_INDENT = re.compile(r"^ *\t[ \t]*\S")


def _tab_indentation(text: str, error: yaml.MarkedYAMLError) -> Problem | None:
    """A tab used for indentation on or before the line of a syntax error, if any.

    YAML forbids tabs in indentation; PyYAML then says "found character that cannot
    start any token", which does not say why. Editors hide the difference, so name it.
    """
    mark = error.problem_mark or error.context_mark
    last = mark.line if mark else None
    for number, line in enumerate(text.split("\n")):
        if last is not None and number > last:
            break
        if _TAB_INDENT.match(line):
            return Problem(
                number + 1,
                None,
                "this line is indented with a tab; YAML needs spaces for indentation "
                "(replace the tab with spaces)",
                column=line.index("\t") + 1,
            )
    return None


def _check_depth(text: str, path: Path) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise PolicyError(
                    path,
                    [
                        Problem(
                            mark.line + 1,
                            None,
                            f"nesting deeper than {MAX_DEPTH} levels is not a policy file",
                        )
                    ],
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            raise PolicyError(
                path,
                [
                    Problem(
                        mark.line + 1,
                        f"*{event.anchor}",
                        "YAML anchors and aliases are not supported in policy files "
                        "(write the values out)",
                    )
                ],
            )


class _Builder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[Location, int] = {}

    def build(self, node: yaml.Node, location: Location) -> Any:
        self.lines.setdefault(location, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, location)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*location, index)) for index, item in enumerate(node.value)]
        return _scalar(node)

    def _mapping(self, node: yaml.MappingNode, location: Location) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise PolicyError(self.path, [Problem(line, None, "keys must be plain names")])
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise PolicyError(
                    self.path,
                    [Problem(line, "<<", "YAML merge keys are not supported in policy files")],
                )
            key = _scalar(key_node)
            if key in result:
                raise PolicyError(
                    self.path,
                    [
                        Problem(
                            line,
                            str(key),
                            f"duplicate key (it is already set on line "
                            f"{self.lines[(*location, key)]}; keep one)",
                        )
                    ],
                )
            self.lines[(*location, key)] = line
            result[key] = self.build(value_node, (*location, key))
        return result


def _scalar(node: yaml.ScalarNode) -> Any:
    text: str = node.value
    if node.style:  # quoted or block scalar: always a string (plain is None or "")
        return text
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT10.match(text):
        return int(text, 10)
    if _INT8.match(text):
        return int(text[2:], 8)
    if _INT16.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
    return text
