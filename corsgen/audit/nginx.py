"""nginx configs: read with crossplane (includes followed as nginx does), then the rules.

The header rules follow nginx's inheritance: ``add_header`` and ``proxy_hide_header``
are taken from the enclosing block (http → server → location → if) only when a block has
none of its own. Every block is checked with the headers that really apply in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import crossplane

from corsgen.audit.config import (
    Config,
    Directive,
    included_files,
    matches_anything,
    unanchored,
)
from corsgen.audit.rules import Finding, Place, finding, long_max_age

ALLOW_ORIGIN = "access-control-allow-origin"
ALLOW_CREDENTIALS = "access-control-allow-credentials"
MAX_AGE = "access-control-max-age"
# Blocks whose add_header lines replace the enclosing block's.
HEADER_BLOCKS = frozenset({"http", "server", "location", "if"})
# Blocks that answer requests from a proxied application (their own CORS headers).
PROXY_PASS = "proxy_pass"
ORIGIN_VARIABLE = "$http_origin"
VARIABLE = re.compile(r"\$\{?([A-Za-z0-9_]+)\}?")


# --- reading ----------------------------------------------------------------------------------


def configuration_root(main: Path) -> Path:
    """Where nginx resolves relative includes: the folder of nginx.conf.

    For a file below it (conf.d/site.conf, sites-enabled/x) that is the nearest parent
    holding an nginx.conf; for a lone file, its own folder.
    """
    for folder in (main.parent, *main.parent.parents):
        if (folder / "nginx.conf").is_file():
            return folder
    return main.parent


def read(main: Path) -> Config:
    config = Config(main, "nginx")
    root = configuration_root(main)
    config.directives = _read_file(config, main, [root, main.parent], (), None)
    return config


def _read_file(
    config: Config, path: Path, bases: list[Path], stack: tuple[Path, ...], context: str | None
) -> list[Directive]:
    inner = config.enter(path, stack)
    if inner is None:
        return []
    payload = crossplane.parse(
        str(path),
        single=True,
        comments=True,
        catch_errors=True,
        check_ctx=False,
        check_args=False,
    )
    text = path.read_text(encoding="utf-8", errors="replace")
    config.note_file(path, text)
    for error in payload["errors"]:
        config.problems.append(f"{error['file']}:{error.get('line') or '?'}: {error['error']}")
    parsed = payload["config"][0]["parsed"] if payload["config"] else []
    lines = text.splitlines()
    return _directives(config, path, lines, parsed, bases, inner, context)


def _directives(
    config: Config,
    path: Path,
    lines: list[str],
    parsed: list[dict],
    bases: list[Path],
    stack: tuple[Path, ...],
    context: str | None,
) -> list[Directive]:
    """The directives of one block (``context``: its name, None at a file's top)."""
    result: list[Directive] = []
    for item in parsed:
        name = item["directive"]
        if name == "#":
            number = item["line"]
            alone = number <= len(lines) and lines[number - 1].lstrip().startswith("#")
            config.note_comment(path, number, item.get("comment", ""), alone=alone)
            continue
        if name == "include" and item["args"]:
            files = included_files(item["args"][0], bases)
            if files is None:
                config.notes.append(
                    f"{path}:{item['line']}: include {item['args'][0]}: no such file"
                )
                continue
            include = Directive(name, list(item["args"]), path, item["line"])
            for included in files:
                result.extend(_read_file(config, included, bases, stack, context))
                config.note_include(include, context, included)
            continue
        block = None
        if "block" in item:
            block = _directives(config, path, lines, item["block"], bases, stack, name)
        result.append(Directive(name, list(item["args"]), path, item["line"], block))
    return result


# --- the rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What applies in a block: the add_header and proxy_hide_header lines nginx uses."""

    block: Directive | None  # None: the top of the main file
    headers: tuple[Directive, ...] = ()
    headers_from: Directive | None = None  # the block that wrote them
    hidden: tuple[Directive, ...] = ()
    merge: bool = False  # add_header_inherit merge (newer nginx): inherited ones kept
    origin_checked: bool = False  # inside or after an `if` on $http_origin


def audit(config: Config) -> list[Finding]:
    unchecked = set(_unchecked_variables(config.directives, checked=False))
    findings = list(_regex_findings(config.directives))
    findings += _block_findings(config.directives, Scope(None), unchecked)
    return config.kept(findings)


def _header_name(directive: Directive) -> str:
    return directive.args[0].lower() if directive.args else ""


def _header_value(directive: Directive) -> str:
    return directive.args[1] if len(directive.args) > 1 else ""


def _tests_origin(directive: Directive) -> bool:
    return directive.name == "if" and bool(directive.args) and directive.args[0] == ORIGIN_VARIABLE


def _label(block: Directive | None) -> str:
    """How a finding names a block: ``location /api/``, ``server example.com`` (a server
    by its first name, else its first listen)."""
    if block is None:
        return "the top level"
    if block.name == "server":
        for name in ("server_name", "listen"):
            values = next((d.args for d in block.children(name) if d.args), None)
            if values:
                return f"server {values[0]}" if name == "server_name" else f"server :{values[0]}"
    return " ".join([block.name, *block.args]).strip()


def _block_findings(
    directives: list[Directive], parent: Scope, unchecked: set[str]
) -> list[Finding]:
    own = [d for d in directives if d.name == "add_header"]
    hidden = [d for d in directives if d.name == "proxy_hide_header"]
    merge = parent.merge or any(
        d.name == "add_header_inherit" and d.args[:1] == ["merge"] for d in directives
    )
    findings: list[Finding] = []
    block = parent.block
    if own and parent.headers and not merge:
        kept = {_header_name(d) for d in own}
        lost = [d for d in parent.headers if _header_name(d) not in kept]
        if lost:
            where = block or own[0]
            source = parent.headers_from
            findings.append(
                finding(
                    "CORS101",
                    where.path,
                    where.line,
                    f"{_label(block)} has add_header lines of its own, so it drops "
                    f"{', '.join(d.args[0] for d in lost)} set in {_label(source)}",
                    *(
                        [Place(f"lost from {_label(source)}", source.path, source.line)]
                        if source is not None
                        else []
                    ),
                    *(Place(f"dropped: {d.args[0]}", d.path, d.line) for d in lost),
                )
            )
    scope = replace(
        parent,
        headers=tuple((list(parent.headers) if merge else []) + own) if own else parent.headers,
        headers_from=block if own else parent.headers_from,
        hidden=tuple(hidden) if hidden else parent.hidden,
        merge=merge,
        origin_checked=parent.origin_checked or any(_tests_origin(d) for d in directives),
    )
    findings += _own_header_findings(own)
    findings += _applied_header_findings(scope, directives, unchecked)
    for child in directives:
        if child.name in HEADER_BLOCKS and child.block is not None:
            findings += _block_findings(child.block, replace(scope, block=child), unchecked)
    return findings


def _own_header_findings(own: list[Directive]) -> Iterator[Finding]:
    for directive in own:
        name = _header_name(directive)
        if name.startswith("access-control-") and directive.args[-1] != "always":
            yield finding(
                "CORS102",
                directive.path,
                directive.line,
                f"add_header {directive.args[0]} has no 'always': it is missing on 4xx/5xx",
            )
        if name == MAX_AGE:
            yield from long_max_age(_header_value(directive), directive.path, directive.line)


def _applied_header_findings(
    scope: Scope, directives: list[Directive], unchecked: set[str]
) -> Iterator[Finding]:
    by_name = {_header_name(d): d for d in scope.headers}
    allow_origin = by_name.get(ALLOW_ORIGIN)
    credentials = by_name.get(ALLOW_CREDENTIALS)
    with_credentials = credentials is not None and _header_value(credentials).lower() == "true"
    if allow_origin is not None:
        value = _header_value(allow_origin)
        if value == "*" and with_credentials:
            assert credentials is not None
            yield finding(
                "CORS107",
                allow_origin.path,
                allow_origin.line,
                "Access-Control-Allow-Origin * with Access-Control-Allow-Credentials true",
                Place("credentials", credentials.path, credentials.line),
            )
        reflected = (ORIGIN_VARIABLE in value and not scope.origin_checked) or any(
            name in unchecked for name in VARIABLE.findall(value)
        )
        if reflected:
            rule = "CORS105" if with_credentials else "CORS104"
            yield finding(
                rule,
                allow_origin.path,
                allow_origin.line,
                f"Access-Control-Allow-Origin {value} echoes any Origin"
                + (" with credentials" if with_credentials else ""),
                *(
                    [Place("credentials", credentials.path, credentials.line)]
                    if credentials
                    else []
                ),
            )
    hides_origin = any(_header_name(d) == ALLOW_ORIGIN for d in scope.hidden)
    if allow_origin is not None and not hides_origin:
        for proxy in (d for d in directives if d.name == PROXY_PASS):
            yield finding(
                "CORS103",
                proxy.path,
                proxy.line,
                f"proxy_pass {' '.join(proxy.args)} next to the edge's own "
                "Access-Control-Allow-Origin, without proxy_hide_header "
                "Access-Control-Allow-Origin",
                Place("the edge's header", allow_origin.path, allow_origin.line),
            )


def _unchecked_variables(directives: list[Directive], checked: bool) -> Iterator[str]:
    """Variables that hold the Origin header unchecked (``set $o $http_origin`` outside an
    ``if`` on it, or a map on $http_origin whose default is $http_origin)."""
    # An `if` on $http_origin checks what is set inside it, and (usually: `return 403`)
    # what comes after it in the same block.
    checked = checked or any(_tests_origin(d) for d in directives)
    for directive in directives:
        setting = directive.name == "set" and len(directive.args) == 2
        if setting and not checked and ORIGIN_VARIABLE in directive.args[1]:
            yield directive.args[0].lstrip("$")
        if directive.name == "map" and directive.args[:1] == [ORIGIN_VARIABLE]:
            for entry in directive.block or ():
                catch_all = entry.name == "default" or matches_anything(entry.name.lstrip("~*"))
                if catch_all and entry.args and ORIGIN_VARIABLE in entry.args[0]:
                    yield directive.args[1].lstrip("$")
        if directive.block is not None and directive.name != "map":
            yield from _unchecked_variables(directive.block, checked)


def _regex_findings(directives: list[Directive]) -> Iterator[Finding]:
    """Unanchored regexes on the Origin: in ``if ($http_origin ~ ...)`` and map entries."""
    for directive in directives:
        if _tests_origin(directive) and len(directive.args) == 3 and "~" in directive.args[1]:
            problem = unanchored(directive.args[2])
            if problem:
                yield finding(
                    "CORS106",
                    directive.path,
                    directive.line,
                    f"if ($http_origin {directive.args[1]} {directive.args[2]}): {problem}",
                )
        if directive.name == "map" and directive.args[:1] == [ORIGIN_VARIABLE]:
            for entry in directive.block or ():
                if entry.name.startswith("~"):
                    problem = unanchored(entry.name.lstrip("~*"))
                    if problem:
                        yield finding(
                            "CORS106", entry.path, entry.line, f"map entry {entry.name}: {problem}"
                        )
        if directive.block is not None and directive.name != "map":
            yield from _regex_findings(directive.block)
