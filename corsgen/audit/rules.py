"""The rules of ``corsgen audit``: CORS mistakes in nginx and Apache configs people run.

The same shape as ``corsgen lint``'s rules (:mod:`corsgen.lint_rules`): a table of rules,
each with a stable id, a name, what goes wrong for a browser and the fix; a
:class:`Finding` names its place with :func:`corsgen.errors.location`. An audit rule also
has a severity, because a config on a live edge can be broken (``error``: a browser sees
the damage today) or only fragile (``warning``). One id means one mistake on every
server: ``CORS102`` is nginx's ``add_header`` without ``always`` and Apache's ``Header set``
without ``always`` alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from corsgen.errors import Rule as FindingRule
from corsgen.errors import location
from corsgen.evaluate import BROWSER_MAX_AGE as BROWSER_CAPS

# The longest Access-Control-Max-Age Chromium keeps (lint's max-age rule uses the same).
BROWSER_MAX_AGE = BROWSER_CAPS["Chromium"]


class Severity(str, Enum):
    # In rising order: --fail-on compares by position in this list.
    warning = "warning"
    error = "error"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Rule(FindingRule):
    """lint's rule shape, and how much a finding of it matters (``--fail-on``)."""

    severity: Severity


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "CORS101",
            "add-header-inheritance",
            "nginx inherits add_header from the enclosing block only when a block has none of "
            "its own: this block's add_header silently drops every inherited one, so its "
            "responses lack those headers (CORS, HSTS, ...)",
            "repeat the inherited add_header lines in this block (or include the same "
            "snippet in it), or move them all into the locations",
            Severity.error,
        ),
        Rule(
            "CORS102",
            "cors-header-without-always",
            "without 'always' the header is only added to 2xx/3xx answers: on a 4xx/5xx the "
            "browser sees no CORS header and the page cannot read the error, only a CORS "
            "failure",
            "nginx: add 'always' at the end of the add_header line; Apache: write "
            "'Header always set' instead of 'Header set'",
            Severity.error,
        ),
        Rule(
            "CORS103",
            "duplicated-allow-origin",
            "the proxied application's own Access-Control-Allow-Origin passes through next "
            "to the edge's, and a browser refuses an answer with two values",
            "hide the upstream's CORS headers: proxy_hide_header Access-Control-Allow-Origin "
            "(and the other Access-Control-* headers) in the same block",
            Severity.warning,
        ),
        Rule(
            "CORS104",
            "origin-reflected-unchecked",
            "the Origin header is echoed back whatever it is, so every site on the web is "
            "allowed to read the answers",
            "check the origin against an allow-list first (a map on $http_origin with "
            "anchored entries, or SetEnvIf Origin with ^...$), or use a corsgen policy",
            Severity.warning,
        ),
        Rule(
            "CORS105",
            "origin-reflected-with-credentials",
            "the Origin header is echoed back whatever it is together with "
            "Access-Control-Allow-Credentials: true, so any site can act as the signed-in "
            "user and read their data",
            "check the origin against an allow-list first (a map on $http_origin with "
            "anchored entries, or SetEnvIf Origin with ^...$), or use a corsgen policy",
            Severity.error,
        ),
        Rule(
            "CORS106",
            "unanchored-origin-regex",
            "an origin regex without ^ and $ also matches lookalikes anyone can register "
            "(https://example.com.attacker.net, https://evil-example.com), which are then "
            "allowed",
            "anchor the regex at both ends and escape the dots: "
            "^https://(app|www)\\.example\\.com$",
            Severity.error,
        ),
        Rule(
            "CORS107",
            "wildcard-with-credentials",
            "browsers refuse 'Access-Control-Allow-Origin: *' on a credentialed request: "
            "every request with cookies fails",
            "echo an allow-listed origin instead of *, or drop Access-Control-Allow-Credentials",
            Severity.error,
        ),
        Rule(
            "CORS108",
            "max-age-above-browser-cap",
            "browsers cap Access-Control-Max-Age ("
            + ", ".join(f"{engine} at {cap} s" for engine, cap in BROWSER_CAPS.items())
            + "): a longer value is silently shortened and only misleads the reader",
            f"use {BROWSER_MAX_AGE} or less",
            Severity.warning,
        ),
        Rule(
            "CORS109",
            "corsgen-snippet-misplaced",
            "a corsgen file works only where its banner says: the nginx location part inside "
            "the location { } of the API (at server level any location with its own "
            "add_header drops it), the http part in http { }, Apache's inside the "
            "<VirtualHost> (in <Location> or <Directory> its RewriteRules run per directory)",
            "include the file where its third line says",
            Severity.error,
        ),
        Rule(
            "CORS110",
            "corsgen-snippet-missing-in-sibling",
            "another location proxies the same upstream without the policy's location part: "
            "its answers carry the application's CORS headers or none, and its preflights "
            "reach the application",
            "include the same location part in that location too",
            Severity.error,
        ),
        Rule(
            "CORS111",
            "corsgen-file-stale",
            "the generated file was rendered from another version of its policy (the sha256 "
            "in its first line is not the policy's): the edge answers what the policy no "
            "longer says",
            "render again: corsgen render POLICY --target T --out-dir DIR (and run "
            "corsgen check in CI)",
            Severity.error,
        ),
        Rule(
            "CORS112",
            "corsgen-http-part-missing",
            "the policy's location part reads variables its http part defines: without the "
            "http part nginx refuses to start (unknown variable)",
            "include NAME.http.conf of the same policy inside http { }",
            Severity.error,
        ),
    )
}
# Rules about where generated files are included, and whether they are current: they
# hold for generated files too (the other rules are the policy's, which lint checks).
CORSGEN_FILE_RULES = frozenset({"CORS101", "CORS103", "CORS109", "CORS110", "CORS111", "CORS112"})


@dataclass(frozen=True)
class Place:
    """A file and line a finding points at besides its own (the block that causes it)."""

    label: str
    path: Path
    line: int


@dataclass(frozen=True)
class Finding:
    """One mistake: a rule, the offending directive's place, and what exactly was found."""

    rule: Rule
    path: Path
    line: int
    detail: str
    related: tuple[Place, ...] = ()

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    def format(self) -> str:
        lines = [
            f"{location(self.path, self.line)}: {self.severity.value} {self.rule.id} "
            f"{self.rule.name}: {self.detail}"
        ]
        lines += [
            f"    {place.label}: {location(place.path, place.line)}" for place in self.related
        ]
        lines += [f"    why: {self.rule.why}", f"    fix: {self.rule.fix}"]
        return "\n".join(lines)


def finding(rule_id: str, path: Path, line: int, detail: str, *related: Place) -> Finding:
    return Finding(RULES[rule_id], path, line, detail, related)


def long_max_age(value: str, path: Path, line: int) -> Iterator[Finding]:
    """CORS108 when an Access-Control-Max-Age value is longer than Chromium keeps one."""
    if value.isdigit() and int(value) > BROWSER_MAX_AGE:
        seconds = int(value)
        yield finding(
            "CORS108",
            path,
            line,
            f"Access-Control-Max-Age {seconds} ({seconds / 86400:.3g} days); "
            f"Chromium keeps {BROWSER_MAX_AGE} s",
        )
