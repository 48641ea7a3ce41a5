"""A real browser says yes and no (issue 4).

Headless Chromium opens a small front-end (``browser/static``) on one origin and calls
the predict API through the containerised nginx, Apache or HAProxy with ``fetch()``, as a single
page app does. For each policy, page and kind of request the test works out from the
policy, by the Fetch standard's rules, whether the page may read the answer; then it
asserts the browser's own verdict (the body it read, or a ``TypeError`` the console
blames on CORS) and what reached the upstream.

The pages are served from this process on two ports the kernel picks, A and B; every
host name maps to 127.0.0.1 in the browser (``browser/chromium.py``), so
``http://app.localhost:A`` is a page origin of its own and nothing leaves the machine.
The policies are written at run time with those ports.

Cookies: Chromium blocks third-party cookies, so a cookie for ``127.0.0.1`` is never
sent from a page on ``localhost`` (another site). The credentials case therefore calls
the API the way a dev setup does, on the page's own host and the edge's port
(``http://localhost:A`` -> ``http://localhost:EDGE``): cross-origin, so CORS applies in
full, but same-site, so the ``SameSite=Lax`` cookie that ``POST /login`` sets is sent.

The last tests load hand-broken variants of a rendered snippet and show that the
browser then refuses what it read before: the proof that these tests have teeth.
"""

from __future__ import annotations

import json
import re
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from corsgen.evaluate import match_origin
from corsgen.policy import Policy, load_policy
from edgeharness.availability import skip_unless_available, unavailable
from edgeharness.upstream import Upstream
from edgeharness.upstream.app import predict_answer
from integration.browser import chromium
from integration.browser.pages import CallResult, Frontend, PageServer
from integration.edge import SNIPPET_SUFFIX, EdgeServer, Site, render

pytestmark = pytest.mark.slow

BROWSER_MISSING = chromium.unavailable_reason()


def _unavailable_message(reason: str) -> str:
    return f"browser tests need {reason}; enable them with: {chromium.ENABLE_HINT}"


# Skipped with one line without a browser; under CI=true the fixture fails instead.
needs_browser = skip_unless_available(BROWSER_MISSING and _unavailable_message(BROWSER_MISSING))


def _fail_or_skip(reason: str) -> NoReturn:
    unavailable(_unavailable_message(reason))


# --- the policies and the pages ----------------------------------------------------------------

# {a} is the page port A; the regexes are YAML single-quoted, so "\." stays a backslash-dot.
POLICY_TEXTS = {
    "app": """\
version: 1
name: browser-app
origins:
  - http://localhost:{a}
allow_credentials: true
allow_methods: [GET, POST, PUT, DELETE]
allow_headers: [Content-Type, X-Client-Version]
expose_headers: [X-Request-Id]
""",
    "wildcard": """\
version: 1
name: browser-wildcard
origins:
  - http://*.localhost:{a}
allow_headers: [Content-Type]
""",
    "regex": """\
version: 1
name: browser-regex
origins:
  - https://app.example.com
origin_regex:
  - '^http://pr-[0-9]+\\.localhost:{a}$'
  - 'http://team-[a-z]+\\.localhost'
allow_credentials: true
allow_methods: [GET, POST, PUT]
allow_headers: "*"
expose_headers: [X-Request-Id]
""",
}

# Page name -> (host, port): "a" is the port the policies name, "b" the other one.
PAGES = {
    "localhost": ("localhost", "a"),
    "localhost-port-b": ("localhost", "b"),
    "app-sub": ("app.localhost", "a"),
    "app-sub-port-b": ("app.localhost", "b"),
    "deep-sub": ("a.b.localhost", "a"),
    "lookalike": ("evillocalhost", "a"),  # resolves to 127.0.0.1 like every name here
    "pr-42": ("pr-42.localhost", "a"),
    "pr-42-port-b": ("pr-42.localhost", "b"),
    "pr-x": ("pr-x.localhost", "a"),
    "team-blue": ("team-blue.localhost", "a"),
}

