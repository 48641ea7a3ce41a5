"""The reference evaluator: what spec section 2 says the edge answers to one request.

This is the single source of truth shared by ``corsgen explain``, ``corsgen probe`` and the
differential tests against real nginx and Apache. It reads only the :class:`Policy` — never
the templates — so a template bug shows up as a difference instead of being copied here.

Where the spec lets the server choose (an Origin a browser would never send: upper case,
explicit default port, leading-zero or out-of-range port), the evaluator predicts what
corsgen's own configs do, which both targets share: they compare the Origin as sent with
the normalised entries, so ``http://localhost:80`` is not ``http://localhost``; a ``:*``
entry takes any digits as the port. Only where the two targets differ — ASCII case (nginx's
map lookups fold it, Apache's ``SetEnvIf`` regexes do not) and two ``Origin`` lines (nginx
before 1.23 reads the first, Apache joins them) — does the verdict say ``either=True`` and
carry the other answer in ``alternatives``. A lookalike
(``https://app.example.com.evil.com``) is always simply not allowed.

Origin header values are read by :func:`corsgen.origins.read_origin`, with the same grammar
as the policy's entries; a server's real answer is held to a verdict by
:mod:`corsgen.compare`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from enum import Enum

from corsgen.origins import (
    APP_SCHEMES,
    PORT_DIGITS,
    HeaderOrigin,
    OriginKind,
    OriginPattern,
    ascii_lower,
    read_origin,
)
from corsgen.policy import Policy

ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"
ACAM = "Access-Control-Allow-Methods"
ACAH = "Access-Control-Allow-Headers"
ACEH = "Access-Control-Expose-Headers"
ACMA = "Access-Control-Max-Age"
ACAPN = "Access-Control-Allow-Private-Network"

PREFLIGHT_VARY = ("Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
# With allow_private_network the preflight answer also depends on this request header.
PRIVATE_NETWORK_VARY = "Access-Control-Request-Private-Network"
ACTUAL_VARY = ("Origin",)
# The methods nginx's request-line parser accepts (ngx_http_parse_request_line): A-Z, "_", "-".
NGINX_PARSED_METHOD = re.compile(r"[A-Z_-]+")

# Browsers cap Access-Control-Max-Age (spec section 4, "Browsers' own limits"): Chromium at
# 2 hours, Firefox at 24 hours, Safari (WebKit) at 10 minutes.
BROWSER_MAX_AGE = {"Chromium": 7200, "Firefox": 86400, "Safari": 600}

# Chrome M142 replaced Private Network Access preflights with Local Network Access.
LOCAL_NETWORK_ACCESS = (
    "Chrome 142 and later send no such preflight: Local Network Access needs the calling "
    "page to be a secure context (https) and asks the user for permission; no response "
    "header replaces that"
)


def preflight_vary(policy: Policy) -> tuple[str, ...]:
    """The ``Vary`` tokens of every preflight answer under ``policy``."""
    if policy.allow_private_network:
        return (*PREFLIGHT_VARY, PRIVATE_NETWORK_VARY)
    return PREFLIGHT_VARY


def browser_max_age(seconds: int) -> dict[str, int]:
    """How long each browser engine really caches a preflight answer of ``seconds``."""
    return {engine: min(seconds, cap) for engine, cap in BROWSER_MAX_AGE.items()}


class Answer(str, Enum):
    """Who answers the request."""

    EDGE_204 = "edge 204"  # preflight answered by nginx/Apache, never reaches the upstream
    EDGE_403 = "edge 403"  # refused by nginx/Apache, never reaches the upstream
    # nginx's request parser refuses a method that is not all A-Z, "_" and "-" (a lower-case
    # `getaway`) with 400 before any configuration runs; Apache passes it on.
    SERVER_400 = "server 400"
    UPSTREAM = "upstream"  # passed to the upstream; its status is kept

    @property
    def status(self) -> int | None:
        return {"edge 204": 204, "edge 403": 403, "server 400": 400}.get(self.value)


@dataclass(frozen=True)
class Request:
    """The parts of an HTTP request that CORS looks at. ``None`` means the header is absent."""

    method: str = "GET"
    origin: str | None = None
    request_method: str | None = None  # Access-Control-Request-Method
    request_headers: str | None = None  # Access-Control-Request-Headers
    request_private_network: str | None = None  # Access-Control-Request-Private-Network
    # More Origin field lines after the first, as no browser sends them.
    more_origins: tuple[str, ...] = ()
    # More Access-Control-Request-Headers lines after the first: a proxy may split one line.
    more_request_headers: tuple[str, ...] = ()

    def header_lines(self) -> list[tuple[str, str]]:
        """The request headers to send, in a stable order."""
        lines = [
            ("Origin", self.origin),
            *(("Origin", origin) for origin in self.more_origins),
            ("Access-Control-Request-Method", self.request_method),
            ("Access-Control-Request-Headers", self.request_headers),
            *(("Access-Control-Request-Headers", line) for line in self.more_request_headers),
            ("Access-Control-Request-Private-Network", self.request_private_network),
        ]
        return [(name, value) for name, value in lines if value is not None]

    def as_code(self) -> str:
        """This request as Python source, ready to paste into a regression test."""
        arguments = [f"method={self.method!r}"]
        for name in ("origin", "request_method", "request_headers", "request_private_network"):
            value = getattr(self, name)
            if value is not None:
                arguments.append(f"{name}={value!r}")
        for name in ("more_origins", "more_request_headers"):
            value = getattr(self, name)
            if value:
                arguments.append(f"{name}={value!r}")
        return f"Request({', '.join(arguments)})"

    @property
    def origin_sent(self) -> bool:
        # nginx ($http_origin = "") and Apache (SetEnvIf Origin ".") both read an empty
        # header as no header at all.
        return bool(self.origin)

    @property
    def is_preflight(self) -> bool:
        return self.method == "OPTIONS" and self.origin_sent and bool(self.request_method)


@dataclass(frozen=True)
class OriginMatch:
    """Whether an Origin is allowed, by which entry, or why not.

    ``field``/``index`` locate the matching entry (``"origins"`` or ``"origin_regex"`` and the
    position in the normalised policy). When nothing matched, ``entry`` is the nearest miss
    (or ``None``) and ``reason`` says why it does not match. ``either`` marks an Origin that
    matches only once case-folded or normalised: the server may treat it either way.
    """

    allowed: bool
    reason: str
    entry: str | None = None
    field: str | None = None
    index: int | None = None
    either: bool = False


@dataclass(frozen=True)
class Verdict:
    """What the edge must answer.

    ``headers`` holds every ``Access-Control-*`` header the response must carry, with its
    value; any other ``Access-Control-*`` header must be absent. ``vary`` lists tokens the
    ``Vary`` header must contain, ``vary_optional`` tokens it may contain. When
    ``either`` is true, each verdict in ``alternatives`` is an equally acceptable answer.
    """

    answer: Answer
    headers: dict[str, str]
    vary: tuple[str, ...]
    origin: OriginMatch
    preflight: bool
    vary_optional: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    alternatives: tuple[Verdict, ...] = field(default=(), compare=False)

    @property
    def status(self) -> int | None:
        """204 or 403 when the edge answers; ``None`` when the upstream's status is kept."""
        return self.answer.status

    @property
    def either(self) -> bool:
        return bool(self.alternatives)

    def acceptable(self) -> tuple[Verdict, ...]:
        """Every answer the spec accepts: this one and its alternatives."""
        return (self, *self.alternatives)


