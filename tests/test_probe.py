"""``corsgen probe`` holds a live server to the evaluator, and only ever a local one."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.evaluate import Request
from corsgen.matrix import request_matrix
from corsgen.origin_regex import example as regex_example
from corsgen.probe import is_loopback_url
from corsgen.samples import entry_lookalikes, lookalikes
from tests.conftest import demo_policy, parse
from tests.edge_servers import EDGES, Edge

pytestmark = pytest.mark.slow

runner = CliRunner()

# PUT as well: the request matrix then holds a preflight for a method not CORS-safelisted.
POLICY = demo_policy(allow_methods="GET, POST, PUT")


@pytest.fixture
def policy_file(write_policy: Callable[[str, str], Path]) -> Path:
    return write_policy(POLICY, "probed.yaml")


class Recorder(http.server.BaseHTTPRequestHandler):
    """A deliberately wrong CORS server: reflects every Origin with credentials."""

    protocol_version = "HTTP/1.1"
    paths: list[str] = []
    delay = 0.0

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _answer(self) -> None:
        type(self).paths.append(self.path)
        time.sleep(type(self).delay)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
        else:
            self.send_response(200)
            origin = self.headers.get("Origin")
            if origin:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Allow-Credentials", "true")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_OPTIONS = do_POST = do_HEAD = _answer


@pytest.fixture
def reflecting_server() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"paths": [], "delay": 0.0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


# Test refusing remote hosts


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/api",
        "https://10.0.0.1/",
        "http://192.168.1.10:8080/",
        "http://[::2]/",
        "http://127.0.0.1.nip.io/",
    ],
)
def test_refuses_a_host_that_is_not_loopback_with_exit_2(policy_file: Path, url: str) -> None:
    result = runner.invoke(app, ["probe", url, "--policy", str(policy_file)])

    assert result.exit_code == 2
    assert "refusing to probe" in result.stderr
    assert "--allow-remote" in result.stderr


@pytest.mark.parametrize(
    "url", ["http://localhost:8080/", "http://127.0.0.1/", "http://127.1.2.3/", "http://[::1]/"]
)
def test_loopback_hosts_are_allowed(url: str) -> None:
    assert is_loopback_url(url)


def test_refuses_a_url_that_is_not_http(policy_file: Path) -> None:
    result = runner.invoke(app, ["probe", "ftp://127.0.0.1/", "--policy", str(policy_file)])

    assert result.exit_code == 2
    assert "is not an http:// or https:// URL" in result.stderr


# Test probing real servers


@pytest.mark.parametrize("edge_name", sorted(EDGES))
def test_a_server_running_the_rendered_policy_passes_the_probe(
    request: pytest.FixtureRequest, policy_file: Path, edge_name: str
) -> None:
    edge: Edge = request.getfixturevalue(f"{edge_name}_edge")
    edge.load(edge.render_files(parse(POLICY)))

    result = runner.invoke(
        app, ["probe", f"{edge.base_url}/u/probe", "--policy", str(policy_file), "--timeout", "5"]
    )

    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""
    assert f"requests to {edge.base_url}/u/probe, 0 differ" in result.stderr


def test_a_server_reflecting_every_origin_fails_the_probe_with_each_difference(
    policy_file: Path, reflecting_server: tuple[str, type[Recorder]]
) -> None:
    url, _ = reflecting_server

    result = runner.invoke(app, ["probe", f"{url}/api", "--policy", str(policy_file)])

    assert result.exit_code == 1
    assert "DIFF GET | Origin: https://app.example.com.evil.example -> 200" in result.stdout
    assert (
        "    - unexpected header Access-Control-Allow-Origin: "
        "'https://app.example.com.evil.example'"
    ) in result.stdout
    assert "    - status 200, expected 204 (edge 204)" in result.stdout
    assert "Traceback" not in result.output


def test_the_probe_never_follows_a_redirect(
    policy_file: Path, reflecting_server: tuple[str, type[Recorder]]
) -> None:
    url, handler = reflecting_server

    result = runner.invoke(
        app, ["probe", f"{url}/redirect", "--policy", str(policy_file), "--max-requests", "5"]
    )

    assert result.exit_code == 1
    assert handler.paths == ["/redirect"] * 5
    assert "/elsewhere" not in handler.paths


def test_the_probe_sends_no_more_than_max_requests(
    policy_file: Path, reflecting_server: tuple[str, type[Recorder]]
) -> None:
    url, handler = reflecting_server

    runner.invoke(app, ["probe", url, "--policy", str(policy_file), "--max-requests", "7"])

    assert len(handler.paths) == 7


def test_the_probe_stops_when_its_time_budget_is_used_up(
    policy_file: Path, reflecting_server: tuple[str, type[Recorder]]
) -> None:
    url, handler = reflecting_server
    handler.delay = 0.3

    started = time.monotonic()
    result = runner.invoke(app, ["probe", url, "--policy", str(policy_file), "--budget", "1"])

    assert time.monotonic() - started < 5
    assert len(handler.paths) <= 5
    assert "time budget of 1s used up after" in result.stderr


def test_a_server_that_never_answers_fails_within_the_timeout(policy_file: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # accepts connections, never answers
        port = silent.getsockname()[1]
        started = time.monotonic()
        result = runner.invoke(
            app,
            [
                "probe",
                f"http://127.0.0.1:{port}/",
                "--policy",
                str(policy_file),
                "--timeout",
                "0.2",
                "--max-requests",
                "3",
            ],
        )

    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert result.stdout.count("    - no answer: ReadTimeout") == 3


# Test the request matrix


def test_the_matrix_holds_allowed_origins_lookalikes_preflights_and_no_origin() -> None:
    requests = request_matrix(parse(POLICY))

    origins = {request.origin for request in requests}
    assert {
        "http://localhost:3000",
        "https://app.example.com",
        "https://corsgen-probe.example.org",
        "https://pr-1.preview.example.dev",
        "https://app.example.com.evil.example",
        "https://example.org",
        "https://evilexample.org",
        "null",
        None,
    } <= origins
    assert Request("GET") in requests
    preflight = Request("OPTIONS", "https://app.example.com", "PUT", "Authorization, Content-Type")
    assert preflight in requests
    assert Request("OPTIONS", "http://localhost:3000") in requests
    assert len(requests) <= 300


def test_lookalikes_of_an_origin_include_every_classic_trick() -> None:
    assert lookalikes("https://app.example.com") == [
        "https://app.example.com.evil.example",  # suffix appended
        "https://evilapp.example.com",  # name glued on
        "https://app.example.com@evil.example",  # user-information tricks
        "https://evil.example@app.example.com",
        "https://app.example.com/",  # trailing slash
        "HTTPS://APP.EXAMPLE.COM",  # case changed
        "https://evil.app.example.com",  # label prepended
        "http://app.example.com",  # scheme swapped
        "https://app.example.com:8001",  # port changed
        "https://app.example.com.",  # trailing dot
        "https://app.example.com:",  # empty port
        "HTTPS://app.example.com",
        "https://app.example.com:443",  # default port written out
        "https://appxexample.com",  # a dot replaced (for unescaped-dot regexes)
    ]


def test_lookalikes_of_a_wildcard_are_its_apex_and_names_that_end_with_it() -> None:
    (entry,) = parse("version: 1\nname: t\norigins: ['https://*.example.org']\n").origins

    assert entry_lookalikes(entry) == [
        "https://example.org",
        "https://evilexample.org",
        "https://evil-example.org",
        "https://corsgen-probe.example.org.evil.example",
    ]


@pytest.mark.parametrize(
    ("regex", "example"),
    [
        (r"^https://pr-[0-9]+\.preview\.example\.dev$", "https://pr-1.preview.example.dev"),
        (r"https?://(foo|bar)\.example\.com(:[0-9]+)?", "http://foo.example.com"),
        (r"^https://[a-z]{2,3}\.x\.example$", "https://aa.x.example"),
        (r"^https://app.example.com$", "https://app.example.com"),
    ],
)
def test_a_regex_example_is_a_short_browser_like_match(regex: str, example: str) -> None:
    assert regex_example(regex) == example
