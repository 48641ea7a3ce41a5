"""corsgen performance benchmark: real nginx, Apache, HAProxy, Envoy and uvicorn on 127.0.0.1,
by wrk.

    python3 bench/run.py            # full run (~15-20 min), writes docs/performance.md
    python3 bench/run.py --quick    # fewer sizes and shorter runs (~3 min)

Every throughput figure is a ratio to a baseline measured in the same interleaved run:
within a block, the baseline and the block's cases take turns (A B C A C B ... A), each
case's ratio in a round is taken against the mean of the baseline runs just before and
just after it, and the figure is the median over the rounds. Other load on the machine
then moves A and B alike instead of the result. Besides requests/s, the server's own CPU time per
request is read from /proc: when wrk rather than the server is the bottleneck, requests/s
hide a cost that the CPU time still shows.

Not a test: it measures and reports; the verdict column compares with the targets of the
performance issue but never fails the run.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

# The bench folder is a script directory; edgeharness (the servers) is at the top.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import drive  # noqa: E402 - the bench folder is a script directory, not a package
import edges  # noqa: E402
from drive import Measurement, Request  # noqa: E402
from edges import Answer, Server, Site  # noqa: E402
from report import CliResult, RunInfo, report, write_doc  # noqa: E402

from edgeharness.targets import nginx_http_directives  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "performance.md"

# The policy every case uses, apart from its origins: typical of an API behind an edge.
POLICY_TAIL = """\
allow_credentials: true
allow_methods: [GET, POST, PUT, DELETE]
allow_headers: [Authorization, Content-Type]
expose_headers: [X-Request-Id]
max_age: 600
"""

# wrk runs on CPU 0, the server on CPU 1: the two never compete for a core.
CLIENT_CPU = "0"
SERVER_CPU = "1"
CONNECTIONS = 32


# --- policies -------------------------------------------------------------------------------

_LABELS = ("app", "www", "portal", "api", "dashboard")
_TLDS = ("com", "net", "io", "org", "dev")


def exact_origin(i: int) -> str:
    """The i-th origin of an allow-list: varied labels and top-level domains, like real ones."""
    return f"https://{_LABELS[i % 5]}.customer-{i}.{_TLDS[(i // 5) % 5]}"


def wildcard_entry(i: int) -> str:
    return f"https://*.tenant{i}.example.com"


def wildcard_origin(i: int) -> str:
    return f"https://app.tenant{i}.example.com"


@dataclass(frozen=True)
class PolicySpec:
    name: str
    origins: tuple[str, ...]

    def yaml(self) -> str:
        items = "".join(f"  - {origin}\n" for origin in self.origins)
        return f"version: 1\nname: {self.name}\norigins:\n{items}{POLICY_TAIL}"


def exact_policy(size: int) -> PolicySpec:
    return PolicySpec(f"exact-{size}", tuple(exact_origin(i) for i in range(size)))


def wildcard_policy(size: int) -> PolicySpec:
    return PolicySpec(f"wildcard-{size}", tuple(wildcard_entry(i) for i in range(size)))


# --- requests -------------------------------------------------------------------------------


def get(origin: str | None) -> Request:
    return Request("GET", (("Origin", origin),) if origin else ())


def preflight(origin: str) -> Request:
    return Request(
        "OPTIONS",
        (
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ),
    )


def distinct_disallowed() -> Request:
    return Request("GET", (), distinct_origin_template="https://x{n}.not-allowed.example.net")


# What a correct answer looks like, checked once before a case is measured.
def plain(answer: Answer) -> str | None:
    return None if answer.status == 200 else f"status {answer.status}"


def allowed_for(origin: str) -> Callable[[Answer], str | None]:
    def expect(answer: Answer) -> str | None:
        if answer.status != 200:
            return f"status {answer.status}"
        if answer.headers.get("access-control-allow-origin") != origin:
            return f"ACAO {answer.headers.get('access-control-allow-origin')!r}, wanted {origin}"
        return None

    return expect


def denied(answer: Answer) -> str | None:
    if answer.status != 200:
        return f"status {answer.status}"
    if "access-control-allow-origin" in answer.headers:
        return "ACAO on a disallowed origin"
    return None


def preflight_ok(origin: str) -> Callable[[Answer], str | None]:
    def expect(answer: Answer) -> str | None:
        if answer.status not in (200, 204):
            return f"status {answer.status}"
        if answer.headers.get("access-control-allow-origin") != origin:
            return "no ACAO on an allowed preflight"
        return None

    return expect


# --- cases and blocks -----------------------------------------------------------------------


@dataclass
class Case:
    key: str
    server: str  # "nginx" | "apache" | "uvicorn"
    label: str
    size: str
    request: Request
    expect: Callable[[Answer], str | None]
    port: int = 0
    target: float | None = None  # the minimum ratio to the block's baseline
    target_text: str = ""
    # A case is compared with the baseline of its group: "many" cases send a new Origin
    # per request from a Lua hook, which costs wrk itself, so their baseline does too.
    group: str = "main"
    runs: list[Measurement] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    cost_ratios: list[float] = field(default_factory=list)


@dataclass
class Block:
    title: str
    baseline: Case
    cases: list[Case]


def write_policy(spec: PolicySpec, root: Path) -> Path:
    path = root / "policies" / f"{spec.name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(spec.yaml(), encoding="utf-8")
    return path


def render(
    spec: PolicySpec, target: str, root: Path, options: dict[str, tuple[str, ...]] | None = None
) -> dict[str, str]:
    from corsgen.policy import load_policy
    from corsgen.render import render as render_policy

    return render_policy(load_policy(write_policy(spec, root)), target, options or {}).files


# Reference configuration of the kind ingress-nginx generates for a list of origins: a
# case-insensitive alternation in an ``if``, tried on every request. nginx reads at most
# 4096 bytes as one config token, so a long list needs several ``if`` blocks.
NGINX_TOKEN_LIMIT = 4000


def reference_if_regex(origins: tuple[str, ...]) -> str:
    chunks: list[list[str]] = [[]]
    for origin in origins:
        escaped = re.escape(origin).replace("\\-", "-")
        if sum(len(item) + 1 for item in chunks[-1]) + len(escaped) > NGINX_TOKEN_LIMIT:
            chunks.append([])
        chunks[-1].append(escaped)
    tests = "".join(
        f'if ($http_origin ~* "^({"|".join(chunk)})$") {{\n'
        '    set $ref_cors "true";\n'
        "    set $ref_cors_origin $http_origin;\n"
        "}\n"
        for chunk in chunks
    )
    return f"""set $ref_cors "";
