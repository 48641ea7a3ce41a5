"""``corsgen init --from-ingress-nginx``: ingress-nginx's ``cors-*`` annotations, as policies.

ingress-nginx (retired in March 2026) configures CORS per Ingress with annotations whose
defaults are risky: any origin, credentials on, a 20-day max age. The policies written
here state ingress-nginx's *effective* settings — every default made explicit, as
``internal/ingress/annotations/cors/main.go`` applies them — so that corsgen's own rules
judge them: ``*`` with credentials is refused as in a hand-written policy, with the fix.

One policy per distinct set of effective settings, named after the first Ingress that
uses it. ingress-nginx's ``https://*.example.com`` matches exactly one label; a corsgen
``*.`` matches one or more, so it is written as an ``origin_regex`` of one label, and the
note says how to widen it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from corsgen.errors import PolicyError, Problem
from corsgen.init import check_name, default_name
from corsgen.load import Document
from corsgen.policy import MAX_AGE_LIMIT
from corsgen.translation import (
    Setting,
    Translated,
    manifest_documents,
    settings_problems,
    translated,
)

PREFIX = "nginx.ingress.kubernetes.io/"
ENABLE = PREFIX + "enable-cors"
ORIGIN = PREFIX + "cors-allow-origin"
METHODS = PREFIX + "cors-allow-methods"
HEADERS = PREFIX + "cors-allow-headers"
EXPOSE = PREFIX + "cors-expose-headers"
CREDENTIALS = PREFIX + "cors-allow-credentials"
MAX_AGE = PREFIX + "cors-max-age"

# ingress-nginx's defaults (internal/ingress/annotations/cors/main.go).
DEFAULT_ORIGIN = "*"
DEFAULT_METHODS = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
DEFAULT_HEADERS = (
    "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,"
    "Content-Type,Range,Authorization"
)
DEFAULT_CREDENTIALS = True
DEFAULT_MAX_AGE = 1728000  # 20 days
# What ingress-nginx accepts; a value it refuses falls back to the default. Its own
# regexes, ^([A-Za-z]+,?\s?)+$ and the like, are rewritten so that a run of letters can be
# split one way only: Python's backtracking would take exponential time on a long value.
ORIGIN_ENTRY = re.compile(r"^([a-z]+://(\*\.)?[A-Za-z0-9\-.]*(:\d+)?|\*|null)?$")
METHODS_VALUE = re.compile(r"^[A-Za-z]+(?:(?:,\s?|\s)[A-Za-z]+)*,?\s?$")
HEADERS_VALUE = re.compile(r"^[A-Za-z0-9\-_]+(?:(?:,\s?|\s)[A-Za-z0-9\-_]+)*,?\s?$")
EXPOSE_VALUE = re.compile(r"^[A-Za-z0-9\-_*]+(?:(?:,\s?|\s)[A-Za-z0-9\-_*]+)*,?\s?$")
# Go's strconv.ParseBool, which ingress-nginx reads booleans with.
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}
# ingress-nginx replaces "*" of "*." by this: exactly one label.
ONE_LABEL = "[a-z0-9-]+"


class IngressError(PolicyError):
    """Annotations that cannot be translated; every problem at the manifest's lines."""


@dataclass
class _Ingress:
    name: str
    namespace: str
    document: Document
    annotations: dict[str, str]

    def line(self, annotation: str | None = None) -> int | None:
        where: tuple[str | int, ...] = ("metadata", "annotations")
        return self.document.line_of((*where, annotation) if annotation else where)

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass
class _Effective:
    """ingress-nginx's settings for one Ingress, defaults included, with their sources."""

    settings: list[Setting] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def key(self) -> tuple:
        return tuple((s.key, repr(s.value)) for s in self.settings)


def _ingresses(documents: list[Document]) -> list[_Ingress]:
    found = []
    for document in documents:
        data = document.data
        if not isinstance(data, dict) or data.get("kind") != "Ingress":
            continue
        metadata = data.get("metadata") or {}
        annotations = metadata.get("annotations") or {}
        found.append(
            _Ingress(
                name=str(metadata.get("name", "")),
                namespace=str(metadata.get("namespace", "")),
                document=document,
                annotations={str(k): str(v) for k, v in annotations.items()},
            )
        )
    return found