# --- matching ---------------------------------------------------------------------------------


def entry_matches(entry: OriginPattern, origin: HeaderOrigin) -> bool:
    """Does a normalised ``origins`` entry cover a normalised Origin (spec section 4)?"""
    if entry.kind not in (OriginKind.EXACT, OriginKind.PATTERN) or entry.scheme != origin.scheme:
        return False
    if entry.scheme in APP_SCHEMES:
        return entry.host == origin.host
    if entry.any_subdomain:
        # `*.example.org`: one or more labels before the name, never the apex itself.
        if not origin.host.endswith("." + entry.host):
            return False
    elif origin.host != entry.host:
        return False
    if entry.any_port:
        return True
    return origin.port_valid and origin.port == entry.port


def _strict_match(policy: Policy, origin: str, regexes: bool = True) -> tuple[str, int] | None:
    """The entry that an Origin matches as sent, byte for byte, as both targets compare it.

    Exact entries are compared as whole strings, wildcard entries as ``scheme://`` plus the
    host as written plus, for ``:*``, any digits as the port (so ``:080`` and ``:99999``
    pass a ``:*`` entry on both servers), regexes against the raw header.
    """
    for index, entry in enumerate(policy.origins):
        if entry.kind in (OriginKind.EXACT, OriginKind.NULL) and entry.text == origin:
            return "origins", index
    parsed = read_origin(origin)
    if isinstance(parsed, HeaderOrigin):
        for index, entry in enumerate(policy.origins):
            if entry.kind is OriginKind.PATTERN and _pattern_matches_as_sent(entry, parsed, origin):
                return "origins", index
    if not regexes:
        return None
    # The targets run each regex on the raw header, case-sensitively: so does the evaluator.
    for index, pattern in enumerate(policy.regex_patterns):
        if pattern.fullmatch(origin):
            return "origin_regex", index
    return None