set $ref_cors_origin "";
{tests}if ($request_method = OPTIONS) {{
    set $ref_cors "${{ref_cors}}options";
}}
if ($ref_cors = "trueoptions") {{
    return 204;
}}
add_header Access-Control-Allow-Origin $ref_cors_origin always;
add_header Vary Origin always;
"""


# Reference: the least any nginx config can do for this policy's ordinary responses: one
# map on the Origin and the four headers an allowed response carries, no preflight
# handling. What it costs over the baseline is the price of the headers themselves.
def reference_minimal(origins: tuple[str, ...]) -> tuple[str, str]:
    keys = "".join(f'    "{origin}" 1;\n' for origin in origins)
    http = (
        f"map $http_origin $ref_min_allowed {{\n    default 0;\n{keys}}}\n"
        'map $ref_min_allowed $ref_min_origin {\n    default "";\n    1 $http_origin;\n}\n'
        'map $ref_min_allowed $ref_min_credentials {\n    default "";\n    1 true;\n}\n'
        'map $ref_min_allowed $ref_min_expose {\n    default "";\n    1 X-Request-Id;\n}\n'
    )
    location = (
        "add_header Access-Control-Allow-Origin $ref_min_origin always;\n"
        "add_header Access-Control-Allow-Credentials $ref_min_credentials always;\n"
        "add_header Access-Control-Expose-Headers $ref_min_expose always;\n"
        "add_header Vary Origin always;\n"
    )
    return http, location


# Reference for Apache: the exact origins in a RewriteMap txt: file, the form an opt-in
# "lookup file beside NAME.conf" would take. mod_rewrite caches every answer, but on a
# miss it reads the file line by line (and it caches misses too, without a bound).
def reference_rewritemap(name: str, map_file: Path, origins: tuple[str, ...]) -> str:
    map_file.write_text("".join(f"{origin} 1\n" for origin in sorted(origins)), encoding="utf-8")
    map_file.chmod(0o644)
    return f"""    RewriteEngine On
    RewriteMap {name} "txt:{map_file}"
    RewriteCond %{{HTTP:Origin}} . [NV]
    RewriteCond ${{{name}:%{{HTTP:Origin}}|0}} =1 [NV]
    RewriteRule ^ - [E=REF_CORS:1]
    Header always set Access-Control-Allow-Origin "expr=%{{req:Origin}}" env=REF_CORS
    Header always merge Vary "Origin"
