"""``corsgen init --from-httproute``: the CORS filter of a Gateway API HTTPRoute, as a policy.

The file holds ``HTTPRoute`` manifests (``gateway.networking.k8s.io/v1``, several documents
allowed) or the bare ``filters:`` list that ``corsgen render --target gateway-api``
writes. Every ``type: CORS`` filter of every rule (and of every backendRef) is read; they
must all say the same, since one policy is written. The filter's own defaults are made
explicit (``maxAge`` 5 seconds, no methods beyond the safelisted ones), and what a policy
cannot say is reported with its line; nothing is written then.

A filter that corsgen rendered comes back as the same normalised policy
(tests/test_from_httproute.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corsgen.errors import PolicyError, Problem
from corsgen.load import Document
from corsgen.policy import DEFAULT_METHODS, MAX_AGE_LIMIT
from corsgen.targets.gateway_api import FIELDS, SCHEMA_DEFAULT_MAX_AGE, schema_problems
from corsgen.translation import (
    Setting,
    Translated,
    manifest_documents,
    settings_problems,
    translated,
)

GATEWAY_GROUP = "gateway.networking.k8s.io/"


class HTTPRouteError(PolicyError):
    """The route's CORS filter could not be translated; every problem at the file's lines."""


def _cors_filters(document: Document) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every CORS filter of one document, with its location."""
    data = document.data
    lists: list[tuple[tuple[str | int, ...], Any]] = []
    if isinstance(data, list):  # the filters: list corsgen renders
        lists.append(((), data))
    elif (
        isinstance(data, dict)
        and data.get("kind") == "HTTPRoute"
        and str(data.get("apiVersion", "")).startswith(GATEWAY_GROUP)
    ):
        rules = (data.get("spec") or {}).get("rules") or []
        for r, rule in enumerate(rules if isinstance(rules, list) else []):
            if not isinstance(rule, dict):
                continue
            lists.append((("spec", "rules", r, "filters"), rule.get("filters") or []))
            for b, backend in enumerate(rule.get("backendRefs") or []):
                if isinstance(backend, dict):
                    where = ("spec", "rules", r, "backendRefs", b, "filters")
                    lists.append((where, backend.get("filters") or []))
    found = []
    for where, entries in lists:
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and entry.get("type") == "CORS":
                found.append(((*where, index), entry))
    return found


def _translate(cors: dict[str, Any], line: int | None) -> tuple[list[Setting], list[str]]:
    notes: list[str] = []
    origins = cors.get("allowOrigins", [])
    methods = cors.get("allowMethods")
    max_age = cors.get("maxAge", SCHEMA_DEFAULT_MAX_AGE)
    settings = [
        Setting(
            "origins",
            "*" if origins == ["*"] else list(origins),
            ("allowOrigins: a *. wildcard stands for one or more labels, as in the filter.",),
            line,
        ),
        Setting("allow_credentials", bool(cors.get("allowCredentials", False)), (), line),
    ]
    if methods is None:
        settings.append(
            Setting(
                "allow_methods",
                list(DEFAULT_METHODS),
                ("No allowMethods in the filter: the CORS-safelisted methods only.",),
                line,
            )
        )
    else:
        settings.append(Setting("allow_methods", "*" if methods == ["*"] else methods, (), line))
        if methods == ["*"]:
            notes.append(
                "allowMethods '*' is written as corsgen's '*' (DELETE GET HEAD OPTIONS PATCH "
                "POST PUT): CONNECT and TRACE, which browsers refuse to send, are left out"
            )
    for field in ("allowHeaders", "exposeHeaders"):
        value = cors.get(field, [])
        settings.append(Setting(FIELDS[field], "*" if value == ["*"] else value, (), line))
    comments: tuple[str, ...] = ()
    if "maxAge" not in cors:
        comments = (f"No maxAge in the filter: its default, {SCHEMA_DEFAULT_MAX_AGE} seconds.",)
    if isinstance(max_age, int) and max_age > MAX_AGE_LIMIT:
        notes.append(f"maxAge {max_age} is written as {MAX_AGE_LIMIT}: browsers cap it anyway")
        max_age = MAX_AGE_LIMIT
    settings.append(Setting("max_age", max_age, comments, line))
    settings += [
        Setting(
            "allow_private_network",
            False,
            ("The filter has no Private Network Access field.",),
        ),
        Setting(
            "block_disallowed_origins",
            False,
            ("Like the filter: requests from other origins reach the backend.",),
        ),
    ]
    return settings, notes


def translate_httproute(text: str, source_path: Path, policy_path: Path, name: str) -> Translated:
    """The one policy the CORS filters of ``text`` say. Raises :class:`HTTPRouteError`."""
    documents = manifest_documents(text, source_path)
    found = [
        (document, where, entry)
        for document in documents
        for where, entry in _cors_filters(document)
    ]
    if not found:
        raise HTTPRouteError(
            source_path,
            [
                Problem(
                    None,
                    None,
                    "no CORS filter found: expected HTTPRoute manifests "
                    f"({GATEWAY_GROUP}v1) with a filter of type: CORS in a rule",
                )
            ],
        )
    problems: list[Problem] = []
    for document, where, entry in found:
        line = document.line_of(where)
        problems += [
            Problem(line, None, problem.replace("filters[0]", "the filter"))
            for problem in schema_problems([entry])
        ]
    first_document, first_where, first = found[0]
    for document, where, entry in found[1:]:
        if entry != first:
            problems.append(
                Problem(
                    document.line_of(where),
                    None,
                    "this CORS filter differs from the one at line "
                    f"{first_document.line_of(first_where)}; one policy says one filter: "
                    "translate the routes one at a time (or make their filters equal)",
                )
            )
    if problems:
        raise HTTPRouteError(source_path, problems)
    line = first_document.line_of((*first_where, "cors"))
    settings, notes = _translate(first.get("cors", {}), line)
    problems = settings_problems(settings, name, source_path)
    if problems:
        raise HTTPRouteError(source_path, problems)
    header = [
        "CORS policy translated by 'corsgen init --from-httproute' from the CORS filter at",
        f"{source_path.name} line {line}, the filter's defaults made explicit.",
        "Every key, default and rule: docs/policy.md in the corsgen sources.",
    ]
    if len(found) > 1:
        notes.append(f"{len(found)} rules hold this CORS filter; one policy renders it for all")
    return translated(header, name, settings, policy_path, notes)


__all__ = ["HTTPRouteError", "translate_httproute"]