def _bool(value: str) -> bool | None:
    return True if value in _TRUE else False if value in _FALSE else None


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _one_label_regex(origin: str) -> str:
    scheme, rest = origin.lower().split("://", 1)
    return f"^{re.escape(scheme)}://{ONE_LABEL}\\." + re.escape(rest[2:]) + "$"


def _origins(ingress: _Ingress, effective: _Effective) -> None:
    raw = ingress.annotations.get(ORIGIN, "")
    line = ingress.line(ORIGIN if ORIGIN in ingress.annotations else None)
    entries = _list(raw) or [DEFAULT_ORIGIN]
    comments = []
    if ORIGIN not in ingress.annotations or not raw.strip():
        comments.append(f"No {ORIGIN}: ingress-nginx's default, '*'.")
    if "*" in entries:
        if len(entries) > 1:
            effective.notes.append(
                f"{ingress.label}: {ORIGIN} lists '*', so ingress-nginx allowed every origin; "
                "the other entries were left out"
            )
        effective.settings.append(Setting("origins", "*", tuple(comments), line))
        return
    origins: list[str] = []
    regexes: list[str] = []
    for entry in entries:
        if not ORIGIN_ENTRY.match(entry):
            effective.notes.append(
                f"{ingress.label}: {entry!r} of {ORIGIN} was skipped by ingress-nginx (not an "
                "origin it accepts); left out"
            )
            continue
        if entry.split("://", 1)[-1].startswith("*."):
            regexes.append(_one_label_regex(entry))
            effective.notes.append(
                f"{ingress.label}: {entry!r} matched exactly one label in ingress-nginx; it is "
                f"written as origin_regex {regexes[-1]!r}. corsgen's (and the Gateway API's) "
                f"{entry!r} matches one or more labels: if that is what you want, write it "
                "into origins instead (the gateway-api target cannot express origin_regex)"
            )
            continue
        origins.append(entry.lower())
    if not origins and not regexes:
        effective.problems.append(
            Problem(line, None, f"{ORIGIN} holds no origin ingress-nginx accepts")
        )
        return
    if not origins:
        effective.problems.append(
            Problem(
                line,
                None,
                f"{ORIGIN} holds only wildcards, written as origin_regex: a corsgen policy "
                "needs at least one entry in origins; add your main front-end's origin",
            )
        )
    effective.settings.append(Setting("origins", origins, tuple(comments), line))
    if regexes:
        effective.settings.append(
            Setting(
                "origin_regex",
                regexes,
                ("ingress-nginx's one-label *. wildcards, kept to one label.",),
                line,
            )
        )


def _listed(
    ingress: _Ingress,
    effective: _Effective,
    annotation: str,
    key: str,
    default: str,
    valid: re.Pattern[str],
) -> None:
    raw = ingress.annotations.get(annotation)
    line = ingress.line(annotation if raw is not None else None)
    comments: tuple[str, ...] = ()
    if raw is None or not raw.strip():
        comments = (f"No {annotation}: ingress-nginx's default{'' if default else ', none'}.",)
        raw = default
    elif not valid.match(raw):
        effective.notes.append(
            f"{ingress.label}: {annotation} {raw!r} was refused by ingress-nginx, which used its "
            f"default {default!r}; written as the default"
        )
        comments = (f"{annotation} was invalid: ingress-nginx's default.",)
        raw = default
    values = _list(raw)
    effective.settings.append(Setting(key, "*" if values == ["*"] else values, comments, line))


def _credentials(ingress: _Ingress, effective: _Effective) -> None:
    raw = ingress.annotations.get(CREDENTIALS)
    value = _bool(raw) if raw is not None else None
    comments: tuple[str, ...] = ()
    if value is None:
        comments = (f"No valid {CREDENTIALS}: ingress-nginx's default, true.",)
        value = DEFAULT_CREDENTIALS
    line = ingress.line(CREDENTIALS if raw is not None else None)
    effective.settings.append(Setting("allow_credentials", value, comments, line))


def _max_age(ingress: _Ingress, effective: _Effective) -> None:
    raw = ingress.annotations.get(MAX_AGE)
    line = ingress.line(MAX_AGE if raw is not None else None)
    comments: list[str] = []
    try:
        seconds = int(raw) if raw is not None else DEFAULT_MAX_AGE
    except ValueError:
        seconds = DEFAULT_MAX_AGE
    if raw is None or str(seconds) != raw.strip():
        comments.append(
            f"No valid {MAX_AGE}: ingress-nginx's default, {DEFAULT_MAX_AGE} (20 days)."
        )
    if seconds > MAX_AGE_LIMIT:
        comments.append(
            f"{seconds} is above corsgen's limit; browsers cap it (Firefox 86400, Chromium 7200)."
        )
        seconds = MAX_AGE_LIMIT
    if seconds < 0:
        effective.problems.append(Problem(line, None, f"{MAX_AGE} is negative"))
        return
    effective.settings.append(Setting("max_age", seconds, tuple(comments), line))