"""


# Reference for HAProxy: the least a fragment sending this policy's headers can do — one
# map lookup and the four response headers, no preflights, no removal of upstream headers.
def haproxy_reference_minimal(map_file: Path, origins: tuple[str, ...]) -> str:
    map_file.write_text("".join(f"{origin} {origin}\n" for origin in origins), encoding="utf-8")
    found = "{ var(txn.ref_min.origin) -m found }"
    return (
        f'http-request set-var(txn.ref_min.origin) req.fhdr(origin,1),map_str("{map_file}")\n'
        "http-after-response set-header Access-Control-Allow-Origin"
        f' "%[var(txn.ref_min.origin)]" if {found}\n'
        f'http-after-response set-header Access-Control-Allow-Credentials "true" if {found}\n'
        f'http-after-response set-header Access-Control-Expose-Headers "X-Request-Id" if {found}\n'
        'http-after-response add-header Vary "Origin"\n'
    )


# Reference for Envoy: the least an Envoy configuration sending these headers can do. Envoy
# has no per-request condition on response_headers_to_add, so even the minimal form needs a
# filter: a composite filter whose matcher (an exact_match_map on the Origin, the one
# lookup) runs, for an allowed Origin, a header_mutation adding the three headers to the
# response; the virtual host adds Vary: Origin. No preflight handling, nothing removed from
# upstream responses, no local-reply mappers. (A set_filter_state action read back by the
# virtual host's headers, measured first, costs about 8 000 more instructions a request:
# bench/envoy_pieces.py.)
def envoy_reference_minimal(origins: tuple[str, ...]) -> str:
    composite = "type.googleapis.com/envoy.extensions.filters.http.composite.v3"
    headers = {
        "Access-Control-Allow-Origin": "%REQ(origin)%",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "X-Request-Id",
    }
    allowed = {
        "name": "ref_min.allowed",
        "typed_config": {
            "@type": f"{composite}.ExecuteFilterAction",
            "typed_config": {
                "name": "ref_min.allowed",
                "typed_config": {
                    "@type": "type.googleapis.com/"
                    "envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
                    "mutations": {
                        "response_mutations": [
                            {
                                "append": {
                                    "header": {"key": key, "value": value},
                                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                                }
                            }
                            for key, value in headers.items()
                        ]
                    },
                },
            },
        },
    }
    lookup = {
        "name": "ref_min.origin",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher",
            "extension_config": {
                "name": "composite",
                "typed_config": {"@type": f"{composite}.Composite"},
            },
            "xds_matcher": {
                "matcher_tree": {
                    "input": {
                        "name": "origin",
                        "typed_config": {
                            "@type": "type.googleapis.com/"
                            "envoy.type.matcher.v3.HttpRequestHeaderMatchInput",
                            "header_name": "origin",
                        },
                    },
                    "exact_match_map": {"map": {origin: {"action": allowed} for origin in origins}},
                }
            },
        },
    }
    host = {
        "response_headers_to_add": [
            {
                "header": {"key": "Vary", "value": "Origin"},
                "append_action": "APPEND_IF_EXISTS_OR_ADD",
            }
        ]
    }
    part = {"http_filters": [lookup], "virtual_host": host, "local_reply_config": {"mappers": []}}
    return yaml.safe_dump(part, sort_keys=False, width=1000)


def envoy_reference_static(origin: str) -> str:
    """What the headers alone cost: the virtual host adds the same four to every response,
    whatever the Origin (not CORS: a lower bound for any configuration that sends them)."""
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "X-Request-Id",
    }
    added = [
        {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
        for key, value in headers.items()
    ]
    added.append(
        {"header": {"key": "Vary", "value": "Origin"}, "append_action": "APPEND_IF_EXISTS_OR_ADD"}
    )
    part = {
        "http_filters": [],
        "virtual_host": {"response_headers_to_add": added},
        "local_reply_config": {"mappers": []},
    }
    return yaml.safe_dump(part, sort_keys=False, width=1000)


# --- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    rounds: int
    seconds: int
    exact_sizes: tuple[int, ...]
    wildcard_sizes: tuple[int, ...]
    reference_sizes: tuple[int, ...]  # nginx: regex alternation in an if
    lookup_sizes: tuple[int, ...]  # Apache: RewriteMap txt: file
    cli_sizes: tuple[int, ...]
    cli_repeats: int


FULL = Plan(
    rounds=5,
    seconds=3,
    exact_sizes=(10, 1_000, 10_000, 100_000),
    wildcard_sizes=(10, 100, 1_000),
    reference_sizes=(10, 1_000),
    lookup_sizes=(10_000, 100_000),
    cli_sizes=(10, 10_000, 100_000),
    cli_repeats=3,
)
QUICK = Plan(
    rounds=3,
    seconds=2,
    exact_sizes=(10, 10_000),
    wildcard_sizes=(1_000,),
    reference_sizes=(1_000,),
    lookup_sizes=(10_000,),
    cli_sizes=(100_000,),
    cli_repeats=1,
)
CASES_PER_BLOCK = 4
NGINX_TARGET = 0.95
# Issue 17: corsgen's nginx against the floor (one hashed map, the same response headers,
# no preflight handling): no CORS layer that sends those headers can cost less.
NGINX_FLOOR_TARGET_EXACT = 0.97
NGINX_FLOOR_TARGET_WILDCARD = 0.95
FLOOR_LABEL = "floor: one hashed map + the same response headers, no preflights"
APACHE_TARGET = 0.90
APACHE_TARGET_UP_TO = 10_000
EDGE_OVER_APP_TARGET = 5.0


# Issue 12: HAProxy with corsgen against HAProxy without CORS, at every size.
HAPROXY_TARGET = 0.90
# Issue 14: Caddy with corsgen against Caddy without CORS, at every size.
CADDY_TARGET = 0.90
# Issue 14: Traefik with corsgen against Traefik without CORS.
TRAEFIK_TARGET = 0.90
# The edges the benchmark can run, in the order it starts them.
EDGE_SERVERS = ("nginx", "apache", "haproxy", "caddy", "traefik", "envoy")
# Issue 13: Envoy with corsgen against Envoy without CORS, at every size.
ENVOY_TARGET = 0.90


def target_text(target: float | None) -> str:
    return f"≥ {target:.2f}" if target else ""


@dataclass
class Bench:
    """Everything one run sets up: sites per server, and the cases measured on them."""

    root: Path
    sites: dict[str, list[Site]] = field(
        default_factory=lambda: {server: [] for server in EDGE_SERVERS}
    )
    cases: list[Case] = field(default_factory=list)
    baselines: dict[tuple[str, str], Case] = field(default_factory=dict)
    anchor_policy: Path | None = None

    def site(self, server: str, name: str, body: str, http_text: str = "") -> int:
        port = edges.free_port()
        self.sites[server].append(Site(name, port, http_text=http_text, body=body))
        return port

    def policy_site(self, server: str, spec: PolicySpec) -> int:
        if server == "traefik":
            # The routers name the site's entry point: the port comes first.
            port = edges.free_port()
            (text,) = render(spec, server, self.root, edges.traefik_options(port)).values()
            self.sites[server].append(Site(spec.name, port, body=text))
            return port
        files = render(spec, server, self.root)
        if server == "nginx":
            location, http = files[f"{spec.name}.location.conf"], files[f"{spec.name}.http.conf"]
            return self.site(server, spec.name, location, http)
        if server == "haproxy":
            # One map directory for every frontend, as docs/haproxy.md says (CORSGEN_MAP_DIR).
            self.haproxy_map_dir.mkdir(exist_ok=True)
            for name, text in files.items():
                if name.endswith(".map"):
                    (self.haproxy_map_dir / name).write_text(text, encoding="utf-8")
            return self.site(server, spec.name, files[f"{spec.name}.haproxy.cfg"])
        if server == "caddy":
            return self.site(server, spec.name, files[f"{spec.name}.caddy"])
        if server == "envoy":
            return self.site(server, spec.name, files[f"{spec.name}.envoy.yaml"])
        return self.site(server, spec.name, files[f"{spec.name}.conf"])

    @property
    def haproxy_map_dir(self) -> Path:
        return self.root / "haproxy-maps"

    def pair(
        self,
        server: str,
        port: int,
        key: str,
        label: str,
        size: int,
        origins: tuple[str, str],
        target: float | None,
    ) -> None:
        """A site's two cases: a GET from an allowed and from a disallowed Origin."""
        allowed, outsider = origins
        for suffix, request, expect in (
            ("allowed", get(allowed), allowed_for(allowed)),
            ("denied", get(outsider), denied),
        ):
            self.cases.append(
                Case(
                    f"{server}-{key}-{suffix}",
                    server,
                    label,
                    f"{size:,}",
                    request,
                    expect,
                    port=port,
                    target=target,
                    target_text=target_text(target),
                )
            )

    def many(
        self, server: str, port: int, key: str, label: str, size: int, target: float | None
    ) -> None:
        self.cases.append(
            Case(
                f"{server}-{key}-many",
                server,
                label,
                f"{size:,}",
                distinct_disallowed(),
                denied,
                port=port,
                target=target,
                target_text=target_text(target),
                group="many",
            )
        )


