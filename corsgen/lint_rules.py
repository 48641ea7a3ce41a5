"""The rules of ``corsgen lint``: valid policies that are still risky, and why.

Rules are a table (:data:`RULES`): an id, a short name, why the pattern is risky and how to
fix it. Each check adds :class:`Finding` values naming the entry and its line in the file.
Regex checks do not guess from the regex text alone where they can show a concrete origin
the regex matches (a lookalike from :mod:`corsgen.samples`, or a name anyone can register),
matched with :attr:`Policy.regex_patterns`, as the targets and the evaluator match it.

The Public Suffix List comes from the ``publicsuffixlist`` package's bundled snapshot: lint
never fetches anything.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corsgen.errors import Rule, location
from corsgen.evaluate import BROWSER_MAX_AGE, LOCAL_NETWORK_ACCESS, browser_max_age
from corsgen.load import Document
from corsgen.origin_regex import attacker_origin, example, parse, samples
from corsgen.origins import HeaderOrigin, OriginKind, OriginPattern, read_origin
from corsgen.policy import FETCH_NORMALISED_METHODS, Policy, normalise_method
from corsgen.public_suffix import is_public_suffix, registrable_domain
from corsgen.samples import lookalikes
from corsgen.sourced import Sources, normalised_origin

# Chromium caps Access-Control-Max-Age at 7200 s (Firefox at 86400, Safari at 600): a longer
# value is silently shortened, so it only misleads the reader.
CHROMIUM_MAX_AGE = BROWSER_MAX_AGE["Chromium"]
# nginx tries origin_regex entries one by one on every request that matched no exact entry;
# Apache tries every wildcard and regex entry one by one.
MANY_NGINX_REGEXES = 20
MANY_APACHE_PATTERNS = 50

# Methods a page can never send: Fetch, "forbidden method" (compared case-insensitively).
FORBIDDEN_METHODS = ("CONNECT", "TRACE", "TRACK")
# Methods with a standard spelling (the IANA HTTP Method Registry), all upper case: written in
# another case they are other methods, since browsers send them as written.
REGISTERED_METHODS = frozenset((
    "ACL", "BASELINE-CONTROL", "BIND", "CHECKIN", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET",
    "HEAD", "LABEL", "LINK", "LOCK", "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL",
    "MKREDIRECTREF", "MKWORKSPACE", "MOVE", "OPTIONS", "ORDERPATCH", "PATCH", "POST", "PRI",
    "PROPFIND", "PROPPATCH", "PUT", "QUERY", "REBIND", "REPORT", "SEARCH", "TRACE", "UNBIND",
    "UNCHECKOUT", "UNLINK", "UNLOCK", "UPDATE", "UPDATEREDIRECTREF", "VERSION-CONTROL",
))  # fmt: skip
# Fetch's forbidden request-header names (https://fetch.spec.whatwg.org/#forbidden-request-header):
# the browser sets these itself and a page's value is dropped. (X-HTTP-Method, X-HTTP-Method-
# Override and X-Method-Override are forbidden only with a forbidden method as their value, so a
# page can send them: they are not listed.)
FORBIDDEN_REQUEST_HEADERS = frozenset(name.lower() for name in (
    "Accept-Charset", "Accept-Encoding", "Access-Control-Request-Headers",
    "Access-Control-Request-Method", "Connection", "Content-Length", "Cookie", "Cookie2", "Date",
    "DNT", "Expect", "Host", "Keep-Alive", "Origin", "Referer", "Set-Cookie", "TE", "Trailer",
    "Transfer-Encoding", "Upgrade", "Via",
))  # fmt: skip
FORBIDDEN_REQUEST_HEADER_PREFIXES = ("proxy-", "sec-")
# Fetch's forbidden response-header names (#forbidden-response-header-name): never exposed.
FORBIDDEN_RESPONSE_HEADERS = frozenset(("set-cookie", "set-cookie2"))


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "CORS001",
            "null-origin",
            "browsers send 'Origin: null' from sandboxed iframes, data: and file: pages and "
            "after some redirects, so any site can make a request that carries it",
            'remove "null"; serve the client from a real https:// origin',
        ),
        Rule(
            "CORS002",
            "http-origin-with-credentials",
            "a plain-http page can be altered by anyone on the network path (public Wi-Fi), "
            "and with allow_credentials that page can act as the signed-in user",
            "use the https:// origin, or set allow_credentials: false",
        ),
        Rule(
            "CORS003",
            "public-suffix-wildcard",
            "the wildcard covers a public suffix (Public Suffix List): anyone can register "
            "or publish a site under it and is then an allowed origin",
            "list the exact origins, or put the wildcard under a name you control "
            "(https://*.apps.example.com)",
        ),
        Rule(
            "CORS004",
            "broad-regex",
            "the regex matches host names that anyone can register (or any host at all), so "
            "any site can become an allowed origin",
            "anchor the regex on a name you control: ^https://[a-z0-9-]+\\.apps\\.example\\.com$",
        ),
        Rule(
            "CORS005",
            "regex-unescaped-dot",
            "an unescaped '.' matches any character, so 'app.example.com' also matches "
            "'appxexample.com', a different name an attacker can register",
            "escape every literal dot as '\\.'",
        ),
        Rule(
            "CORS006",
            "regex-lookalike",
            "the regex matches host names of other sites that merely contain or end with "
            "the intended name",
            "anchor the host part: require '\\.' before the fixed name and nothing after it",
        ),
        Rule(
            "CORS007",
            "max-age-over-browser-cap",
            "browsers cap Access-Control-Max-Age ("
            + ", ".join(f"{engine} at {cap} s" for engine, cap in BROWSER_MAX_AGE.items())
            + "); a longer value does not cache preflights longer, it only misleads",
            f"set max_age to {CHROMIUM_MAX_AGE} or less",
        ),
        Rule(
            "CORS008",
            "many-patterns",
            "regex and wildcard entries are tried one by one on every request (nginx: "
            "origin_regex entries; Apache: wildcard and regex entries), which costs time on "
            "every request",
            "list exact origins where you can (they are hash lookups), and merge regexes "
            "into fewer alternations",
        ),
        Rule(
            "CORS009",
            "reflect-headers-with-credentials",
            "allow_headers '*' reflects whatever headers a page asks for, on credentialed "
            "requests too, which defeats defences that rely on custom headers",
            "list the request headers the API needs",
        ),
        Rule(
            "CORS010",
            "merged-duplicate",
            "two entries are the same after normalisation; corsgen merged them, so one of "
            "them says nothing (and may hide a typo for the entry that was meant)",
            "delete the duplicate, or correct it to the entry you meant",
        ),
        Rule(
            "CORS011",
            "private-network-legacy",
            "Access-Control-Allow-Private-Network only answers the Private Network Access "
            f"preflights of older Chrome; {LOCAL_NETWORK_ACCESS}",
            "keep it only for older browsers; for Chrome 142+, serve the calling page over "
            "https and have the user grant the local network permission",
        ),
        Rule(
            "CORS012",
            "no-allow-headers",
            "with no allowed request headers, every request that sets one that is not "
            "CORS-safelisted fails its preflight, and a fetch() that sends JSON sets "
            "Content-Type: application/json (Starlette and most CORS middlewares allow "
            "Content-Type out of the box)",
            "allow_headers: [Content-Type] (and the other headers your pages send, e.g. "
            "Authorization)",
        ),
        Rule(
            "CORS013",
            "method-case",
            "browsers send every method but DELETE GET HEAD OPTIONS POST PUT exactly as the "
            "page wrote it, and compare it with Access-Control-Allow-Methods case-sensitively: "
            "a page that calls fetch(url, {method: 'PATCH'}) is refused by 'patch'",
            "write the method as the standard spells it (PATCH), or list both spellings",
        ),
        Rule(
            "CORS014",
            "forbidden-method",
            "browsers refuse to send CONNECT, TRACE and TRACK from a page at all (Fetch: "
            "forbidden methods), so allowing them only says something that never happens",
            "remove the method",
        ),
        Rule(
            "CORS015",
            "unusable-header-name",
            "a page can never send or read this header: browsers set Fetch's forbidden "
            "request headers themselves, never expose Set-Cookie, and keep Access-Control-* "
            "for the CORS protocol",
            "remove the name; list only headers the page's own code sets or reads",
        ),
    )
}


# add(rule name, line, entry, detail): how the checks report a finding.
_Add = Callable[[str, "int | None", "str | None", str], None]


@dataclass(frozen=True)
class Finding:
    """One warning: a rule, where it applies, and what exactly was found.

    Not an :class:`corsgen.errors.Problem`: a finding is about a *valid* policy, never
    stops a command unless ``--strict``, and carries its rule's id, why and fix; it
    names its place as every problem does (:func:`corsgen.errors.location`).
    """

    rule: Rule
    path: Path
    line: int | None
    entry: str | None
    detail: str

    def format(self) -> str:
        where = location(self.path, self.line)
        entry = f"entry {self.entry!r}: " if self.entry is not None else ""
        return (
            f"{where}: warning {self.rule.id} {self.rule.name}: {entry}{self.detail}\n"
            f"    why: {self.rule.why}\n"
            f"    fix: {self.rule.fix}"
        )


# --- the checks ---------------------------------------------------------------------------------


def lint(policy: Policy, document: Document) -> list[Finding]:
    """Every finding for one valid policy, in file order."""
    sources = Sources(document)
    path = document.path
    findings: list[Finding] = []

    def add(name: str, line: int | None, entry: str | None, detail: str) -> None:
        findings.append(Finding(RULES[name], path, line, entry, detail))

    for origin in policy.origins:
        line = sources.origin_line(origin.text)
        for name, detail in _origin_findings(policy, origin):
            add(name, line, origin.text, detail)
    for regex, pattern in zip(policy.origin_regex, policy.regex_patterns, strict=True):
        line = sources.regex_line(regex)
        for name, detail in _regex_findings(policy, regex, pattern):
            add(name, line, regex, detail)
    if policy.max_age > CHROMIUM_MAX_AGE:
        add(
            "max-age-over-browser-cap",
            sources.line_of_key("max_age"),
            None,
            f"max_age is {policy.max_age}; browsers will use "
            + ", ".join(
                f"{engine} {seconds}" for engine, seconds in browser_max_age(policy.max_age).items()
            ),
        )
    if policy.allow_private_network:
        add(
            "private-network-legacy",
            sources.line_of_key("allow_private_network"),
            None,
            "allow_private_network is true: it answers Private Network Access preflights, "
            "which Chrome 142 replaced with Local Network Access (no preflight)",
        )
    if not policy.allow_headers:
        add(
            "no-allow-headers",
            sources.line_of_key("allow_headers"),
            None,
            (
                "allow_headers is []"
                if "allow_headers" in document.data
                else "allow_headers is not set"
            )
            + ": a fetch() that sends JSON (Content-Type: application/json) fails its preflight",
        )
    _pattern_counts(policy, sources, add)
    _method_findings(sources, add)
    _header_name_findings(sources, add)
    if policy.reflects_request_headers and policy.allow_credentials:
        add(
            "reflect-headers-with-credentials",
            sources.line_of_key("allow_headers"),
            "*",
            "allow_headers is '*' and allow_credentials is true",
        )
    for key, raw, line, first, first_line in _duplicates(sources):
        add(
            "merged-duplicate",
            line,
            str(raw),
            f"is the same {key} entry as {first!r}"
            + (f" on line {first_line}" if first_line is not None else "")
            + " after normalisation; corsgen merged them",
        )
    return sorted(findings, key=lambda finding: (finding.line or 0, finding.rule.id))


def _origin_findings(policy: Policy, origin: OriginPattern) -> Iterator[tuple[str, str]]:
    if origin.kind is OriginKind.NULL:
        yield "null-origin", "the null origin is allowed"
        return
    if origin.kind is OriginKind.ANY:
        return
    if policy.allow_credentials and origin.scheme == "http" and not _is_loopback(origin.host):
        yield (
            "http-origin-with-credentials",
            f"{origin.text!r} is plain http and allow_credentials is true",
        )
    if origin.any_subdomain and is_public_suffix(origin.host):
        yield (
            "public-suffix-wildcard",
            f"'*.{origin.host}' covers every site under the public suffix {origin.host!r}",
        )


def _regex_findings(
    policy: Policy, regex: str, pattern: re.Pattern[str]
) -> Iterator[tuple[str, str]]:
    sample = example(regex)
    parsed = read_origin(sample) if sample else None
    if policy.allow_credentials and _regex_allows_plain_http(pattern, sample):
        yield (
            "http-origin-with-credentials",
            "the regex matches plain http:// origins and allow_credentials is true",
        )
    # The same finding that is an error with credentials (corsgen.policy), as a warning.
    broad = attacker_origin(regex)
    if broad == "null":
        yield "broad-regex", "it matches 'null', which any site can send"
    elif broad:
        yield "broad-regex", f"it matches {broad!r}, a name anyone can register"
    lookalike = None
    if not broad and isinstance(parsed, HeaderOrigin) and sample:
        lookalike = _lookalike_match(regex, pattern, sample, parsed)
    dot = unescaped_dot(regex)
    if dot is not None:
        shown = f"; it matches {lookalike!r}" if lookalike else ""
        yield (
            "regex-unescaped-dot",
            f"the '.' at position {dot + 1} is not escaped{shown}",
        )
    elif lookalike:
        yield (
            "regex-lookalike",
            f"it matches {lookalike!r} as well as {sample!r}",
        )


def unescaped_dot(regex: str) -> int | None:
    """The index of the first '.' that matches any character (outside a class), if any."""
    index = 0
    in_class = False
    while index < len(regex):
        character = regex[index]
        if character == "\\":
            index += 2
            continue
        if in_class:
            if character == "]":
                in_class = False
        elif character == "[":
            in_class = True
            # A ']' right after '[' or '[^' is a literal member, not the end of the class.
            if regex[index + 1 : index + 2] == "^":
                index += 1
            if regex[index + 1 : index + 2] == "]":
                index += 1
        elif character == ".":
            return index
        index += 1
    return None


def _regex_allows_plain_http(pattern: re.Pattern[str], sample: str | None) -> bool:
    candidates = []
    if sample and "://" in sample:
        rest = sample.split("://", 1)[1]
        candidates.append(f"http://{rest}")
    for candidate in candidates:
        parsed = read_origin(candidate)
        if pattern.fullmatch(candidate) and not (
            isinstance(parsed, HeaderOrigin) and _is_loopback(parsed.host)
        ):
            return True
    return False


def _lookalike_match(
    regex: str, pattern: re.Pattern[str], sample: str, origin: HeaderOrigin
) -> str | None:
    """A lookalike of the regex's own sample, on another site, that the regex matches."""
    site = registrable_domain(origin.host) or origin.host
    # Another branch or count of the regex itself that lands on a different site whose
    # name merely ends with the intended one ('(www\.|m)?example\.com': mexample.com).
    for other in samples(parse(regex)):
        parsed = read_origin(other.text)
        if not isinstance(parsed, HeaderOrigin) or not parsed.host.endswith(site):
            continue
        other_site = registrable_domain(parsed.host) or parsed.host
        if other_site != site and pattern.fullmatch(other.text):
            return other.text
    for candidate in lookalikes(sample):
        parsed = read_origin(candidate)
        if not isinstance(parsed, HeaderOrigin) or parsed.host == origin.host:
            continue
        other_site = registrable_domain(parsed.host) or parsed.host
        if other_site != site and pattern.fullmatch(candidate):
            return candidate
    for host in (f"evil{origin.host}", f"evil-{origin.host}"):
        candidate = f"{origin.scheme}://{host}" + (
            f":{origin.port}" if origin.port is not None else ""
        )
        # 'evil' glued to a label the regex leaves open ('[a-z0-9-]+\.shop\.example\.com')
        # is still a host of the same site: only another registrable domain is a lookalike.
        other_site = registrable_domain(host) or host
        if other_site != site and pattern.fullmatch(candidate):
            return candidate
    return None


