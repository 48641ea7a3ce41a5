"""``corsgen audit``: the CORS mistakes in nginx and Apache configs people already run.

:func:`audit_paths` reads each config (a main file, a folder such as /etc/nginx, or a
lone site file), follows its includes and returns an :class:`Audit`: the findings in file
order and the problems met while reading. Printing and exit codes are the command's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from corsgen.audit import apache, generated, nginx
from corsgen.audit.config import Config
from corsgen.audit.rules import RULES, Finding, Rule, Severity
from corsgen.audit.suggest import Suggestion, suggestions

__all__ = ["RULES", "Audit", "Finding", "Rule", "Severity", "audit_paths", "server_of"]

# The main file of each server in its configuration folder (Debian's name, then httpd's).
MAIN_FILES = {"nginx": ("nginx.conf",), "apache": ("apache2.conf", "httpd.conf")}
# Apache's sections (<VirtualHost ...>, </Directory>) on a line of their own: nginx has none.
_APACHE_SECTION = re.compile(r"^\s*</?[A-Za-z][A-Za-z0-9]*(\s[^>]*)?>\s*$", re.MULTILINE)
_NGINX_STATEMENT = re.compile(r"[;{]\s*(#.*)?$", re.MULTILINE)


@dataclass
class Audit:
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def server_of(path: Path) -> str:
    """ "nginx" or "apache", from the file's syntax (both name their files *.conf)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if _APACHE_SECTION.search(text) or not _NGINX_STATEMENT.search(text):
        return "apache"
    return "nginx"


def _main_files(path: Path) -> list[Path]:
    """The files to start from: a folder's main file when it has one, else its *.conf."""
    if not path.is_dir():
        return [path]
    for names in MAIN_FILES.values():
        for name in names:
            if (path / name).is_file():
                return [path / name]
    return sorted(p for p in path.rglob("*.conf") if p.is_file())


def read_config(main: Path, server: str | None = None) -> Config:
    return (apache if (server or server_of(main)) == "apache" else nginx).read(main)


def audit_paths(
    paths: list[Path], server: str | None = None, digests: dict[str, str] | None = None
) -> Audit:
    """Every finding in the configs ``paths`` name; ``digests``: each policy's sha256 by
    name (``--policies``), to find generated files rendered from an older version."""
    result = Audit()
    seen: set[tuple[str, Path, int]] = set()
    for path in paths:
        for main in _main_files(path):
            if main in result.files:  # already read as another file's include
                continue
            config = read_config(main, server)
            result.files += [f for f in config.files if f not in result.files]
            found = (apache if config.kind == "apache" else nginx).audit(config)
            found += config.kept(generated.findings(config, digests))
            result.suggestions += suggestions(config)
            result.problems += [p for p in config.problems if p not in result.problems]
            result.notes += [n for n in config.notes if n not in result.notes]
            for item in found:
                key = (item.rule.id, item.path, item.line)
                if key not in seen:
                    seen.add(key)
                    result.findings.append(item)
    result.findings.sort(key=lambda f: (str(f.path), f.line, f.rule.id))
    return result