def edge_target(server: str, size: int) -> float | None:
    if server == "nginx":
        return NGINX_TARGET
    if server == "haproxy":
        return HAPROXY_TARGET
    if server == "caddy":
        return CADDY_TARGET
    if server == "traefik":
        return TRAEFIK_TARGET
    if server == "envoy":
        return ENVOY_TARGET
    return APACHE_TARGET if size <= APACHE_TARGET_UP_TO else None


def prepare(plan: Plan, root: Path, only: set[str]) -> Bench:
    bench = Bench(root)
    www = root / "www" / "api"
    www.mkdir(parents=True)
    (www / "ok.json").write_bytes(edges.PAYLOAD)
    servers = [server for server in EDGE_SERVERS if server in only]
    for server in servers:
        port = bench.site(server, f"{server}-baseline", "")
        if server == "traefik":
            bench.sites[server][-1].body = edges.traefik_baseline(f"{server}-baseline", port)
        label = "no CORS (baseline)"
        for group, request in (("main", get(exact_origin(0))), ("many", distinct_disallowed())):
            bench.baselines[(server, group)] = Case(
                f"{server}-baseline-{group}", server, label, "–", request, plain, port=port
            )

    for server in servers:
        for size in plan.exact_sizes:
            port = bench.policy_site(server, exact_policy(size))
            label = "corsgen, exact origins"
            origins = (exact_origin(size - 1), exact_origin(size))
            target = edge_target(server, size)
            bench.pair(server, port, f"exact-{size}", label, size, origins, target)
            if size == max(plan.exact_sizes):
                bench.many(server, port, f"exact-{size}", label, size, target)
        for size in plan.wildcard_sizes:
            port = bench.policy_site(server, wildcard_policy(size))
            label = "corsgen, wildcard subdomains"
            origins = (wildcard_origin(size - 1), wildcard_origin(size))
            target = {
                "nginx": NGINX_TARGET,
                "haproxy": HAPROXY_TARGET,
                "caddy": CADDY_TARGET,
                "traefik": TRAEFIK_TARGET,
                "envoy": ENVOY_TARGET,
            }.get(server)
            bench.pair(server, port, f"wildcard-{size}", label, size, origins, target)

    if "nginx" in servers:
        size = min(plan.exact_sizes)
        http, location = reference_minimal(exact_policy(size).origins)
        port = bench.site("nginx", "reference-minimal", location, http)
        origins = (exact_origin(size - 1), exact_origin(size))
        label = "reference: one map + this policy's 4 response headers, no preflights"
        bench.pair("nginx", port, "minimal", label, size, origins, None)
        add_floor_cases(bench, plan)
        label = "reference: regex alternation in an if (ingress-nginx style)"
        for size in plan.reference_sizes:
            body = reference_if_regex(exact_policy(size).origins)
            port = bench.site("nginx", f"reference-{size}", body)
            origins = (exact_origin(size - 1), exact_origin(size))
            bench.pair("nginx", port, f"reference-{size}", label, size, origins, None)
    if "haproxy" in servers:
        size = min(plan.exact_sizes)
        origins = exact_policy(size).origins
        body = haproxy_reference_minimal(bench.root / "haproxy-reference.map", origins)
        port = bench.site("haproxy", "reference-minimal", body)
        label = "reference: one map + this policy's 4 response headers, no preflights"
        allowed_and_not = (exact_origin(size - 1), exact_origin(size))
        bench.pair("haproxy", port, "minimal", label, size, allowed_and_not, None)
    if "envoy" in servers:
        size = min(plan.exact_sizes)
        body = envoy_reference_minimal(exact_policy(size).origins)
        port = bench.site("envoy", "reference-minimal", body)
        label = "reference: one matcher lookup + this policy's 4 response headers, no preflights"
        allowed_and_not = (exact_origin(size - 1), exact_origin(size))
        bench.pair("envoy", port, "minimal", label, size, allowed_and_not, None)
        # The same answer whatever the Origin: one case, with the allowed Origin.
        allowed = allowed_and_not[0]
        port = bench.site("envoy", "reference-static", envoy_reference_static(allowed))
        label = "reference: the 4 response headers, fixed, on every response (no lookup, no filter)"
        expect = allowed_for(allowed)
        bench.cases.append(
            Case("envoy-static", "envoy", label, f"{size:,}", get(allowed), expect, port=port)
        )
    if "apache" in servers:
        label = "reference: RewriteMap txt: lookup file (hand-written, ACAO only)"
        for size in plan.lookup_sizes:
            name = f"refcors{size}"
            body = reference_rewritemap(name, root / f"{name}.txt", exact_policy(size).origins)
            port = bench.site("apache", f"lookup-{size}", body)
            origins = (exact_origin(size - 1), exact_origin(size))
            bench.pair("apache", port, f"lookup-{size}", label, size, origins, None)
            bench.many("apache", port, f"lookup-{size}", label, size, None)

    if "anchor" in only and plan.exact_sizes:
        add_anchor_cases(bench, plan, servers)
    return bench