def _pattern_counts(policy: Policy, sources: Sources, add: _Add) -> None:
    regexes = len(policy.origin_regex)
    wildcards = sum(1 for origin in policy.origins if origin.kind is OriginKind.PATTERN)
    if regexes > MANY_NGINX_REGEXES:
        add(
            "many-patterns",
            sources.line_of_key("origin_regex"),
            None,
            f"{regexes} origin_regex entries: nginx tries them one by one "
            f"(more than {MANY_NGINX_REGEXES})",
        )
    elif regexes + wildcards > MANY_APACHE_PATTERNS:
        add(
            "many-patterns",
            sources.line_of_key("origins"),
            None,
            f"{wildcards} wildcard and {regexes} regex entries: Apache tries them one by one "
            f"(more than {MANY_APACHE_PATTERNS})",
        )


def _method_findings(sources: Sources, add: _Add) -> None:
    for raw, line in sources.raw_list("allow_methods"):
        if not isinstance(raw, str) or raw == "*":
            continue
        upper = raw.upper()
        if upper in FORBIDDEN_METHODS:
            add("forbidden-method", line, raw, f"browsers never send {upper} from a page")
        elif raw != upper and upper in REGISTERED_METHODS and upper not in FETCH_NORMALISED_METHODS:
            add(
                "method-case",
                line,
                raw,
                f"{raw!r} is not {upper!r}: a page that sends {upper} (as the standard spells "
                f"it) is refused",
            )


