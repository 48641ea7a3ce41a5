"""Apache configs: a small parser of what the rules read, then the rules.

Apache's syntax is line-based: one directive per line (a trailing backslash continues
it), ``#`` comments only at the start of a line, ``<Section args>`` ... ``</Section>``.
``Include`` / ``IncludeOptional`` are followed as Apache does (relative to ServerRoot;
globs and folders sorted). The header rules read the ``Header`` directives of each
virtual host together with those outside every virtual host, which apply to it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corsgen.audit.config import (
    Config,
    Directive,
    included_files,
    matches_anything,
    unanchored,
)
from corsgen.audit.rules import Finding, Place, finding, long_max_age

ARGUMENT = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(\S+)')
# Header [condition] action header [value] [early|env=...|expr=...]
TABLES = ("always", "onsuccess")
SETTING_ACTIONS = frozenset({"set", "append", "add", "merge", "setifempty"})
ALLOW_ORIGIN = "access-control-allow-origin"
ALLOW_CREDENTIALS = "access-control-allow-credentials"
MAX_AGE = "access-control-max-age"
# The ways a Header value (an ap_expr: "expr=%{req:Origin}") or an <If> names the request's
# Origin header. Not "%{Origin}i": mod_headers has no %{...}i (that is mod_log_config's);
# it sends "%i", the server's idle percentage ("i=98"), never the origin.
ORIGIN_REFERENCE = re.compile(r"%\{(req|http):origin\}|\b(req|http)\(\s*'origin'\s*\)", re.I)
CONDITIONAL_SECTIONS = frozenset({"ifmodule", "ifdefine", "ifversion", "ifdirective", "iffile"})
SET_ENV_IF = frozenset({"setenvif", "setenvifnocase"})


# --- reading ----------------------------------------------------------------------------------


def _arguments(text: str) -> list[str]:
    return [next(g for g in match.groups() if g is not None) for match in ARGUMENT.finditer(text)]


def read(main: Path) -> Config:
    config = Config(main, "apache")
    bases = [main.parent]
    config.directives = _read_file(config, main, bases, (), None)
    return config


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each directive, backslash continuations joined."""
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, (pending + line).strip()
        pending = ""
    if pending:
        yield start, pending.strip()


def _read_file(
    config: Config, path: Path, bases: list[Path], stack: tuple[Path, ...], context: str | None
) -> list[Directive]:
    """A file's directives (``context``: the section it is included in, None at the top)."""
    inner = config.enter(path, stack)
    if inner is None:
        return []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        config.problems.append(f"{path}: cannot read: {exc.strerror}")
        return []
    config.note_file(path, text)
    stack = inner
    top: list[Directive] = []
    open_sections: list[Directive] = []
    for number, line in _logical_lines(text):
        if not line:
            continue
        if line.startswith("#"):
            config.note_comment(path, number, line, alone=True)
            continue
        current = open_sections[-1].block if open_sections else top
        assert current is not None
        if line.startswith("</"):
            name = line[2:].rstrip(">").strip().lower()
            if not open_sections or open_sections[-1].name != name:
                config.problems.append(f"{path}:{number}: {line} closes no open section")
                continue
            open_sections.pop()
            continue
        if line.startswith("<"):
            name, _, rest = line[1:].rstrip(">").partition(" ")
            section = Directive(name.lower(), _arguments(rest), path, number, [])
            current.append(section)
            open_sections.append(section)
            continue
        name, _, rest = line.partition(" ")
        arguments = _arguments(rest)
        lowered = name.lower()
        if lowered == "serverroot" and arguments:
            bases.insert(0, Path(arguments[0]))
        if lowered in ("include", "includeoptional") and arguments:
            files = included_files(arguments[0], bases)
            if files is None:
                if lowered == "include":
                    config.notes.append(f"{path}:{number}: Include {arguments[0]}: no such file")
                continue
            # The section that decides what the included lines mean: <IfModule> and the
            # other conditionals are transparent.
            meaningful = [s.name for s in open_sections if s.name not in CONDITIONAL_SECTIONS]
            here = meaningful[-1] if meaningful else context
            include = Directive(lowered, arguments, path, number)
            for included in files:
                current.extend(_read_file(config, included, bases, stack, here))
                config.note_include(include, here, included)
            continue
        current.append(Directive(lowered, arguments, path, number))
    for section in open_sections:
        config.problems.append(f"{path}:{section.line}: <{section.name}> is never closed")
    return top


# --- the rules --------------------------------------------------------------------------------