# Which pages each policy allows, read off the policy by hand (and checked against
# corsgen's reference evaluator below). The browser tests take the origin verdict from
# here and everything else (methods, headers, credentials, exposed headers) from the policy.
ORIGIN_VERDICTS = {
    "app": {
        "localhost": True,
        "localhost-port-b": False,  # another port is another origin
        "app-sub": False,  # an exact entry covers no subdomain
    },
    "wildcard": {
        "app-sub": True,
        "deep-sub": True,  # "*." stands for one or more labels
        "localhost": False,  # never the apex
        "lookalike": False,  # merely ends with the name
        "app-sub-port-b": False,
    },
    "regex": {
        "pr-42": True,
        "pr-x": False,
        "team-blue": False,  # the regex matches only without a port: it is anchored
        "pr-42-port-b": False,
    },
}


@dataclass(frozen=True)
class Case:
    """One kind of call the front-end makes."""

    name: str
    method: str = "GET"
    path: str = "/echo"
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    credentials: bool = False  # credentials: 'include', after POST /login set a cookie
    read_header: str | None = None  # a response header the page reads
    upload: bool = False  # the page's own form: <input type=file> + Predict
    status: int = 200  # what the page reads when the browser lets it
    stub_answers: bool = True  # False: the edge itself answers (401 from auth)


CASES = [
    Case("get"),
    Case("upload", method="POST", path="/predict", upload=True),
    Case("json-post", method="POST", headers={"Content-Type": "application/json"}, json={"n": 7}),
    Case("put", method="PUT"),
    Case("delete", method="DELETE"),
    Case("patch", method="PATCH"),  # in no policy: always refused
    Case("custom-header", headers={"X-Client-Version": "1.2"}),
    Case("other-header", headers={"X-Debug": "1"}),  # listed only by allow_headers "*"
    Case("credentials", credentials=True),
    Case("exposed-header", read_header="X-Request-Id"),
    Case("error-status", path="/status/503", status=503),
    Case("auth-error", path="/private/model", status=401, stub_answers=False),
]

# Fetch standard: what a page may send without a preflight.
SAFELISTED_METHODS = {"GET", "HEAD", "POST"}
SAFELISTED_HEADERS = {"accept", "accept-language", "content-language"}
SAFELISTED_CONTENT_TYPES = {
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
}


def unsafe_headers(case: Case) -> list[str]:
    """The request headers a preflight must ask about (lower case)."""
    names = []
    for name, value in case.headers.items():
        lower = name.lower()
        if lower in SAFELISTED_HEADERS:
            continue
        if lower == "content-type" and value.split(";")[0].strip() in SAFELISTED_CONTENT_TYPES:
            continue
        names.append(lower)
    return names


def needs_preflight(case: Case) -> bool:
    return case.method not in SAFELISTED_METHODS or bool(unsafe_headers(case))


@dataclass(frozen=True)
class Expected:
    readable: bool  # the page may read the response
    why: str
    preflight: bool  # the browser asks first (OPTIONS, answered at the edge)
    sent: bool  # the browser sends the request itself to the edge
    reaches_upstream: bool


def expected(policy: Policy, origin_allowed: bool, case: Case) -> Expected:
    """What the browser must do, from the policy and the Fetch standard's CORS checks."""
    allowed_headers = {name.lower() for name in policy.allow_headers}
    refusal = None
    if not origin_allowed:
        refusal = "the policy does not allow the page's origin"
    elif case.credentials and not policy.allow_credentials:
        refusal = "credentials: 'include' but the policy has no allow_credentials"
    elif case.method not in SAFELISTED_METHODS and case.method not in policy.allow_methods:
        refusal = f"{case.method} is not in allow_methods"
    elif not policy.reflects_request_headers and set(unsafe_headers(case)) - allowed_headers:
        refusal = f"{unsafe_headers(case)} not all in allow_headers"
    preflight = needs_preflight(case)
    # A simple request goes out whatever the policy says (CORS guards reading it); after a
    # failed preflight the actual request is never sent.
    sent = refusal is None or not preflight
    return Expected(
        readable=refusal is None,
        why=refusal or "allowed by the policy",
        preflight=preflight,
        sent=sent,
        reaches_upstream=sent and case.stub_answers,
    )


def header_exposed(policy: Policy, name: str, credentials: bool) -> bool:
    exposed = {header.lower() for header in policy.expose_headers}
    return name.lower() in exposed or (exposed == {"*"} and not credentials)


# --- the image the form uploads ----------------------------------------------------------------


