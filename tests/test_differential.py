"""Real nginx and real Apache answer every request exactly as the reference evaluator says.

Hypothesis generates valid policies (exact, wildcard, port-wildcard and regex origins,
credentials on and off, method and header sets) and, for each, a batch of requests: the
policy's own origins, lookalikes built from them (suffix appended, label prepended, scheme
swapped, port changed, case changed, user-information tricks), preflights, non-preflight
OPTIONS and requests without Origin. Each policy is rendered with ``corsgen.render.render``
and loaded into one nginx and one Apache started once per session on 127.0.0.1 (reloaded
between policies); every answer must be one that :func:`corsgen.evaluate.evaluate` accepts.
Requests go to a proxied upstream (which sends CORS headers of its own and records whether
it was reached), to a locally served file, or through HTTP basic authentication that they
never satisfy (preflights must still get 204, other requests the 401 with CORS headers).

A failure prints the policy as YAML and each differing request as code, with a regression
test ready to paste below.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import idna
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from corsgen.compare import Observed, differences
from corsgen.errors import PolicyError
from corsgen.evaluate import Request, Verdict, evaluate
from corsgen.load import load_text
from corsgen.origins import DEFAULT_PORTS, HeaderOrigin, OriginKind, read_origin
from corsgen.policy import ALL_METHODS, Policy, policy_from_document
from corsgen.public_suffix import is_public_suffix
from corsgen.samples import entry_examples, entry_lookalikes, lookalikes
from tests.edge_servers import (
    EDGES,
    ConfigRejected,
    Edge,
)

pytestmark = pytest.mark.slow

# Bounded so the file runs in well under three minutes on 2 cores; raise it locally with
# CORSGEN_DIFFERENTIAL_EXAMPLES=500 for a longer hunt.
EXAMPLES = int(os.environ.get("CORSGEN_DIFFERENTIAL_EXAMPLES", "150"))
REQUESTS_PER_POLICY = (16, 28)

STATS: dict[str, dict[str, int]] = {}


# --- servers: the session fixtures nginx_edge / apache_edge come from tests/edge_servers.py


@pytest.fixture(params=sorted(EDGES))
def edge(request: pytest.FixtureRequest) -> Edge:
    return request.getfixturevalue(f"{request.param}_edge")


def parse(text: str) -> Policy:
    return policy_from_document(load_text(textwrap.dedent(text), Path("policy.yaml")))


# --- checking one policy against one server -------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """A request plus what the test upstream answers when it is reached."""

    request: Request
    upstream_status: int = 200
    upstream_vary: tuple[str, ...] = ()
    location: str = "proxy"  # or "static" (a local file), "auth" (behind basic auth)

    def as_code(self) -> str:
        if self.location != "proxy":
            return f"Probe({self.request.as_code()}, location={self.location!r})"
        extra = ""
        if self.upstream_status != 200:
            extra += f", upstream_status={self.upstream_status}"
        if self.upstream_vary:
            extra += f", upstream_vary={self.upstream_vary!r}"
        return f"Probe({self.request.as_code()}{extra})" if extra else self.request.as_code()


class Scenario:
    """A generated policy and the requests sent under it; printed as YAML plus code."""

    def __init__(self, policy_data: dict, probes: tuple[Probe, ...]) -> None:
        self.policy_data = policy_data
        self.probes = probes

    @property
    def policy_yaml(self) -> str:
        return to_yaml(self.policy_data)

    def __repr__(self) -> str:
        probes = "".join(f"\n    {probe.as_code()}," for probe in self.probes)
        return f'Scenario(policy="""\\\n{self.policy_yaml}""", probes=[{probes}\n])'

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(repr(self))  # type: ignore[attr-defined]


def to_yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


@dataclass(frozen=True)
class Difference:
    probe: Probe
    verdict: Verdict
    observed: Observed
    found: list[str]

    def report(self, edge: Edge, policy_yaml: str) -> str:
        answered = [
            f"{name}: {value}"
            for name, value in self.observed.headers
            if name.lower().startswith("access-control-") or name.lower() == "vary"
        ]
        verdict = self.verdict
        either = f" (or {len(verdict.alternatives)} other answers)" if verdict.either else ""
        return (
            f"{edge.name} differs from the evaluator on {self.probe.as_code()}\n"
            f"  policy:\n{textwrap.indent(policy_yaml, '    ')}"
            f"  expected: {verdict.answer.value} {verdict.headers} "
            f"Vary ⊇ {list(verdict.vary)}{either}\n"
            f"  origin:   {verdict.origin.reason}\n"
            f"  got:      {self.observed.status} (upstream reached: "
            f"{self.observed.reached_upstream}) {answered}\n"
            + "".join(f"  - {line}\n" for line in self.found)
            + "\nRegression test, ready to paste into tests/test_differential.py:\n\n"
            + regression_snippet(edge, policy_yaml, self.probe)
        )


def regression_test_name(edge: Edge, probe: Probe) -> str:
    words = re.sub(r"[^a-z0-9]+", "_", (probe.request.origin or "no_origin").lower()).strip("_")
    kind = "preflight" if probe.request.is_preflight else probe.request.method.lower()
    return f"test_{edge.name}_answers_{kind}_from_{words}_as_the_evaluator_says"[:90]


def regression_snippet(edge: Edge, policy_yaml: str, probe: Probe) -> str:
    body = textwrap.indent(policy_yaml, " " * 8)
    return (
        f"def {regression_test_name(edge, probe)}({edge.name}_edge):\n"
        f"    assert_edge_agrees(\n"
        f"        {edge.name}_edge,\n"
        f'        """\\\n{body}        """,\n'
        f"        {probe.as_code()},\n"
        f"    )\n"
    )


def run_probes(edge: Edge, policy_yaml: str, probes: tuple[Probe, ...]) -> list[Difference]:
    """Load the policy into ``edge`` and send every probe; return the differences."""
    policy = parse(policy_yaml)
    stats = STATS.setdefault(edge.name, {"policies": 0, "requests": 0, "refused": 0})
    if not edge.load_policy(policy):
        stats["refused"] += 1  # refused by render, as its target says (checked there)
        return []
    stats["policies"] += 1
    found = []
    with httpx.Client(timeout=10.0, follow_redirects=False) as client:
        for probe in probes:
            exchange = edge.exchange(
                client, probe.request, probe.upstream_status, probe.upstream_vary, probe.location
            )
            stats["requests"] += 1
            verdict = evaluate(policy, probe.request)
            lines = differences(verdict, exchange.observed)
            if lines:
                found.append(Difference(probe, verdict, exchange.observed, lines))
    return found


# Removing policy keys and list items one at a time, keeping each removal after which the
# request still fails, turns a generated policy into a short regression test. Bounded: each
# attempt is one reload.
MINIMISE_ATTEMPTS = 60
_REMOVABLE_KEYS = tuple(
    key for key in Policy.model_fields if key not in ("version", "name", "origins")
)
_SHRINKABLE_LISTS = ("origins", "origin_regex", "allow_methods", "allow_headers", "expose_headers")


def minimise(edge: Edge, data: dict, probe: Probe) -> dict:
    """A smaller policy under which ``probe`` still gets a wrong answer from ``edge``."""
    attempts = 0

    def still_fails(candidate: dict) -> bool:
        nonlocal attempts
        attempts += 1
        try:
            parse(to_yaml(candidate))
        except PolicyError:
            return False
        try:
            return bool(run_probes(edge, to_yaml(candidate), (probe,)))
        except ConfigRejected:
            return False

    def candidates(current: dict) -> Iterator[dict]:
        for key in _REMOVABLE_KEYS:
            if key in current:
                yield {k: v for k, v in current.items() if k != key}
        for key in _SHRINKABLE_LISTS:
            value = current.get(key)
            if isinstance(value, list) and len(value) > 1:
                for index in range(len(value)):
                    yield {**current, key: value[:index] + value[index + 1 :]}

    changed = True
    while changed and attempts < MINIMISE_ATTEMPTS:
        changed = False
        for candidate in candidates(data):
            if attempts >= MINIMISE_ATTEMPTS:
                break
            if still_fails(candidate):
                data, changed = candidate, True
                break
    return data


def check_scenario(edge: Edge, scenario: Scenario) -> None:
    """Fail with a minimised, paste-ready report when the edge departs from the evaluator."""
    policy_yaml = scenario.policy_yaml
    try:
        found = run_probes(edge, policy_yaml, scenario.probes)
    except ConfigRejected as exc:
        pytest.fail(f"{edge.name} rejected the config rendered from:\n{policy_yaml}\n{exc}")
    if not found:
        return
    first = found[0]
    smaller = minimise(edge, scenario.policy_data, first.probe)
    smaller_yaml = to_yaml(smaller)
    repeat = run_probes(edge, smaller_yaml, (first.probe,))
    if repeat:
        first, policy_yaml = repeat[0], smaller_yaml
    others = "".join(
        f"\n  also: {difference.probe.as_code()}: {difference.found[0]}"
        for difference in found[1:6]
    )
    pytest.fail(
        f"{len(found)} of {len(scenario.probes)} requests differ.\n\n"
        + first.report(edge, policy_yaml)
        + (f"\nUnder the generated policy:\n{scenario.policy_yaml}{others}" if others else "")
    )


def assert_edge_agrees(edge: Edge, policy_yaml: str, probe: Request | Probe) -> None:
    """Regression-test helper: one request under one policy, checked like the property."""
    if isinstance(probe, Request):
        probe = Probe(probe)
    policy_yaml = textwrap.dedent(policy_yaml)
    found = run_probes(edge, policy_yaml, (probe,))
    assert not found, found[0].report(edge, policy_yaml)


# --- strategies ---------------------------------------------------------------------------------

DNS_HOSTS = (
    "app.example.com",
    "example.org",
    "api.example.net",
    "localhost",
    "xn--bcher-kva.example",
    "a-b_c.example.com",
)
IP_HOSTS = ("127.0.0.1", "[::1]", "10.0.0.7")
PORTS = (None, 3000, 8080, 8443, 80, 443)
HEADERS = ("Content-Type", "Authorization", "X-Requested-With", "X-Custom-Header", "x-api-key")
REGEXES = (
    r"^https://pr-[0-9]+\.preview\.example\.dev$",
    r"https://[a-z0-9-]+\.regex\.example\.net(:[0-9]{2,5})?",
    r"^https?://(foo|bar)\.example\.com$",
    r"^https://app.dotted.example$",
    r"^http://localhost:[0-9]{4}$",
    r"^https://[a-z]{1,3}\.short\.example$",
    r"^(?:https://(?:[a-z]+\.)+multi\.example)$",
)
UPSTREAM_STATUSES = (200, 201, 302, 401, 403, 404, 500, 503)
UPSTREAM_VARY = ((), ("Accept-Encoding",), ("Origin",), ("Accept-Encoding", "Origin"), ("Cookie",))


def _case_mangled(draw: st.DrawFn, text: str) -> str:
    # Policies may be written in any case; the spec normalises scheme and host.
    if draw(st.booleans()):
        return text
    return "".join(character.upper() if draw(st.booleans()) else character for character in text)


_LABEL = r"[a-z0-9_-]{1,63}"


def _is_dns_name(host: str) -> bool:
    # A last label that is a number (or 0x...) makes the host an IPv4 address to browsers.
    last = host.rsplit(".", 1)[-1]
    return len(host) <= 253 and not last.isdigit() and not last.lower().startswith("0x")


random_hosts = st.from_regex(rf"{_LABEL}(\.{_LABEL}){{0,3}}", fullmatch=True).filter(_is_dns_name)


@st.composite
def origin_entries(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["exact", "exact", "wildcard", "any-port", "both", "null", "app", "idn", "random"]
        )
    )
    scheme = draw(st.sampled_from(["http", "https"]))
    if kind == "null":
        return "null"
    if kind == "app":
        return draw(st.sampled_from(["capacitor://localhost", "chrome-extension://abcdefgh"]))
    if kind == "idn":
        return f"{scheme}://bücher.example"
    if kind == "random":
        # Any host the spec allows: labels of [a-z0-9_-] (a leading '-' or '_' included),
        # up to 63 characters each, which also exercises nginx's map hash sizing.
        host = draw(random_hosts)
        # "*." before a public suffix ("*.lv") is an error of the policy, not a wildcard.
        if draw(st.booleans()) and not is_public_suffix(host):
            host = "*." + host
    elif kind in ("wildcard", "both"):
        host = "*." + draw(st.sampled_from(DNS_HOSTS))
    else:
        host = draw(st.sampled_from(DNS_HOSTS + IP_HOSTS))
    if kind in ("any-port", "both"):
        port = ":*"
    else:
        number = draw(st.sampled_from(PORTS))
        port = f":{number}" if number else ""
    text = f"{scheme}://{host}{port}"
    text = _case_mangled(draw, text)
    return text + ("/" if draw(st.integers(0, 9)) == 0 else "")


def _header_list(draw: st.DrawFn, with_star: bool) -> list[str] | str:
    if with_star and draw(st.integers(0, 3)) == 0:
        return "*"
    return draw(st.lists(st.sampled_from(HEADERS), max_size=3, unique=True))


@st.composite
def policy_data(draw: st.DrawFn) -> dict:
    any_origin = draw(st.integers(0, 7)) == 0
    data: dict = {"version": 1, "name": draw(st.sampled_from(["diff", "edge-api", "p_2"]))}
    if any_origin:
        data["origins"] = draw(st.sampled_from(["*", ["*"]]))
    else:
        many = draw(st.integers(0, 9)) == 0  # now and then a long list
        data["origins"] = draw(st.lists(origin_entries(), min_size=1, max_size=60 if many else 5))
        if draw(st.booleans()):
            data["origin_regex"] = draw(
                st.lists(st.sampled_from(REGEXES), min_size=1, max_size=2, unique=True)
            )
    credentials = not any_origin and draw(st.booleans())
    if credentials or draw(st.booleans()):
        data["allow_credentials"] = credentials
    methods = draw(
        st.one_of(
            st.just("*"),
            st.lists(st.sampled_from(ALL_METHODS), min_size=1, max_size=4, unique=True),
            st.none(),
        )
    )
    if methods is not None:
        data["allow_methods"] = (
            [m.lower() if draw(st.booleans()) else m for m in methods]
            if isinstance(methods, list)
            else methods
        )
    headers = _header_list(draw, with_star=True)
    if headers:
        data["allow_headers"] = headers
    exposed = _header_list(draw, with_star=not credentials)
    if exposed:
        data["expose_headers"] = exposed
    if draw(st.booleans()):
        data["max_age"] = draw(st.sampled_from([0, 5, 600, 7200, 86400]))
    for flag in ("allow_private_network", "block_disallowed_origins"):
        if draw(st.booleans()):
            data[flag] = draw(st.booleans())
    return data


_VISIBLE_ASCII = re.compile(r"^[\x21-\x7e]+$")


def _origin_candidates(draw: st.DrawFn, policy: Policy) -> list[str]:
    """Allowed origins of every entry, with generated labels, ports and regex matches."""
    candidates: list[str] = []
    for entry in policy.origins:
        candidates.extend(entry_examples(entry))
        if entry.kind is OriginKind.PATTERN:
            label = draw(st.from_regex(r"[a-z0-9_-]{1,8}(\.[a-z0-9_-]{1,8}){0,2}", fullmatch=True))
            host = f"{label}.{entry.host}" if entry.any_subdomain else entry.host
            if entry.any_port:
                port = draw(st.one_of(st.none(), st.integers(1, 65535)))
            else:
                port = entry.port
            candidates.append(f"{entry.scheme}://{host}{f':{port}' if port else ''}")
    for pattern in policy.regex_patterns:
        sample = draw(st.from_regex(pattern, fullmatch=True))
        if _VISIBLE_ASCII.match(sample):
            candidates.append(sample)
    return candidates


def non_browser_forms(origin: str) -> list[str]:
    """An allowed Origin written as no browser writes it (spec section 4, Matching).

    The spec lets the server answer these either way; the evaluator must say what corsgen's
    servers do, or "either" only where nginx and Apache really differ. Upper case, the
    default port written out, leading zeros and out-of-range ports, trailing dot and slash,
    user information, an uncompressed IPv6 address, percent-encoding, the Unicode form of
    a punycode host.
    """
    if origin == "null":
        return ["NULL", "Null", "nulL"]
    parsed = read_origin(origin)
    if not isinstance(parsed, HeaderOrigin):
        return []
    scheme, host, port = parsed.scheme, parsed.host, parsed.port_suffix
    forms = [
        origin.upper(),
        f"{scheme.upper()}://{host}{port}",
        f"{scheme}://{host.upper()}{port}",
        f"{origin}/",
        f"{scheme}://{host}.{port}",
        f"{scheme}://user@{host}{port}",
        f"{scheme}://%{ord(host[0]):02x}{host[1:]}{port}",
    ]
    if scheme in DEFAULT_PORTS:
        default = DEFAULT_PORTS[scheme]
        number = parsed.port or default
        forms += [
            f"{scheme}://{host}:{number}",
            f"{scheme}://{host}:0{number}",
            f"{scheme}://{host}:{65536 + number}",
            f"{scheme.upper()}://{host}:0{number}",
        ]
        if host.startswith("["):
            exploded = ipaddress.IPv6Address(host[1:-1]).exploded
            forms.append(f"{scheme}://[{exploded}]{port}")
        # A generated label may only look like punycode (xn--...): then there is no form.
        if "xn--" in host:
            with contextlib.suppress(idna.IDNAError):
                forms.append(f"{scheme}://{idna.decode(host)}{port}")
    return [form for form in dict.fromkeys(forms) if form != origin]


@st.composite
def probes_for(draw: st.DrawFn, policy: Policy) -> tuple[Probe, ...]:
    allowed = _origin_candidates(draw, policy)
    attacks = [trick for origin in allowed for trick in lookalikes(origin)]
    attacks += [trick for entry in policy.origins for trick in entry_lookalikes(entry)]
    attacks += [form for origin in allowed for form in non_browser_forms(origin)]
    others = ["https://evil.example", "null", "NULL", "http://localhost", "", None]
    count = draw(st.integers(*REQUESTS_PER_POLICY))
    probes = []
    for _ in range(count):
        pool = draw(st.sampled_from(["allowed", "allowed", "attack", "attack", "other"]))
        source = {"allowed": allowed, "attack": attacks, "other": others}[pool] or others
        origin = draw(st.sampled_from(source))
        kind = draw(st.sampled_from(["preflight", "preflight", "actual", "actual", "options"]))
        if kind == "preflight":
            request = Request(
                "OPTIONS",
                origin,
                draw(st.sampled_from([*ALL_METHODS, "PURGE", ""])),
                draw(
                    st.one_of(
                        st.none(),
                        st.just(""),
                        st.lists(st.sampled_from(HEADERS), min_size=1, max_size=3).map(", ".join),
                        st.just("x-one,X-Two"),
                    )
                ),
                draw(st.sampled_from([None, None, "true", "false", "TRUE"])),
            )
        elif kind == "options":
            request = Request("OPTIONS", origin)  # no Access-Control-Request-Method
        else:
            method = draw(st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE"]))
            request = Request(method, origin)
        if origin and draw(st.integers(0, 9)) == 0:
            # A second Origin line (no browser sends one): nginx before 1.23 reads the
            # first, Apache joins them.
            second = draw(st.sampled_from([*allowed, *attacks, "https://evil.example"]))
            request = replace(request, more_origins=(second,))
        location = draw(st.sampled_from(["proxy"] * 6 + ["static", "auth"]))
        if location != "proxy":
            probes.append(Probe(request, location=location))
            continue
        probes.append(
            Probe(
                request,
                draw(st.sampled_from(UPSTREAM_STATUSES)),
                draw(st.sampled_from(UPSTREAM_VARY)),
            )
        )
    return tuple(probes)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    data = draw(policy_data())
    policy = parse(to_yaml(data))
    return Scenario(data, draw(probes_for(policy)))


# --- the property ----------------------------------------------------------------------------


# Hypothesis's own shrinking would reload a server hundreds of times; `minimise` above
# gives a short policy in a few dozen reloads. Set CORSGEN_DIFFERENTIAL_SHRINK=1 to have both.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
if os.environ.get("CORSGEN_DIFFERENTIAL_SHRINK") == "1":
    PHASES.append(Phase.shrink)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=PHASES,
    # CI runs the same examples every time (a red build is reproducible); locally each run
    # explores new ones, and Hypothesis's database replays any failure first.
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
@given(scenario=scenarios())
def _check(edge: Edge, scenario: Scenario) -> None:
    check_scenario(edge, scenario)


def test_the_edge_answers_every_generated_request_as_the_evaluator_says(edge: Edge) -> None:
    started = time.monotonic()
    _check(edge)
    stats = STATS.get(edge.name, {})
    print(
        f"\n{edge.name}: {stats.get('policies', 0)} policies, {stats.get('requests', 0)} "
        f"requests, {stats.get('refused', 0)} policies refused by render "
        f"in {time.monotonic() - started:.1f}s"
    )


# --- origins no browser sends: what corsgen's servers really do ---------------------------------

FORMS_POLICY = r"""
version: 1
name: forms
origins:
  - http://localhost
  - https://a.example.com
  - http://localhost:3000
  - https://*.wild.example
  - http://127.0.0.1:*
  - http://[::1]:8080
  - https://bücher.example
  - capacitor://localhost
  - "null"
