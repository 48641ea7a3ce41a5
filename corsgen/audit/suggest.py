"""``--suggest-policy``: the corsgen policy a hand-written allow-list amounts to.

Recognised: nginx ``add_header Access-Control-Allow-Origin`` with a fixed origin, ``*``, a
``map $http_origin`` variable, or ``$http_origin`` behind ``if ($http_origin ~ ...)``;
Apache ``Header ... Access-Control-Allow-Origin`` with a fixed origin, ``*``, or the Origin
under ``env=`` set by ``SetEnvIf Origin``. The other CORS headers of the same block give
credentials, methods, headers and max-age. Each suggestion is validated as a policy: what
corsgen would refuse is said next to it, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from corsgen.audit.config import Config, Directive
from corsgen.errors import PolicyError
from corsgen.load import load_text
from corsgen.policy import policy_from_document

ORIGIN_VARIABLE = "$http_origin"
APACHE_ORIGIN = re.compile(r"%\{(req|http):origin\}", re.I)
LIST_HEADERS = {
    "access-control-allow-methods": "allow_methods",
    "access-control-allow-headers": "allow_headers",
    "access-control-expose-headers": "expose_headers",
}


@dataclass
class Suggestion:
    source: Directive  # the Access-Control-Allow-Origin line it was read from
    policy: dict[str, Any]
    problems: list[str] = field(default_factory=list)  # why corsgen would refuse it as is

    def text(self) -> str:
        lines = [f"# suggested by corsgen audit from {self.source.where}"]
        lines += [f"# corsgen refuses it as is: {problem}" for problem in self.problems]
        return "\n".join(lines) + "\n" + yaml.safe_dump(self.policy, sort_keys=False)


def suggestions(config: Config) -> list[Suggestion]:
    found: list[Suggestion] = []
    reader = _nginx_block if config.kind == "nginx" else _apache_block
    for block in _blocks(config.directives):
        suggestion = reader(block, config.directives)
        # A generated file already has its policy.
        if suggestion is not None and suggestion.source.path not in config.generated:
            found.append(_validated(suggestion, _name(config.main, len(found))))
    return found


def _blocks(directives: list[Directive]) -> list[list[Directive]]:
    """Every list of directives that belong together (a block's own lines)."""
    result = [directives]
    for directive in directives:
        if directive.block is not None and directive.name not in ("map", "types"):
            result += _blocks(directive.block)
    return result


def _name(main: Path, index: int) -> str:
    stem = re.sub(r"[^a-z0-9_-]+", "-", main.stem.lower()).strip("-_") or "edge"
    if not stem[0].isalpha():
        stem = f"edge-{stem}"
    return (stem if index == 0 else f"{stem}-{index + 1}")[:63]


def _cors_values(headers: dict[str, str]) -> dict[str, Any]:
    """Credentials, lists and max-age from the block's other CORS headers."""
    policy: dict[str, Any] = {}
    if headers.get("access-control-allow-credentials", "").lower() == "true":
        policy["allow_credentials"] = True
    for header, key in LIST_HEADERS.items():
        if headers.get(header):
            policy[key] = [item.strip() for item in headers[header].split(",") if item.strip()]
    if headers.get("access-control-max-age", "").isdigit():
        policy["max_age"] = int(headers["access-control-max-age"])
    return policy


def _regex(pattern: str) -> str:
    # A policy's origin_regex is matched against the whole Origin: its own anchors go.
    return pattern.removeprefix("^").removesuffix("$")


def _policy(origins: list[str] | str, regexes: list[str], headers: dict[str, str]) -> dict:
    policy: dict[str, Any] = {"version": 1, "name": "", "origins": origins}
    if regexes:
        policy["origin_regex"] = [_regex(pattern) for pattern in regexes]
    return {**policy, **_cors_values(headers)}


def _nginx_block(block: list[Directive], top: list[Directive]) -> Suggestion | None:
    headers = {
        d.args[0].lower(): d.args[1] for d in block if d.name == "add_header" and len(d.args) > 1
    }
    source = next(
        (
            d
            for d in block
            if d.name == "add_header" and d.args[0].lower() == "access-control-allow-origin"
        ),
        None,
    )
    if source is None or len(source.args) < 2:
        return None
    value = source.args[1]
    origins: list[str] | str = []
    regexes: list[str] = []
    if value == "*" or value.startswith(("http://", "https://")):
        origins = "*" if value == "*" else [value]
    elif value.startswith("$"):
        variable = value.strip("${}")
        for directive in _all(top):
            if directive.name == "map" and directive.args == [ORIGIN_VARIABLE, f"${variable}"]:
                for entry in directive.block or ():
                    if entry.name in ("default", "hostnames", "volatile") or not entry.args:
                        continue
                    if ORIGIN_VARIABLE not in entry.args[0]:
                        continue
                    if entry.name.startswith("~"):
                        regexes.append(entry.name.removeprefix("~*").removeprefix("~"))
                    else:
                        origins.append(entry.name)
        # $http_origin itself, or a variable set from it, behind an if on the Origin.
        for directive in block:
            sets_it = value == ORIGIN_VARIABLE or any(
                d.name == "set" and d.args[:1] == [f"${variable}"] for d in directive.block or ()
            )
            if directive.name == "if" and directive.args[:1] == [ORIGIN_VARIABLE] and sets_it:
                if len(directive.args) == 3 and directive.args[1] in ("~", "~*"):
                    regexes.append(directive.args[2])
                elif len(directive.args) == 3 and directive.args[1] == "=":
                    origins.append(directive.args[2])
    if not origins and not regexes:
        return None
    return Suggestion(source, _policy(origins, regexes, headers))


def _all(directives: list[Directive]) -> list[Directive]:
    result = []
    for directive in directives:
        result.append(directive)
        if directive.block is not None:
            result += _all(directive.block)
    return result


def _apache_block(block: list[Directive], top: list[Directive]) -> Suggestion | None:
    headers: dict[str, str] = {}
    source = None
    condition = None
    for directive in block:
        if directive.name != "header":
            continue
        args = (
            directive.args[1:]
            if directive.args[:1] in (["always"], ["onsuccess"])
            else directive.args
        )
        if len(args) >= 3 and args[0].lower() == "set":
            headers[args[1].lower()] = args[2]
            if args[1].lower() == "access-control-allow-origin":
                source = directive
                condition = next((a[4:] for a in args[3:] if a.startswith("env=")), None)
    if source is None:
        return None
    value = headers["access-control-allow-origin"]
    origins: list[str] | str = []
    regexes: list[str] = []
    if value == "*" or value.startswith(("http://", "https://")):
        origins = "*" if value == "*" else [value]
    elif APACHE_ORIGIN.search(value) and condition:
        for directive in _all(top):
            if directive.name in ("setenvif", "setenvifnocase") and len(directive.args) > 2:
                names = [a.split("=", 1)[0] for a in directive.args[2:]]
                if directive.args[0].lower() == "origin" and condition in names:
                    regexes.append(directive.args[1])
    if not origins and not regexes:
        return None
    return Suggestion(source, _policy(origins, regexes, headers))


def _validated(suggestion: Suggestion, name: str) -> Suggestion:
    suggestion.policy["name"] = name
    text = yaml.safe_dump(suggestion.policy, sort_keys=False)
    try:
        policy_from_document(load_text(text, Path(f"{name}.yaml")))
    except PolicyError as error:
        suggestion.problems = [problem.format("policy") for problem in error.problems]
    return suggestion