def _effective(ingress: _Ingress) -> _Effective:
    effective = _Effective()
    _origins(ingress, effective)
    _credentials(ingress, effective)
    _listed(ingress, effective, METHODS, "allow_methods", DEFAULT_METHODS, METHODS_VALUE)
    _listed(ingress, effective, HEADERS, "allow_headers", DEFAULT_HEADERS, HEADERS_VALUE)
    _listed(ingress, effective, EXPOSE, "expose_headers", "", EXPOSE_VALUE)
    _max_age(ingress, effective)
    effective.settings += [
        Setting("allow_private_network", False, ("ingress-nginx has no such setting.",)),
        Setting(
            "block_disallowed_origins",
            False,
            (
                "Like ingress-nginx: requests from other origins reach the backend (ingress-nginx "
                "passed their preflights on too; corsgen's edges answer them 403).",
            ),
        ),
    ]
    return effective


def _credentials_fix(ingress: _Ingress, problems: list[Problem]) -> list[Problem]:
    """corsgen's refusal of '*' with credentials, with the fix for these annotations."""
    fixed = []
    for problem in problems:
        if "cannot be true with origins '*'" in problem.message:
            problem = Problem(
                problem.line,
                problem.entry,
                f"{ingress.label}: {problem.message}. ingress-nginx answered "
                "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true, "
                "which browsers refuse for credentialed requests, so no credentialed request "
                f'ever worked: set {CREDENTIALS}: "false" (what browsers got), or list the '
                f"front-ends' origins in {ORIGIN}",
                problem.column,
            )
        fixed.append(problem)
    return fixed


def _policy_name(ingress: _Ingress, taken: set[str]) -> str:
    base = default_name(Path(ingress.name or "ingress"))
    name = base if check_name(base) is None else "ingress"
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name[:59]}-{number}", number + 1
    return candidate


def translate_ingress_nginx(text: str, source_path: Path, folder: Path) -> list[Translated]:
    """One policy per distinct set of effective CORS settings. Raises :class:`IngressError`."""
    ingresses = _ingresses(manifest_documents(text, source_path))
    enabled = []
    notes = []
    for ingress in ingresses:
        value = ingress.annotations.get(ENABLE)
        if value is not None and _bool(value):
            enabled.append(ingress)
        elif any(name.startswith(PREFIX + "cors-") for name in ingress.annotations):
            notes.append(
                f"{ingress.label}: has cors-* annotations but {ENABLE} is not true, so "
                "ingress-nginx answered no CORS for it; no policy written"
            )
    if not enabled:
        raise IngressError(
            source_path,
            [Problem(None, None, f'no Ingress with {ENABLE}: "true" found')],
        )
    groups: dict[tuple, tuple[_Effective, list[_Ingress]]] = {}
    problems: list[Problem] = []
    for ingress in enabled:
        effective = _effective(ingress)
        problems += effective.problems
        group = groups.setdefault(effective.key(), (effective, []))
        group[1].append(ingress)
    written: list[Translated] = []
    taken: set[str] = set()
    for effective, members in groups.values():
        first = members[0]
        name = _policy_name(first, taken)
        taken.add(name)
        problems += _credentials_fix(
            first, settings_problems(effective.settings, name, source_path)
        )
        if problems:
            continue
        header = [
            "CORS policy translated by 'corsgen init --from-ingress-nginx' from the cors-*",
            f"annotations of {', '.join(m.label for m in members)} ({source_path.name}):",
            "ingress-nginx's effective settings, its defaults made explicit.",
            "Every key, default and rule: docs/policy.md in the corsgen sources.",
        ]
        policy_path = folder / f"{name}.yaml"
        all_notes = [*notes, *effective.notes]
        written.append(translated(header, name, effective.settings, policy_path, all_notes))
        notes = []
    if problems:
        raise IngressError(source_path, problems)
    return written


__all__ = ["IngressError", "translate_ingress_nginx"]