def make_png(width: int = 24, height: int = 16) -> bytes:
    """A small but real RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in (x * 10 % 256, y * 15 % 256, 200))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --- fixtures ------------------------------------------------------------------------------


@dataclass
class Pages:
    a: int
    b: int

    def origin(self, page: str) -> str:
        host, port = PAGES[page]
        return f"http://{host}:{self.a if port == 'a' else self.b}"


@pytest.fixture(scope="session")
def pages() -> Iterator[Pages]:
    """The front-end on two ports of 127.0.0.1."""
    servers = [PageServer().start(), PageServer().start()]
    try:
        yield Pages(servers[0].port, servers[1].port)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def frontend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Frontend]:
    """One headless Chromium for the whole session, with a fresh profile."""
    if BROWSER_MISSING is not None:
        _fail_or_skip(BROWSER_MISSING)
    work = tmp_path_factory.mktemp("chromium")
    driver = chromium.start(work / "profile", work / "chromedriver.log")
    try:
        yield Frontend(driver)
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("upload") / "photo.png"
    path.write_bytes(make_png())
    return path


@dataclass
class LoadedPolicy:
    key: str
    path: Path
    policy: Policy


@pytest.fixture(scope="session")
def policies(pages: Pages, tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoadedPolicy]:
    """The test policies, written with the page ports of this run."""
    folder = tmp_path_factory.mktemp("browser-policies")
    loaded = {}
    for key, text in POLICY_TEXTS.items():
        path = folder / f"{key}.yaml"
        path.write_text(text.format(a=pages.a))
        loaded[key] = LoadedPolicy(key, path, load_policy(path))
    return loaded


@pytest.fixture(scope="module")
def sites(edge_server: EdgeServer, policies: dict[str, LoadedPolicy]) -> Iterator[dict[str, Site]]:
    """The three policies, live on the server under test (one reload), unloaded afterwards."""
    keys = list(POLICY_TEXTS)
    loaded = edge_server.load_many([policies[key].path for key in keys])
    yield dict(zip(keys, loaded, strict=True))
    edge_server.unload(*(site.name for site in loaded))


def live_site(edge_server: EdgeServer, sites: dict[str, Site], key: str) -> Site:
    site = sites[key]
    # Another module's test may have reset the server since this module loaded it.
    if edge_server.sites.get(site.name) is not site:
        pytest.fail(f"policy {site.name} is no longer loaded on {edge_server.target}")
    return site


# --- making one call -----------------------------------------------------------------------


def tagged(url: str, tag: str) -> str:
    return url + ("&" if "?" in url else "?") + tag


def reached(stub: Upstream, tag: str) -> list[dict[str, Any]]:
    return [entry for entry in stub.requests() if tag in entry["query"].split("&")]


ACCESS_LOG_POLLS = 20
ACCESS_LOG_POLL_SECONDS = 0.025


def edge_methods(server: EdgeServer, tag: str, expected_count: int) -> list[str]:
    """Methods of the requests with ``tag`` in the edge's access log (request line quoted).

    A server may write the line just after the browser has its answer: wait a moment for
    ``expected_count`` lines, then return what is there.
    """
    methods: list[str] = []
    for _ in range(ACCESS_LOG_POLLS):
        text = server.access_log()
        methods = re.findall(rf'"([A-Z]+) [^" ]*[?&]{re.escape(tag)}[& ]', text)
        if len(methods) >= expected_count:
            break
        time.sleep(ACCESS_LOG_POLL_SECONDS)
    return methods


@dataclass
class Outcome:
    result: CallResult
    login: CallResult | None
    origin: str
    upstream: list[dict[str, Any]]
    tag: str

    def describe(self) -> str:
        parts = [f"page {self.origin}"]
        if self.login is not None:
            parts.append("POST /login first:\n" + self.login.describe())
        parts.append(self.result.describe())
        parts.append(f"reached the upstream: {[(e['method'], e['path']) for e in self.upstream]}")
        return "\n".join(parts)


def call(
    frontend: Frontend,
    stub: Upstream,
    site: Site,
    origin: str,
    case: Case,
    image: Path,
) -> Outcome:
    """Open the page on ``origin`` and make the call ``case`` describes against ``site``."""
    frontend.open(origin)
    tag = f"browser={uuid.uuid4().hex}"
    api = site.base_url
    login = None
    if case.credentials:
        # Same host as the page, the edge's port: cross-origin but same-site (see top).
        api = f"http://{origin.split('://')[1].split(':')[0]}:{site.port}"
        login = frontend.request(tagged(f"{api}/login", tag), method="POST", credentials="include")
    if case.upload:
        result = frontend.upload(api, image, tag)
    else:
        result = frontend.request(
            tagged(api + case.path, tag),
            method=case.method,
            headers=dict(case.headers),
            json=case.json,
            credentials="include" if case.credentials else "same-origin",
            read_headers=(case.read_header,) if case.read_header else (),
        )
    upstream = [e for e in reached(stub, tag) if e["path"] != "/login"]
    return Outcome(result, login, origin, upstream, tag)


def assert_refused_by_cors(result: CallResult, context: str) -> None:
    assert not result.ok and result.error == "TypeError", context
    # A TypeError alone could be a dead server; the console must blame CORS.
    assert result.cors_refusal, context


def result_shown_error(result: CallResult) -> bool:
    return (result.shown or "").startswith("TypeError:")


def check_read(outcome: Outcome, case: Case, loaded: LoadedPolicy, image: Path) -> None:
    """The page read what the upstream (or the edge) answered."""
    result, context = outcome.result, outcome.describe()
    assert result.ok, context
    assert result.status == case.status, context
    if case.upload:
        assert json.loads(result.body) == predict_answer(image.read_bytes()), context
        assert result.shown == result.body, context  # what the person sees
    elif case.path == "/echo":
        echo = json.loads(result.body)
        assert (echo["method"], echo["path"]) == (case.method, "/echo"), context
        received = [(name.lower(), value) for name, value in echo["headers"]]
        assert ("origin", outcome.origin) in received, context
        for name, value in case.headers.items():
            assert (name.lower(), value) in received, context
        if case.json is not None:
            assert ("content-type", "application/json") in received, context
        if case.credentials:
            assert outcome.login is not None and outcome.login.ok, context
            session = json.loads(outcome.login.body)["session"]
            cookies = [value for name, value in received if name == "cookie"]
            assert any(f"session={session}" in value.split("; ") for value in cookies), context
            assert ("sec-fetch-site", "same-site") in received, context
        if case.read_header:
            value = result.headers[case.read_header]
            if header_exposed(loaded.policy, case.read_header, case.credentials):
                assert value is not None and re.fullmatch(r"[0-9a-f]{32}", value), context
            else:
                assert value is None, context  # readable only when exposed
    elif case.path.startswith("/status/"):
        assert json.loads(result.body) == {"status": case.status, "method": case.method}, context


# --- the browser's verdicts ------------------------------------------------------------------

VERDICT_PARAMS = [
    pytest.param(key, page, case, id=f"{key}-{page}-{case.name}")
    for key, verdicts in ORIGIN_VERDICTS.items()
    for page in verdicts
    for case in CASES
]


@needs_browser
@pytest.mark.parametrize(("key", "page", "case"), VERDICT_PARAMS)
def test_browser_verdict_follows_the_policy(
    edge_server: EdgeServer,
    sites: dict[str, Site],
    policies: dict[str, LoadedPolicy],
    pages: Pages,
    frontend: Frontend,
    predict_stub: Upstream,
    image: Path,
    key: str,
    page: str,
    case: Case,
) -> None:
    site = live_site(edge_server, sites, key)
    loaded = policies[key]
    want = expected(loaded.policy, ORIGIN_VERDICTS[key][page], case)
    outcome = call(frontend, predict_stub, site, pages.origin(page), case, image)
    context = f"{edge_server.target}, policy {site.name}: expected {want.why}\n{outcome.describe()}"

    if want.readable:
        check_read(outcome, case, loaded, image)
    else:
        assert_refused_by_cors(outcome.result, context)
        if case.upload:
            assert result_shown_error(outcome.result), context
        if outcome.login is not None:
            assert_refused_by_cors(outcome.login, context)
    # Preflights are answered at the edge; only the actual request may reach the stub.
    upstream = [(entry["method"], entry["path"]) for entry in outcome.upstream]
    assert upstream == ([(case.method, case.path)] if want.reaches_upstream else []), context
    # The browser preflights exactly when the Fetch standard says so, whatever the verdict
    # (an OPTIONS before a simple request would be, e.g., a Private Network Access check).
    want_methods = ["POST"] if case.credentials else []  # POST /login first
    want_methods += ["OPTIONS"] * want.preflight + [case.method] * want.sent
    methods = edge_methods(edge_server, outcome.tag, len(want_methods))
    assert sorted(methods) == sorted(want_methods), f"edge access log: {methods}\n{context}"


def test_origin_verdicts_agree_with_the_reference_evaluator(tmp_path: Path) -> None:
    """The hand-written ORIGIN_VERDICTS are the policy's own (no browser needed)."""
    for key, verdicts in ORIGIN_VERDICTS.items():
        path = tmp_path / f"{key}.yaml"
        path.write_text(POLICY_TEXTS[key].format(a=40001))
        policy = load_policy(path)
        for page, allowed in verdicts.items():
            origin = Pages(40001, 40002).origin(page)
            match = match_origin(policy, origin)
            assert (match.allowed, match.either) == (allowed, False), (key, origin, match.reason)