def _pattern_matches_as_sent(entry: OriginPattern, origin: HeaderOrigin, text: str) -> bool:
    if not entry_matches(entry, origin):
        return False
    if not entry.any_port:
        return origin.port_valid and origin.canonical == text
    base = f"{origin.scheme}://{origin.host}"
    if text == base:
        return True
    port = text.removeprefix(base + ":")
    return port != text and bool(PORT_DIGITS.match(port))


def _case_folded_match(policy: Policy, origin: str) -> tuple[str, int] | None:
    """An ``origins`` entry that the Origin matches only once ASCII case is folded.

    corsgen's nginx config finds exact and wildcard entries in map hashes, which fold ASCII
    case; its Apache config matches them with case-sensitive regexes. Regexes are
    case-sensitive on both, so they are not tried here.
    """
    lowered = ascii_lower(origin)
    for index, entry in enumerate(policy.origins):
        if entry.kind in (OriginKind.EXACT, OriginKind.NULL) and ascii_lower(entry.text) == lowered:
            return "origins", index
    if lowered == origin:
        return None
    return _strict_match(policy, lowered, regexes=False)


def _entry_text(policy: Policy, field_name: str, index: int) -> str:
    if field_name == "origins":
        return policy.origins[index].text
    return policy.origin_regex[index]


def match_origin(policy: Policy, origin: str | None) -> OriginMatch:
    """Decide whether ``origin`` is allowed, say by which entry, or explain why not."""
    if policy.allows_any_origin:
        return OriginMatch(
            allowed=True,
            reason="origins: '*' allows every origin (and requests without one)",
            entry="*",
            field="origins",
            index=0,
        )
    if not origin:
        return OriginMatch(allowed=False, reason="the request has no Origin header")
    found = _strict_match(policy, origin)
    if found:
        field_name, index = found
        entry = _entry_text(policy, field_name, index)
        how = "is" if entry == origin else "matches"
        return OriginMatch(
            allowed=True,
            reason=f"{origin!r} {how} {_describe_entry(field_name, entry)}",
            entry=entry,
            field=field_name,
            index=index,
        )
    folded = _case_folded_match(policy, origin)
    if folded:
        field_name, index = folded
        entry = _entry_text(policy, field_name, index)
        return OriginMatch(
            allowed=True,
            either=True,
            reason=(
                f"{origin!r} matches {_describe_entry(field_name, entry)} only in other ASCII "
                "case, which browsers never send: corsgen's nginx config allows it (echoing "
                "it), its Apache config does not"
            ),
            entry=entry,
            field=field_name,
            index=index,
        )
    normalised = _normalised_match(policy, origin)
    if normalised:
        return normalised
    entry, reason = _nearest_miss(policy, origin)
    return OriginMatch(allowed=False, reason=reason, entry=entry)


def _normalised_match(policy: Policy, origin: str) -> OriginMatch | None:
    """Not allowed: an Origin that matches an entry only once normalised, and why."""
    parsed = read_origin(ascii_lower(origin))
    if not isinstance(parsed, HeaderOrigin) or not parsed.port_valid:
        return None
    found = _strict_match(policy, parsed.canonical)
    if not found:
        return None
    field_name, index = found
    entry = _entry_text(policy, field_name, index)
    return OriginMatch(
        allowed=False,
        reason=(
            f"{origin!r} is {parsed.canonical!r} written as no browser sends it "
            f"({_how_written(origin, parsed)}); corsgen's nginx and Apache configs compare "
            f"the Origin as sent, so {_describe_entry(field_name, entry)} does not allow it"
        ),
        entry=entry,
    )


def _how_written(origin: str, parsed: HeaderOrigin) -> str:
    ways = []
    if ascii_lower(origin) != origin:
        ways.append("upper case")
    authority = origin.partition("://")[2]
    if not authority.isascii():
        ways.append("a Unicode host name; browsers send its punycode")
    elif authority.startswith("[") and not ascii_lower(authority).startswith(parsed.host):
        ways.append("an IPv6 address not in compressed form")
    port = authority.rpartition("]")[2] if authority.startswith("[") else authority
    if ":" in port:
        digits = port.rpartition(":")[2]
        if parsed.port is None:
            ways.append(f"the default port {digits} written out")
        elif digits.startswith("0"):
            ways.append("a leading zero in the port")
    return ", ".join(ways) or "not as browsers serialise an origin"