origin_regex:
  - '^https://pr-[0-9]+\.preview\.example\.dev$'
allow_private_network: true
"""

# Each allowed origin of FORMS_POLICY as a browser sends it, then as none does.
FORMS_ALLOWED = (
    "http://localhost",
    "https://a.example.com",
    "http://localhost:3000",
    "https://x.wild.example",
    "http://127.0.0.1",
    "http://127.0.0.1:8080",
    "http://[::1]:8080",
    "https://xn--bcher-kva.example",
    "capacitor://localhost",
    "null",
    "https://pr-1.preview.example.dev",
)
FORMS = tuple(
    dict.fromkeys(
        [
            "http://localhost:80",
            "https://a.example.com:443",
            "http://localhost:03000",
            "HTTP://LOCALHOST",
            "https://X.WILD.EXAMPLE",
            "https://x.wild.example:443",
            "http://127.0.0.1:080",
            "HTTP://127.0.0.1:080",
            "http://127.0.0.1:0",
            "http://[0:0:0:0:0:0:0:1]:8080",
            "https://bücher.example",
            "https://XN--BCHER-KVA.example",
            "NULL",
            "CAPACITOR://localhost",
            *(form for origin in FORMS_ALLOWED for form in non_browser_forms(origin)),
        ]
    )
)


def _client_view(observed: Observed) -> tuple[object, ...]:
    """What a browser would act on: the status and the Access-Control-* headers."""
    cors = sorted(
        (name.lower(), value)
        for name, value in observed.headers
        if name.lower().startswith("access-control-")
    )
    return observed.status, cors


@pytest.fixture
def every_edge(request: pytest.FixtureRequest) -> list[Edge]:
    """Every edge of EDGES, each started once per session."""
    return [request.getfixturevalue(f"{name}_edge") for name in EDGES]


def test_origins_no_browser_sends_get_the_answer_the_evaluator_predicts_on_every_server(
    every_edge: list[Edge],
) -> None:
    # `explain` said 204 for http://localhost:80 while both servers answered 403: the
    # evaluator must predict corsgen's servers, and say "either" only where they differ.
    # Its "either" comes from nginx and Apache (see corsgen.evaluate); HAProxy must give
    # one of the answers it allows: Apache's on ASCII case (of the Origin and of
    # Access-Control-Request-Private-Network), nginx 1.22's on a second Origin line
    # (docs/haproxy.md, Known limits); Envoy too (docs/envoy.md). Caddy joins a second Origin
    # line as Apache does.
    # Traefik gives the first-line answer, or its own on a second Origin line
    # (docs/traefik.md, Known limits).
    policy = parse(FORMS_POLICY)
    requests = [
        request
        for origin in FORMS
        for request in (
            Request("OPTIONS", origin, "PUT", request_private_network="true"),
            Request("GET", origin),
        )
    ]
    requests += [
        Request("OPTIONS", "http://localhost", "PUT", more_origins=("https://evil.example",)),
        Request("OPTIONS", "https://evil.example", "PUT", more_origins=("http://localhost",)),
        Request("GET", "http://localhost", more_origins=("http://localhost",)),
    ]
    observed: dict[str, list[Observed]] = {}
    for edge in every_edge:
        edge.load(edge.render_files(policy))
        with httpx.Client(timeout=10.0, follow_redirects=False) as client:
            observed[edge.name] = [edge.exchange(client, request).observed for request in requests]
    problems = []
    for index, request in enumerate(requests):
        verdict = evaluate(policy, request)
        views = {name: _client_view(answers[index]) for name, answers in observed.items()}
        for name, answers in observed.items():
            problems += [
                f"{name}: {request.as_code()}: {line}"
                for line in differences(verdict, answers[index])
            ]
        # "either" must come from servers that really differ (Traefik's reading of a second
        # Origin line is one of them).
        if verdict.either and len({repr(view) for view in views.values()}) == 1:
            problems.append(
                f"{request.as_code()}: the evaluator says either, but every server answers "
                f"{views['nginx'][0]}: {verdict.origin.reason}"
            )
    assert not problems, f"{len(problems)} of {len(requests)} requests:\n" + "\n".join(problems)


@pytest.mark.parametrize("asked", ["true", None])
def test_preflight_answers_vary_on_the_private_network_request_header_when_enabled(
    edge: Edge, asked: str | None
) -> None:
    # With allow_private_network the answer (ACAPN or not) depends on the request's
    # Access-Control-Request-Private-Network: a cache must key on it.
    policy_yaml = "version: 1\nname: pna\norigins: [https://app.example.com]\n"
    policy_yaml += "allow_private_network: true\n"
    edge.load(edge.render_files(parse(policy_yaml)))
    with httpx.Client(timeout=10.0) as client:
        for origin in ("https://app.example.com", "https://evil.example"):
            request = Request("OPTIONS", origin, "GET", request_private_network=asked)
            observed = edge.exchange(client, request).observed
            vary = [value for name, value in observed.headers if name.lower() == "vary"]
            assert "access-control-request-private-network" in ", ".join(vary).lower()
            assert not differences(evaluate(parse(policy_yaml), request), observed)
    assert_edge_agrees(edge, policy_yaml, Request("GET", "https://app.example.com"))


# --- origin_regex: the accepted subset means the same on both servers (issue 10) ------------

# Regexes at the edges of the subset (classes with ']' first or '-', \w, negated classes,
# unrolled counts, nested repetition that one '\.' keeps unambiguous), and origins that
# tell their readings apart.
SUBSET_REGEXES = (
    r"^https://([a-z0-9-]+\.)*regex\.example\.com$",
    r"^https://[^.]+\.neg\.example$",
    r"^https://\w+\.word\.example$",
    r"^https://[]a-]+\.class\.example$",
    r"^http://127\.0\.0\.1:[0-9]{1,5}$",
    r"^https://x{2,3}\.count\.example$",
    r"^https://(app|admin)(-[a-z]+)?\.alt\.example$",
)
SUBSET_ORIGINS = (
    "https://regex.example.com",
    "https://a.b-c.regex.example.com",
    "https://a_b.regex.example.com",
    "https://regex.example.com.evil.example",
    "https://evilregex.example.com",
    "https://a.neg.example",
    "https://a:1.neg.example",
    "https://a.b.neg.example",
    "https://a_1.word.example",
    "https://a-1.word.example",
    "https://a]-.class.example",
    "https://b.class.example",
    "http://127.0.0.1:8",
    "http://127.0.0.1:123456",
    "https://x.count.example",
    "https://xxx.count.example",
    "https://xxxx.count.example",
    "https://admin-eu.alt.example",
    "https://appadmin.alt.example",
)


def test_the_edge_matches_subset_regexes_as_the_evaluator_says(edge: Edge) -> None:
    policy_yaml = to_yaml(
        {
            "version": 1,
            "name": "subset",
            "origins": ["https://app.example.com"],
            "origin_regex": list(SUBSET_REGEXES),
        }
    )
    probes = tuple(
        Probe(request)
        for origin in SUBSET_ORIGINS
        for request in (Request("GET", origin), Request("OPTIONS", origin, "GET"))
    )
    found = run_probes(edge, policy_yaml, probes)
    assert not found, found[0].report(edge, policy_yaml)


def test_a_crafted_origin_costs_an_accepted_regex_no_time(edge: Edge) -> None:
    # Before issue 10, '([a-z0-9]+-?)*' was accepted and this Origin made PCRE backtrack
    # for every way of splitting the letters; the unambiguous form answers at once.
    policy_yaml = to_yaml(
        {
            "version": 1,
            "name": "linear",
            "origins": ["https://app.example.com"],
            "origin_regex": [r"^https://([a-z0-9]+-)*[a-z0-9]+\.example\.com$"],
        }
    )
    origin = "https://" + "a" * 3000 + "!.example.com"
    found = run_probes(edge, policy_yaml, ())
    assert not found
    with httpx.Client(timeout=10.0) as client:
        started = time.monotonic()
        observed = edge.exchange(client, Request("GET", origin)).observed
        elapsed = time.monotonic() - started
    assert not differences(evaluate(parse(policy_yaml), Request("GET", origin)), observed)
    assert elapsed < 1.0


def test_envoy_passes_every_origin_on_under_any_origin_with_block_disallowed_origins(
    envoy_edge: Edge,
) -> None:
    # Found by the property test above: Envoy's blocked matcher once took every Origin under
    # origins "*" (where none is disallowed) and answered 403.
    assert_edge_agrees(
        envoy_edge,
        """\
        version: 1
        name: diff
        origins:
        - '*'
        block_disallowed_origins: true
        """,
        Probe(
            Request(method="OPTIONS", origin="https://evil.example@corsgen-probe.example"),
            upstream_status=401,
            upstream_vary=("Accept-Encoding",),
        ),
    )
