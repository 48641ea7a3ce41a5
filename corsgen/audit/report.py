"""The audit's findings for machines: JSON, and SARIF 2.1.0 for GitHub code scanning."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from corsgen import __version__
from corsgen.audit.rules import RULES, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def shown_path(path: Path) -> str:
    """The path relative to the working directory when below it (what code scanning and
    editors resolve against the repository), else as given; always with forward slashes."""
    try:
        return Path(os.path.relpath(path)).as_posix() if not _outside(path) else path.as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def _outside(path: Path) -> bool:
    return os.path.relpath(path.absolute()).startswith("..")


def as_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return [
        {
            "rule": item.rule.id,
            "name": item.rule.name,
            "severity": item.severity.value,
            "path": shown_path(item.path),
            "line": item.line,
            "message": item.detail,
            "related": [
                {"label": place.label, "path": shown_path(place.path), "line": place.line}
                for place in item.related
            ],
            "why": item.rule.why,
            "fix": item.rule.fix,
        }
        for item in findings
    ]


def _location(path: Path, line: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": shown_path(path)},
            "region": {"startLine": line},
        }
    }


def as_sarif(findings: list[Finding]) -> dict[str, Any]:
    rules = list(RULES.values())
    index = {rule.id: number for number, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "corsgen audit",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.id,
                                "name": rule.name,
                                "shortDescription": {"text": rule.name.replace("-", " ")},
                                "fullDescription": {"text": rule.why},
                                "help": {"text": f"{rule.why}\nfix: {rule.fix}"},
                                "defaultConfiguration": {"level": rule.severity.value},
                            }
                            for rule in rules
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": item.rule.id,
                        "ruleIndex": index[item.rule.id],
                        "level": item.severity.value,
                        "message": {"text": f"{item.detail}. Fix: {item.rule.fix}"},
                        "locations": [_location(item.path, item.line)],
                        "relatedLocations": [
                            {
                                "id": number,
                                "message": {"text": place.label},
                                **_location(place.path, place.line),
                            }
                            for number, place in enumerate(item.related, start=1)
                        ],
                    }
                    for item in findings
                ],
            }
        ],
    }