def _describe_entry(field_name: str, entry: str) -> str:
    if field_name == "origin_regex":
        return f"the origin_regex entry {entry!r}"
    return f"the origins entry {entry!r}"


# --- why nothing matched ----------------------------------------------------------------------


def _nearest_miss(policy: Policy, origin: str) -> tuple[str | None, str]:
    parsed = read_origin(origin)
    if origin == "null" or ascii_lower(origin) == "null":
        return None, "the null origin is allowed only when 'null' is listed in origins"
    if not isinstance(parsed, HeaderOrigin):
        return None, f"{origin!r} {parsed}"
    best: tuple[int, str | None, str] = (-1, None, "")
    for entry in policy.origins:
        if entry.kind in (OriginKind.EXACT, OriginKind.PATTERN):
            score, reason = _entry_miss(entry, parsed)
            if score > best[0]:
                best = (score, entry.text, reason)
    if best[0] >= 2:
        return best[1], best[2]
    regexes = len(policy.origin_regex)
    listed = sum(1 for entry in policy.origins if entry.kind is not OriginKind.NULL)
    where = f"none of the {listed} origins entries"
    if regexes:
        where += f" and none of the {regexes} origin_regex entries"
    return None, f"{origin!r} matches {where}"


def _entry_miss(entry: OriginPattern, origin: HeaderOrigin) -> tuple[int, str]:
    """How close an Origin comes to an entry (higher is closer), and why it still misses."""
    host, wanted = origin.host, entry.host
    if entry.any_subdomain:
        if host == wanted:
            return 4, (
                f"the apex {host!r} is not covered by {entry.text!r}: '*.' stands for one or "
                f"more labels before {wanted!r} (list {wanted!r} itself too)"
            )
        if not host.endswith("." + wanted):
            if wanted in host:
                return 3, f"{host!r} is not a subdomain of {wanted!r}"
            return 0, f"{host!r} is not a subdomain of {wanted!r}"
    elif host != wanted:
        if host.startswith(wanted + "."):
            return 3, (
                f"{host!r} is not {wanted!r}: it is the allowed name followed by more labels "
                "(a lookalike host)"
            )
        if host.endswith("." + wanted):
            return 3, (
                f"{host!r} is a subdomain of {wanted!r}, but {entry.text!r} allows only "
                f"that host (write '{entry.scheme}://*.{wanted}' to allow subdomains)"
            )
        if host.endswith(wanted) or wanted in host:
            return 3, f"{host!r} is not {wanted!r} (it only contains the same letters)"
        return 0, f"{host!r} is not {wanted!r}"
    if entry.scheme != origin.scheme:
        return 5, (
            f"the scheme {origin.scheme!r} is not {entry.scheme!r}: {entry.text!r} allows "
            f"only {entry.scheme}://"
        )
    if not origin.port_valid:
        return 5, f"the port {origin.port} is one no browser sends"
    allowed_port = "no explicit port" if entry.port is None else f"only port {entry.port}"
    shown = "no port" if origin.port is None else f"port {origin.port}"
    return 5, (
        f"{shown} is not allowed by {entry.text!r}, which allows {allowed_port} "
        "(':*' allows any port)"
    )


# --- the verdict --------------------------------------------------------------------------------


def evaluate(policy: Policy, request: Request) -> Verdict:
    """What the edge must answer to ``request`` under ``policy`` (spec section 2 and 4)."""
    if request.more_request_headers:
        return _several_request_headers_lines(policy, request)
    if request.more_origins:
        return _several_origins(policy, request)
    match = match_origin(policy, request.origin)
    origin_choices = [match]
    if match.either:
        origin_choices.append(replace(match, allowed=False))
    # nginx compares map strings case-insensitively, Apache's SetEnvIf case-sensitively:
    # a request-private-network value other than exactly "true" may go either way.
    pn = request.request_private_network
    pn_choices = [pn == "true"]
    if pn is not None and pn != "true" and ascii_lower(pn) == "true":
        pn_choices.append(True)
    verdicts = [
        _verdict(policy, request, choice, private_network)
        for choice, private_network in itertools.product(origin_choices, pn_choices)
    ]
    if not NGINX_PARSED_METHOD.fullmatch(request.method):
        verdicts.append(
            Verdict(
                Answer.SERVER_400,
                {},
                (),
                match,
                preflight=False,
                notes=(
                    f"nginx refuses the method {request.method!r} itself (400 Bad Request, no "
                    "CORS headers): its request parser accepts only A-Z, '_' and '-' in a "
                    "method; Apache passes it on",
                ),
            )
        )
    unique: list[Verdict] = []
    for verdict in verdicts:
        if verdict not in unique:
            unique.append(verdict)
    return replace(unique[0], alternatives=tuple(unique[1:]))