def add_floor_cases(bench: Bench, plan: Plan) -> None:
    """corsgen's nginx cases again, each against the floor that sends its request's headers.

    The floor is the baseline of groups of its own (allowed Origin, disallowed Origin, a
    new Origin each request), so that its runs interleave with the cases it is compared to.
    """
    # Every allowed Origin the cases send is a key of the floor's one map, so each case's
    # request gets the same response headers from the floor as from corsgen.
    allowed = [exact_origin(size - 1) for size in plan.exact_sizes]
    allowed += [wildcard_origin(size - 1) for size in plan.wildcard_sizes]
    http, location = reference_minimal(tuple(dict.fromkeys(allowed)))
    port = bench.site("nginx", "floor", location, http)
    outsider = exact_origin(max(plan.exact_sizes))
    for group, request, expect in (
        ("floor-allowed", get(allowed[0]), allowed_for(allowed[0])),
        ("floor-denied", get(outsider), denied),
        ("floor-many", distinct_disallowed(), denied),
    ):
        bench.baselines[("nginx", group)] = Case(
            f"nginx-{group}", "nginx", FLOOR_LABEL, "–", request, expect, port=port, group=group
        )
    for case in [c for c in bench.cases if c.server == "nginx" and c.target == NGINX_TARGET]:
        wildcard = case.label.startswith("corsgen, wildcard")
        target = NGINX_FLOOR_TARGET_WILDCARD if wildcard else NGINX_FLOOR_TARGET_EXACT
        stem, suffix = case.key.rsplit("-", 1)
        group = {"allowed": "floor-allowed", "denied": "floor-denied"}.get(suffix, "floor-many")
        bench.cases.append(
            replace(
                case,
                key=f"{stem}-floor-{suffix}",  # report.py reads the request from the suffix
                target=target,
                target_text=f"≥ {target:.2f} × floor",
                group=group,
                runs=[],
                ratios=[],
                cost_ratios=[],
            )
        )