# --- teeth: hand-broken snippets make the browser refuse --------------------------------------


def _edit(text: str, pattern: str, replace: str | Callable[[re.Match[str]], str]) -> str:
    edited, count = re.subn(pattern, replace, text, flags=re.MULTILINE)
    assert count, f"the rendered snippet no longer has {pattern!r}: update this test"
    return edited


def without_always(target: str, text: str) -> str:
    """add_header / Header without ``always``: no CORS headers on the edge's own errors."""
    if target == "nginx":
        return _edit(text, r"^(add_header .*) always;$", r"\1;")
    if target == "haproxy":
        # http-response runs on the upstream's answers only, not on HAProxy's own.
        return _edit(text, r"^http-after-response ", "http-response ")
    if target == "caddy":
        # Deferred header ops run only when a handler writes the response: Caddy's own
        # 401 (basic_auth) and 502 never get them.
        return _edit(text, r"^(header @\S+\.actual_allowed \{\n)(?!\tdefer)", "\\1\tdefer\n")
    if target == "envoy":
        return _edit(text, ENVOY_ALLOWED_ACAO, "")
    return _edit(text, r"^Header always (set|merge) ", r"Header \1 ")


# Envoy: the Access-Control-Allow-Origin mutation of the filter's header_mutation, which
# adds it to every answer of an allowed Origin (the preflight answers get theirs from the
# local-reply mappers). Without it Envoy's own 401 carries no ACAO: an operator who set it
# on the upstream's answers only (a route's response headers, an upstream filter), or put
# the filter after basic_auth, sees the same.
ENVOY_ALLOWED_ACAO = (
    r"^(\s+)- append: \{header: \{key: Access-Control-Allow-Origin, value: '[^']*'\}, "
    r"append_action: OVERWRITE_IF_EXISTS_OR_ADD\}\n"
)


