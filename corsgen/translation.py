"""What the importers share: manifests read with their lines, a policy written out.

``corsgen init --from-ingress-nginx`` (:mod:`corsgen.from_ingress_nginx`) and
``--from-httproute`` (:mod:`corsgen.from_httproute`) read multi-document YAML manifests and
write policies whose every key says where it came from, in a comment; ``--from-fastapi``
(:mod:`corsgen.from_fastapi`) writes its settings the same way, with plainer scalars. The
written text is validated exactly as ``corsgen render`` will read it before anyone sees it.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from corsgen.errors import PolicyError, Problem
from corsgen.init import load_policy_text, yaml_name
from corsgen.load import Document
from corsgen.policy import Policy, policy_from_document

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class Setting:
    """One policy key as translated: its value, why (comment lines) and the source line."""

    key: str
    value: Any
    comments: tuple[str, ...] = ()
    line: int | None = None
    # Each list item's own line, where the source gives one (else ``line`` stands for them).
    item_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Translated:
    """One policy written by an importer: its name, text, validated policy and notes."""

    name: str
    text: str
    policy: Policy
    notes: list[str] = field(default_factory=list)
    # The line of the source it was translated from, where one place holds all of it
    # (the FastAPI application's CORSMiddleware call).
    line: int | None = None


def manifest_documents(text: str, path: Path) -> list[Document]:
    """Every document of a multi-document YAML file, with the line of each key and item."""
    try:
        roots = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        line = mark.line + 1 if mark else None
        raise PolicyError(path, [Problem(line, None, f"YAML syntax error: {message}")]) from None
    except yaml.YAMLError as exc:
        raise PolicyError(path, [Problem(None, None, f"YAML error: {exc}")]) from None
    documents = []
    for root in roots:
        if root is None:
            continue
        lines: dict[tuple[str | int, ...], int] = {}
        documents.append(Document(path=path, data=_build(root, (), lines), lines=lines))
    return documents


def _build(node: yaml.Node, location: tuple[str | int, ...], lines: dict) -> Any:
    lines.setdefault(location, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        return {
            str(key.value): _build(value, (*location, str(key.value)), lines)
            for key, value in node.value
        }
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*location, index), lines) for index, item in enumerate(node.value)]
    return _constructor.construct_object(node)


def _scalar(value: Any, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # A JSON string is a YAML double-quoted scalar: one quoting rule for every value.
    return json.dumps(value)


def _policy_text(
    header: list[str],
    name: str,
    settings: list[Setting],
    scalar: Callable[[Any, str], str] = _scalar,
) -> str:
    """The policy file: the header comment, then each key with the comments saying why.

    ``scalar(value, key)`` writes one value; by default every string double-quoted.
    """
    lines = [f"# {line}" if line else "#" for line in header]
    lines += ["version: 1", f"name: {yaml_name(name)}"]
    for setting in settings:
        for comment in setting.comments:
            lines += [f"# {line}" for line in textwrap.wrap(comment, 86)]
        value = setting.value
        if isinstance(value, list) and setting.key in ("origins", "origin_regex"):
            lines.append(f"{setting.key}:")
            lines += [f"  - {scalar(item, setting.key)}" for item in value]
        elif isinstance(value, list):
            items = ", ".join(scalar(item, setting.key) for item in value)
            lines.append(f"{setting.key}: [{items}]")
        else:
            lines.append(f"{setting.key}: {scalar(value, setting.key)}")
    return "\n".join(lines) + "\n"


def settings_problems(settings: list[Setting], name: str, source: Path) -> list[Problem]:
    """corsgen's own rules on the translated values, each problem at the manifest's line."""
    data: dict[str, Any] = {"version": 1, "name": name}
    lines: dict[tuple[str | int, ...], int] = {}
    for setting in settings:
        data[setting.key] = setting.value
        # An item without a line of its own is found at the key's (Document.line_of).
        if setting.line is not None:
            lines[(setting.key,)] = setting.line
        for index, line in enumerate(setting.item_lines):
            lines[(setting.key, index)] = line
    try:
        policy_from_document(Document(path=source, data=data, lines=lines))
    except PolicyError as exc:
        return exc.problems
    return []


def translated(
    header: list[str],
    name: str,
    settings: list[Setting],
    policy_path: Path,
    notes: list[str],
    *,
    scalar: Callable[[Any, str], str] = _scalar,
    line: int | None = None,
) -> Translated:
    """The policy file of ``settings`` (see :func:`_policy_text`), read back as
    ``corsgen render`` will read it from ``policy_path``: every importer's last step."""
    text = _policy_text(header, name, settings, scalar)
    try:
        policy = load_policy_text(text, policy_path)
    except PolicyError as exc:  # pragma: no cover - the settings were validated first
        raise AssertionError(f"corsgen init wrote a policy it cannot read:\n{exc}") from None
    return Translated(name, text, policy, notes, line=line)


__all__ = [
    "Setting",
    "Translated",
    "manifest_documents",
    "settings_problems",
    "translated",
]