def _header_name_findings(sources: Sources, add: _Add) -> None:
    for key in ("allow_headers", "expose_headers"):
        for raw, line in sources.raw_list(key):
            if not isinstance(raw, str) or raw == "*":
                continue
            why = _unusable_header(key, raw.lower())
            if why:
                add("unusable-header-name", line, raw, why)


def _unusable_header(key: str, name: str) -> str | None:
    """Why a page can never use header ``name`` in ``key``, or ``None`` when it can."""
    if name.startswith("access-control-"):
        side = "requests" if key == "allow_headers" else "responses"
        return f"Access-Control-* names belong to the CORS protocol, not to a page's {side}"
    if key == "allow_headers" and (
        name in FORBIDDEN_REQUEST_HEADERS or name.startswith(FORBIDDEN_REQUEST_HEADER_PREFIXES)
    ):
        return "a forbidden request header (Fetch): the browser sets it, never the page"
    if key == "expose_headers" and name in FORBIDDEN_RESPONSE_HEADERS:
        return "browsers never let a page read Set-Cookie, whatever the server exposes"
    return None


def _duplicates(sources: Sources) -> Iterator[tuple[str, Any, int | None, Any, int | None]]:
    """(key, raw entry, its line, the first equal entry, its line) for each merged entry."""
    normalisers = {
        "origins": lambda raw: normalised_origin(raw) if isinstance(raw, str) else None,
        "origin_regex": lambda raw: raw if isinstance(raw, str) else None,
        "allow_methods": lambda raw: normalise_method(raw) if isinstance(raw, str) else None,
        "allow_headers": lambda raw: raw.lower() if isinstance(raw, str) else None,
        "expose_headers": lambda raw: raw.lower() if isinstance(raw, str) else None,
    }
    for key, normalise in normalisers.items():
        first: dict[str, tuple[Any, int | None]] = {}
        for raw, line in sources.raw_list(key):
            value = normalise(raw)
            if value is None:
                continue
            if value in first:
                yield key, raw, line, *first[value]
            else:
                first[value] = (raw, line)


# --- host names -----------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