def add_anchor_cases(bench: Bench, plan: Plan, servers: list[str]) -> None:
    # The app enforces the smallest policy: the list Starlette (a list scan) handles best.
    size = min(plan.exact_sizes)
    # Written here too: with --only anchor no edge has rendered it.
    bench.anchor_policy = write_policy(exact_policy(size), bench.root)
    origin = exact_origin(size - 1)
    port = edges.free_port()
    app = "Starlette CORSMiddleware under uvicorn"
    bench.baselines[("uvicorn", "main")] = Case(
        "uvicorn-preflight",
        "uvicorn",
        f"{app}: preflight",
        f"{size:,}",
        preflight(origin),
        preflight_ok(origin),
        port=port,
    )
    for server in servers:
        edge_port = next(c.port for c in bench.cases if c.key == f"{server}-exact-{size}-allowed")
        target = EDGE_OVER_APP_TARGET if server == "nginx" else None
        bench.cases.append(
            Case(
                f"{server}-preflight",
                server,
                f"{server}: preflight answered at the edge",
                f"{size:,}",
                preflight(origin),
                preflight_ok(origin),
                port=edge_port,
                target=target,
                target_text="≥ 5 × Starlette" if target else "",
                group="anchor",
            )
        )
    bench.cases.append(
        Case(
            "uvicorn-simple-allowed",
            "uvicorn",
            f"{app}: simple GET",
            f"{size:,}",
            get(origin),
            allowed_for(origin),
            port=port,
            group="anchor",
        )
    )