def _several_origins(policy: Policy, request: Request) -> Verdict:
    """Several Origin lines, as no browser sends them.

    Apache (like nginx from 1.23 on) joins repeated request header lines with ", ", as HTTP
    combines repeated fields; nginx before 1.23 reads only the first line into
    ``$http_origin``. Traefik's router rules match a header when any of its lines matches,
    while its headers middleware sets Access-Control-Allow-Origin from the first line
    (docs/traefik.md): see :func:`_any_line_answer`. Where the readings answer
    differently, any of their answers is right; none echoes an Origin that is not allowed.
    """
    first = replace(request, more_origins=())
    joined_text = ", ".join((request.origin or "", *request.more_origins))
    joined = evaluate(policy, replace(request, origin=joined_text, more_origins=()))
    answers: list[Verdict] = []
    readings = (*joined.acceptable(), *evaluate(policy, first).acceptable())
    for verdict in (*readings, *_any_line_answer(policy, request)):
        if all(_answer_key(verdict) != _answer_key(seen) for seen in answers):
            answers.append(verdict)
    if len(answers) == 1:
        return replace(joined, alternatives=())
    first_match = match_origin(policy, first.origin)
    reason = (
        f"the request has {1 + len(request.more_origins)} Origin lines, which no browser "
        f"sends: joined (Apache, nginx 1.23+) they are {joined_text!r}, "
        f"{'allowed' if joined.origin.allowed else 'not allowed'}; nginx before 1.23 reads "
        f"only the first, {first.origin!r}: {first_match.reason}"
    )
    origin = replace(joined.origin, either=True, reason=reason)
    return replace(answers[0], origin=origin, alternatives=tuple(answers[1:]))


def _any_line_answer(policy: Policy, request: Request) -> tuple[Verdict, ...]:
    """Traefik's reading of several Origin lines when a later line is allowed and the first
    is not: routed as allowed (its rules match any line), answered without
    Access-Control-Allow-Origin (set from the first line only); the rest as for the
    allowed line. No browser accepts an answer without ACAO."""
    if policy.allows_any_origin or _strict_match(policy, request.origin or ""):
        return ()  # the first line decides, as in the first-line reading
    allowed = [line for line in request.more_origins if _strict_match(policy, line)]
    if not allowed:
        return ()
    as_allowed = evaluate(policy, replace(request, origin=allowed[0], more_origins=()))
    headers = {name: value for name, value in as_allowed.headers.items() if name != ACAO}
    note = (
        f"Traefik routes on any Origin line ({allowed[0]!r} is allowed) and takes "
        "Access-Control-Allow-Origin from the first, which is not allowed: no ACAO"
    )
    return (replace(as_allowed, headers=headers, notes=(note,), alternatives=()),)


def _several_request_headers_lines(policy: Policy, request: Request) -> Verdict:
    """Several Access-Control-Request-Headers lines, as a proxy may split one.

    HTTP combines repeated field lines with ", ", and so do Apache and nginx from 1.23 on;
    nginx before 1.23 (Debian bookworm's 1.22) reads only the first line into
    ``$http_access_control_request_headers``, and no directive of stock nginx 1.22 reads the
    others (docs/nginx.md). With ``allow_headers: "*"`` that nginx reflects the first line
    alone: either answer is the prediction, and the browser refuses the headers left out.
    """
    lines = (request.request_headers or "", *request.more_request_headers)
    joined = evaluate(
        policy, replace(request, request_headers=", ".join(lines), more_request_headers=())
    )
    first = evaluate(policy, replace(request, more_request_headers=()))
    answers: list[Verdict] = []
    for verdict in (*joined.acceptable(), *first.acceptable()):
        if all(_answer_key(verdict) != _answer_key(seen) for seen in answers):
            answers.append(verdict)
    if len(answers) == 1:
        return joined
    note = (
        f"the request has {len(lines)} Access-Control-Request-Headers lines: joined (Apache, "
        f"nginx 1.23+) they are {', '.join(lines)!r}; nginx before 1.23 reflects only the "
        f"first, {lines[0]!r}, and the browser refuses the headers it leaves out"
    )
    joined_answer = replace(answers[0], notes=(*answers[0].notes, note))
    return replace(joined_answer, alternatives=tuple(answers[1:]))