class Header:
    """One ``Header`` directive, its parts named."""

    def __init__(self, directive: Directive, checked: bool) -> None:
        args = directive.args
        self.directive = directive
        self.always = bool(args) and args[0].lower() == "always"
        if args and args[0].lower() in TABLES:
            args = args[1:]
        self.action = args[0].lower() if args else ""
        self.name = args[1].lower() if len(args) > 1 else ""
        self.value = args[2] if len(args) > 2 and self.action in SETTING_ACTIONS else ""
        rest = args[3:] if self.value else args[2:]
        self.condition = next((a for a in rest if a.startswith(("env=", "expr="))), None)
        self.in_origin_check = checked  # inside <If "%{HTTP:Origin} ..."> and the like

    @property
    def sets(self) -> bool:
        return self.action in SETTING_ACTIONS


def audit(config: Config) -> list[Finding]:
    findings = list(_set_env_findings(config.directives))
    any_origin_variables = set(_any_origin_variables(config.directives))
    top = list(_headers(config.directives, outside_hosts=True, checked=False))
    hosts = [d for d in _walk(config.directives) if d.name == "virtualhost"]
    scopes = [top] + [top + list(_headers(h.block or [], False, False)) for h in hosts]
    for headers in scopes:
        findings += _header_findings(headers, any_origin_variables)
    return config.kept(findings)


def _walk(directives: list[Directive]) -> Iterator[Directive]:
    for directive in directives:
        yield directive
        if directive.block is not None:
            yield from _walk(directive.block)


def _headers(directives: list[Directive], outside_hosts: bool, checked: bool) -> Iterator[Header]:
    for directive in directives:
        if directive.name == "header":
            yield Header(directive, checked)
        elif directive.block is not None:
            if outside_hosts and directive.name == "virtualhost":
                continue
            origin_test = directive.name in ("if", "elseif") and bool(
                ORIGIN_REFERENCE.search(" ".join(directive.args))
            )
            yield from _headers(directive.block, outside_hosts, checked or origin_test)


def _is_origin_test(directive: Directive) -> bool:
    return (
        directive.name in SET_ENV_IF
        and directive.args[:1] != []
        and (directive.args[0].lower() == "origin")
    )


def _any_origin_variables(directives: list[Directive]) -> Iterator[str]:
    """Variables ``SetEnvIf Origin "(.*)" NAME=$1`` sets for any Origin at all."""
    for directive in _walk(directives):
        captures = len(directive.args) > 2 and "(" in directive.args[1]
        if _is_origin_test(directive) and captures and matches_anything(directive.args[1]):
            for assignment in directive.args[2:]:
                yield assignment.split("=", 1)[0].lstrip("!").lower()


def _set_env_findings(directives: list[Directive]) -> Iterator[Finding]:
    for directive in _walk(directives):
        if _is_origin_test(directive) and len(directive.args) > 1:
            problem = unanchored(directive.args[1])
            if problem:
                yield finding(
                    "CORS106",
                    directive.path,
                    directive.line,
                    f"SetEnvIf Origin {directive.args[1]!r}: {problem}",
                )


def _header_findings(headers: list[Header], any_origin: set[str]) -> Iterator[Finding]:
    credentials = next(
        (h for h in headers if h.sets and h.name == ALLOW_CREDENTIALS and h.value == "true"),
        None,
    )
    for header in headers:
        directive = header.directive
        if not header.sets:
            continue
        if header.name.startswith("access-control-") and not header.always:
            yield finding(
                "CORS102",
                directive.path,
                directive.line,
                f"Header {header.action} {directive.args[-2 if header.value else -1]} without "
                "'always': it is missing on the errors Apache answers itself (4xx/5xx)",
            )
        if header.name == MAX_AGE:
            yield from long_max_age(header.value, directive.path, directive.line)
        if header.name != ALLOW_ORIGIN:
            continue
        related = (
            [Place("credentials", credentials.directive.path, credentials.directive.line)]
            if credentials is not None
            else []
        )
        if header.value == "*" and credentials is not None:
            yield finding(
                "CORS107",
                directive.path,
                directive.line,
                "Access-Control-Allow-Origin * with Access-Control-Allow-Credentials true",
                *related,
            )
        value = header.value.lower()
        names_origin = bool(ORIGIN_REFERENCE.search(value)) or any(
            f"%{{{name}}}e" in value for name in any_origin
        )
        condition = header.condition or ""
        # env=NAME checks the origin only when NAME is set for allowed origins, not by
        # SetEnvIf Origin "(.*)" (the blog posts' way of copying any Origin).
        guarded = header.in_origin_check or (
            bool(condition) and condition.removeprefix("env=").lstrip("!").lower() not in any_origin
        )
        reflected = names_origin and not guarded
        if reflected:
            yield finding(
                "CORS105" if credentials is not None else "CORS104",
                directive.path,
                directive.line,
                f"Access-Control-Allow-Origin {header.value} echoes any Origin"
                + (" with credentials" if credentials is not None else ""),
                *related,
            )