def blocks_of(bench: Bench) -> list[Block]:
    blocks = []
    for (server, group), baseline in bench.baselines.items():
        if server == "uvicorn":
            continue
        cases = [c for c in bench.cases if c.server == server and c.group == group]
        for start in range(0, len(cases), CASES_PER_BLOCK):
            blocks.append(Block(server, baseline, cases[start : start + CASES_PER_BLOCK]))
    anchor = [c for c in bench.cases if c.group == "anchor"]
    if anchor:
        blocks.append(Block("anchor", bench.baselines[("uvicorn", "main")], anchor))
    return blocks


# --- running --------------------------------------------------------------------------------


def verify(case: Case) -> None:
    """One request before measuring: the case must answer as the policy says."""
    request = case.request
    headers = request.header_dict()
    if request.distinct_origin_template:
        headers["Origin"] = request.distinct_origin_template.replace("{n}", "0")
    answer = edges.ask(case.port, request.method, headers)
    problem = case.expect(answer)
    if problem:
        raise RuntimeError(f"case {case.key} does not behave as expected: {problem}")


def measure(case: Case, plan: Plan, servers: dict[str, Server], root: Path) -> Measurement:
    server = servers[case.server]
    if not server.alive():
        raise RuntimeError(f"{server.name} died:\n{server.log_tail()}")
    script = root / "scripts" / f"{case.key}.lua"
    return drive.run_wrk(
        case.port, case.request, script, plan.seconds, CONNECTIONS, server.pid, CLIENT_CPU
    )


def run_blocks(
    blocks: list[Block],
    plan: Plan,
    servers: dict[str, Server],
    root: Path,
    log: Callable[[str], None],
) -> None:
    """Each block, round after round: its baseline, then each of its cases once.

    The baseline also runs once after the last round, so that every round lies between
    two baseline runs; a case's ratio in a round is taken against their mean, which
    cancels a load that rises or falls steadily during the round.
    """
    (root / "scripts").mkdir(exist_ok=True)
    for block in blocks:
        for case in [block.baseline, *block.cases]:
            verify(case)
        before = measure(block.baseline, plan, servers, root)
        for round_number in range(plan.rounds):
            # A new order each round (seeded: runs repeat), so that load which comes and
            # goes on a period of its own does not fall on the same case every round.
            order = list(block.cases)
            random.Random(round_number).shuffle(order)
            measured = {case.key: measure(case, plan, servers, root) for case in order}
            results = [measured[case.key] for case in block.cases]
            after = measure(block.baseline, plan, servers, root)
            block.baseline.runs.append(before)
            rps = (before.rps + after.rps) / 2
            cost = (before.cpu_us_per_request + after.cpu_us_per_request) / 2
            line = [f"{block.title} round {round_number + 1}: baseline {rps:,.0f}/s"]
            for case, result in zip(block.cases, results, strict=True):
                case.runs.append(result)
                case.ratios.append(result.rps / rps)
                if case.server == block.baseline.server:
                    case.cost_ratios.append(result.cpu_us_per_request / cost)
                line.append(f"{case.key} {result.rps / rps:.2f}×")
            log("; ".join(line))
            before = after


# --- the command line of corsgen itself -----------------------------------------------------


def corsgen_command() -> list[str]:
    # The console script as users run it; a pyenv shim would add its own start-up time.
    script = Path(sys.executable).parent / "corsgen"
    return [str(script)] if script.exists() else [sys.executable, "-m", "corsgen"]


GNU_TIME = Path("/usr/bin/time")