def _answer_key(verdict: Verdict) -> tuple[object, ...]:
    """What a client sees of a verdict: the answer, the headers and Vary."""
    return (
        verdict.answer,
        tuple(sorted(verdict.headers.items())),
        verdict.vary,
        verdict.vary_optional,
    )


def _verdict(
    policy: Policy, request: Request, match: OriginMatch, private_network_asked: bool
) -> Verdict:
    any_origin = policy.allows_any_origin
    headers: dict[str, str] = {}
    notes: list[str] = []
    if request.is_preflight:
        if not match.allowed:
            return Verdict(Answer.EDGE_403, {}, preflight_vary(policy), match, preflight=True)
        headers[ACAO] = "*" if any_origin else str(request.origin)
        if policy.allow_credentials:
            headers[ACAC] = "true"
        headers[ACAM] = ", ".join(policy.allow_methods)
        if policy.reflects_request_headers:
            if request.request_headers:
                headers[ACAH] = request.request_headers
        elif policy.allow_headers:
            headers[ACAH] = ", ".join(policy.allow_headers)
        headers[ACMA] = str(policy.max_age)
        if policy.allow_private_network and private_network_asked:
            headers[ACAPN] = "true"
        notes.extend(_browser_notes(policy, request))
        return Verdict(
            Answer.EDGE_204,
            headers,
            preflight_vary(policy),
            match,
            preflight=True,
            notes=tuple(notes),
        )
    if any_origin:
        headers[ACAO] = "*"
        if policy.expose_headers:
            headers[ACEH] = ", ".join(policy.expose_headers)
        # Spec 4: under origins '*', Vary: Origin is optional on actual responses.
        return Verdict(
            Answer.UPSTREAM, headers, (), match, preflight=False, vary_optional=ACTUAL_VARY
        )
    if match.allowed:
        headers[ACAO] = str(request.origin)
        if policy.allow_credentials:
            headers[ACAC] = "true"
        if policy.expose_headers:
            headers[ACEH] = ", ".join(policy.expose_headers)
        return Verdict(Answer.UPSTREAM, headers, ACTUAL_VARY, match, preflight=False)
    if policy.block_disallowed_origins and request.origin_sent:
        return Verdict(Answer.EDGE_403, {}, ACTUAL_VARY, match, preflight=False)
    return Verdict(Answer.UPSTREAM, {}, ACTUAL_VARY, match, preflight=False)


def _browser_notes(policy: Policy, request: Request) -> list[str]:
    """What the browser will decide with the preflight answer (the edge does not refuse)."""
    used = browser_max_age(policy.max_age)
    notes = [
        f"the browser caches this answer for max_age ({policy.max_age} s) or its engine's "
        "cap, whichever is less: "
        + ", ".join(f"{engine} {seconds} s" for engine, seconds in used.items())
    ]
    if policy.allow_private_network:
        notes.append(
            "allow_private_network is legacy: it answers Private Network Access preflights "
            f"of older Chrome; {LOCAL_NETWORK_ACCESS}"
        )
    elif request.request_private_network is not None:
        notes.append(
            "older Chrome refuses the request: it asked for private network access and "
            f"allow_private_network is false; {LOCAL_NETWORK_ACCESS}"
        )
    method = request.request_method or ""
    safelisted = method in ("GET", "HEAD", "POST")
    if method not in policy.allow_methods and not safelisted:
        notes.append(
            f"the browser will refuse the {method} request: it is not in "
            f"Access-Control-Allow-Methods"
        )
    if request.request_headers and not policy.reflects_request_headers:
        allowed = {name.lower() for name in policy.allow_headers}
        missing = [
            name for name in split_list(request.request_headers) if name.lower() not in allowed
        ]
        if missing:
            notes.append(
                "the browser will refuse the request unless these headers are CORS-safelisted: "
                + ", ".join(missing)
            )
    return notes


def split_list(value: str) -> list[str]:
    """The items of a comma-separated header value, without blanks."""
    return [item.strip() for item in value.split(",") if item.strip()]