def _envoy_acao_appended(match: re.Match[str]) -> str:
    """The allowed Origin's ACAO appended to whatever the response already has."""
    return match.group(0).replace("OVERWRITE_IF_EXISTS_OR_ADD", "APPEND_IF_EXISTS_OR_ADD")


def second_acao(target: str, text: str) -> str:
    """Every ACAO line twice: two Access-Control-Allow-Origin headers."""
    if target == "nginx":
        return _edit(text, r"^(add_header Access-Control-Allow-Origin .*)$", r"\1\n\1")
    if target == "haproxy":
        return _edit(
            text,
            r"^http-after-response set-header (Access-Control-Allow-Origin .*)$",
            r"http-after-response set-header \1\nhttp-after-response add-header \1",
        )
    if target == "caddy":
        # The deferred line adds instead of replacing: the value set before stays too.
        return _edit(text, r"^(\tdefer\n)\t(Access-Control-Allow-Origin )", r"\1\t+\2")
    if target == "envoy":
        # Appended a second time: Envoy joins the two into one line, "a,a".
        return _edit(
            text, ENVOY_ALLOWED_ACAO, lambda match: match.group(0) + _envoy_acao_appended(match)
        )
    return _edit(
        text,
        r"^Header always set (Access-Control-Allow-Origin .*)$",
        r"Header always set \1\nHeader always add \1",
    )