def timed(command: list[str], scratch: Path) -> tuple[float, float]:
    """Wall time and peak resident memory (MB) of one run of ``command``.

    The peak comes from GNU time (Debian's "time" package) where it is installed: the
    rusage that wait4() reports for a child forked from this (large) Python process
    would count the pages the child shared with it before exec.
    """
    report = scratch / "time.out"
    wrapped = [str(GNU_TIME), "-f", "%M", "-o", str(report), *command]
    start = time.perf_counter()
    process = subprocess.Popen(
        wrapped if GNU_TIME.exists() else command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{stderr}")
    peak_kib = int(report.read_text().split()[-1]) if GNU_TIME.exists() else usage.ru_maxrss
    return elapsed, peak_kib / 1024


def cli_timings(plan: Plan, root: Path) -> list[CliResult]:
    base = corsgen_command()
    version = CliResult("corsgen --version", "corsgen --version", target_seconds=0.25)
    for _ in range(max(plan.cli_repeats, 3)):
        seconds, peak = timed([*base, "--version"], root)
        version.seconds.append(seconds)
        version.peak_mb.append(peak)
    results = [version]
    for size in plan.cli_sizes:
        spec = exact_policy(size)
        policy = root / "policies" / f"cli-{spec.name}.yaml"
        policy.parent.mkdir(exist_ok=True)
        policy.write_text(spec.yaml(), encoding="utf-8")
        for target in ("nginx", "apache"):
            out = root / "cli-out" / f"{target}-{size}"
            command = [*base, "render", str(policy), "--target", target, "--out-dir", str(out)]
            shown = f"corsgen render {spec.name}.yaml --target {target} --out-dir DIR"
            result = CliResult(f"render {size:,} origins ({target})", shown)
            if size >= 100_000:
                result.target_seconds, result.target_mb = 3.0, 300.0
            for _ in range(plan.cli_repeats):
                seconds, peak = timed(command, root)
                result.seconds.append(seconds)
                result.peak_mb.append(peak)
            results.append(result)
    return results


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes, 2 s runs (~3 min)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (at least 3)")
    parser.add_argument("--seconds", type=int, help="length of one wrk run (1 to 5)")
    parser.add_argument(
        "--only",
        default=",".join((*EDGE_SERVERS, "anchor", "cli")),
        help=f"comma-separated parts to run: {', '.join((*EDGE_SERVERS, 'anchor', 'cli'))}",
    )
    parser.add_argument("--no-write", action="store_true", help="print; leave the doc alone")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)

    plan = QUICK if args.quick else FULL
    if args.rounds is not None:
        plan = replace(plan, rounds=max(3, args.rounds))
    if args.seconds is not None:
        plan = replace(plan, seconds=min(5, max(1, args.seconds)))
    only = set(args.only.split(","))
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"bench: {tool} is missing (apt-get install wrk util-linux)", file=sys.stderr)
            return 2

    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.0f} s] {message}", flush=True)

    root = Path(tempfile.mkdtemp(prefix="corsgen-bench-"))
    root.chmod(0o755)  # Apache's children run as www-data and read the static file
    servers: dict[str, Server] = {}
    blocks: list[Block] = []
    cli: list[CliResult] = []
    try:
        log(f"work directory {root}; rendering the policies")
        bench = prepare(plan, root, only)
        if bench.sites["nginx"]:
            # The largest map_hash_* values any policy asks for (all share one http { }).
            extra = nginx_http_directives(site.http_text for site in bench.sites["nginx"])
            servers["nginx"] = edges.nginx_server(root, bench.sites["nginx"], extra, SERVER_CPU)
        if bench.sites["apache"]:
            servers["apache"] = edges.apache_server(root, bench.sites["apache"], SERVER_CPU)
        if bench.sites["haproxy"]:
            servers["haproxy"] = edges.haproxy_server(
                root, bench.sites["haproxy"], bench.haproxy_map_dir, SERVER_CPU
            )
        if bench.sites["caddy"]:
            servers["caddy"] = edges.caddy_server(root, bench.sites["caddy"], SERVER_CPU)
        if bench.sites["traefik"]:
            servers["traefik"] = edges.traefik_server(root, bench.sites["traefik"], SERVER_CPU)
        if bench.sites["envoy"]:
            servers["envoy"] = edges.envoy_server(root, bench.sites["envoy"], SERVER_CPU)
        if bench.anchor_policy is not None:
            port = bench.baselines[("uvicorn", "main")].port
            servers["uvicorn"] = edges.uvicorn_server(root, port, bench.anchor_policy, SERVER_CPU)
        for name, server in servers.items():
            log(f"starting {name}")
            server.start()
        blocks = [block for block in blocks_of(bench) if block.title in only]
        log(f"{sum(len(b.cases) for b in blocks)} cases in {len(blocks)} blocks")
        run_blocks(blocks, plan, servers, root, log)
        for server in servers.values():
            server.stop()
        if "cli" in only:
            log("timing the corsgen command line")
            cli = cli_timings(plan, root)
    finally:
        for server in servers.values():
            server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    command = "python3 bench/run.py" + (" --quick" if args.quick else "")
    info = RunInfo(
        command,
        plan.rounds,
        plan.seconds,
        (time.monotonic() - started) / 60,
        CONNECTIONS,
        CLIENT_CPU,
        SERVER_CPU,
    )
    generated = report(info, blocks, cli)
    print(generated)
    if not args.no_write:
        write_doc(DOC, generated)
        print(f"wrote {DOC.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