def upstream_cors_kept(target: str, text: str) -> str:
    """The upstream's own CORS headers no longer removed: they come next to the policy's."""
    if target == "nginx":
        return _edit(text, r"^proxy_hide_header Access-Control-.*\n", "")
    if target == "envoy":
        # No response_headers_to_remove, and the policy's ACAO appended to the upstream's.
        kept = _edit(text, r"^  response_headers_to_remove:\n(  - Access-Control-.*\n)+", "")
        return _edit(kept, ENVOY_ALLOWED_ACAO, _envoy_acao_appended)
    if target == "haproxy":
        # set-header alone already replaces the upstream's value: the mistake that shows
        # is a hand-written add-header with no del-header.
        kept = _edit(text, r"^http-response del-header Access-Control-.*\n", "")
        return _edit(
            kept,
            r"^http-after-response set-header (Access-Control-)",
            r"http-after-response add-header \1",
        )
    if target == "caddy":
        # Without the deferred set, the upstream's fields come next to the policy's.
        return _edit(text, r"^header @\S+\.actual_allowed \{\n\tdefer\n(?:\t.*\n)*\}\n", "")
    return _edit(text, r"^Header (always )?unset Access-Control-.*\n", "")


BREAKAGES: dict[str, tuple[Callable[[str, str], str], Case, str]] = {
    # The edge's own 401 (auth) is where "always" matters on both servers; nginx also
    # loses the headers on every upstream 4xx/5xx, Apache on its 204 preflight answers.
    "without-always": (
        without_always,
        Case("auth-error", path="/private/model", status=401, stub_answers=False),
        "No 'Access-Control-Allow-Origin' header is present",
    ),
    "second-acao": (second_acao, Case("get"), "contains multiple values"),
    "upstream-cors-kept": (
        upstream_cors_kept,
        Case("with-cors", path="/with-cors"),
        "contains multiple values",
    ),
}


@pytest.fixture(scope="module")
def broken_sites(
    edge_server: EdgeServer, pages: Pages, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Site]]:
    """The "app" policy rendered by corsgen, then broken by hand: one site per breakage.

    Each has a name and so a port of its own, and all are loaded before the browser calls
    any of them: after an nginx reload, a connection the browser keeps alive may still be
    answered by an old worker with the old configuration.
    """
    folder = tmp_path_factory.mktemp(f"broken-{edge_server.target}")
    loaded: dict[str, Site] = {}
    try:
        for breakage, (edit, _case, _says) in BREAKAGES.items():
            name = f"browser-{breakage}"
            policy = folder / f"{name}.yaml"
            text = POLICY_TEXTS["app"].format(a=pages.a)
            policy.write_text(text.replace("name: browser-app", f"name: {name}"))
            proc = render(policy, edge_server.target, folder / name)
            assert proc.returncode == 0, proc.stderr
            files = {path.name: path.read_text() for path in (folder / name).iterdir()}
            main = name + SNIPPET_SUFFIX[edge_server.target]
            files[main] = edit(edge_server.target, files[main])
            loaded[breakage] = edge_server.load_snippets(name, files)
        yield loaded
    finally:
        if loaded:
            edge_server.unload(*(site.name for site in loaded.values()))


@needs_browser
@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_broken_snippet_makes_the_browser_refuse(
    edge_server: EdgeServer,
    sites: dict[str, Site],
    broken_sites: dict[str, Site],
    pages: Pages,
    frontend: Frontend,
    predict_stub: Upstream,
    image: Path,
    breakage: str,
) -> None:
    """The same call from the same allowed page: read through corsgen's snippet of the
    policy, refused through the same snippet broken the way the spec forbids."""
    _edit_snippet, case, console_says = BREAKAGES[breakage]
    origin = pages.origin("localhost")
    before = call(frontend, predict_stub, live_site(edge_server, sites, "app"), origin, case, image)
    assert before.result.ok and before.result.status == case.status, before.describe()

    after = call(frontend, predict_stub, broken_sites[breakage], origin, case, image)
    context = f"{edge_server.target}, snippet {breakage}:\n{after.describe()}"
    assert_refused_by_cors(after.result, context)
    assert console_says in (after.result.cors_refusal or ""), context
