"""The complete example in examples/ works as its README says, through every server.

It runs the example's own files, not copies written for the tests:

* ``examples/predict_app/main.py`` with uvicorn, as the upstream;
* ``examples/predict-api.yaml`` rendered by ``corsgen render --out-dir``;
* ``examples/nginx/predict-api.conf`` and ``examples/apache/predict-api.conf``, each
  wrapped the way a Debian install includes it (a main config mounted at ``/etc/nginx``
  or ``/etc/apache2``, the site in ``conf.d/`` or ``sites-enabled/``, the snippets in
  ``cors/``, the htpasswd the site names) and run in the harness's server images;
* ``examples/haproxy/predict-api.cfg`` as ``/etc/haproxy/haproxy.cfg`` (the rendered
  fragment is already pasted into it), the map files in ``/etc/haproxy/corsgen``;
* ``examples/caddy/Caddyfile`` as ``/etc/caddy/Caddyfile``, importing the snippet from
  ``/etc/caddy/corsgen`` (its basic_auth hash replaced like HAProxy's);
* ``examples/traefik/traefik.yml`` as ``/etc/traefik/traefik.yml``, its ``dynamic/site.yml``
  beside the two renderings its README runs (``dynamic/api/``, ``dynamic/admin/``);
* ``examples/envoy/envoy.yaml`` as ``/etc/envoy/envoy.yaml`` (the rendered file's parts are
  already merged into it), its basic_auth user line replaced like HAProxy's hash.

The server files are used byte for byte except for their two addresses (see
``with_test_ports``) and, for HAProxy, the userlist's password hash the README tells the
reader to replace (see ``with_test_password``), so an edit of the example that breaks it
fails here.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from edgeharness.apps import UvicornApp
from edgeharness.containers import container_output, remove_container, run_server_container
from edgeharness.envoy import sha_user
from edgeharness.net import free_port
from edgeharness.targets import TARGETS, load_modules
from edgeharness.traefik import EXAMPLE_ROUTERS, TRAEFIK, render_options
from integration import http_client
from integration.cors_matrix import (
    ACAC,
    ACAH,
    ACAM,
    ACAO,
    ACEH,
    ACMA,
    assert_cors_headers_are,
    assert_header,
    assert_list_header,
    assert_no_cors_headers,
    assert_status,
    assert_vary_includes,
)
from integration.edge import EdgeServerError, Site, make_htpasswd_line, open_permissions, render
from integration.http_client import HttpResult

pytestmark = pytest.mark.slow

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
POLICY = EXAMPLES / "predict-api.yaml"
SERVER_CONFIGS = {
    "nginx": EXAMPLES / "nginx" / "predict-api.conf",
    "apache": EXAMPLES / "apache" / "predict-api.conf",
    "haproxy": EXAMPLES / "haproxy" / "predict-api.cfg",
    "caddy": EXAMPLES / "caddy" / "Caddyfile",
    "traefik": EXAMPLES / "traefik" / "traefik.yml",
    "envoy": EXAMPLES / "envoy" / "envoy.yaml",
}
APP_DIR = EXAMPLES / "predict_app"

# The addresses the example files are written for: the edge on 8080, uvicorn on 8000.
EXAMPLE_EDGE_ADDRESS = "127.0.0.1:8080"
EXAMPLE_APP_ADDRESS = "127.0.0.1:8000"

FRONT_END = "http://localhost:3000"  # listed in the policy
ELSEWHERE = "http://localhost.evil.com"  # not listed (an allowed host as a prefix)
ADMIN_USER = "admin"
ADMIN_PASSWORD = "example-secret"
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16

# Where each server's Debian package keeps its config and logs (mounted there), and the
# main config in it. HAProxy logs only to syslog or a stream, and the example configures
# neither: its alerts and warnings are the container's output (failure_report has that).
CONFIG_DIRS = {"nginx": "/etc/nginx", "apache": "/etc/apache2", "haproxy": "/etc/haproxy"}
MAIN_CONFIGS = {"nginx": "nginx.conf", "apache": "httpd.conf", "haproxy": "haproxy.cfg"}
# Caddy (Debian's layout, /etc/caddy/Caddyfile) logs to its output, like HAProxy.
CONFIG_DIRS["caddy"] = "/etc/caddy"
MAIN_CONFIGS["caddy"] = "Caddyfile"
CONFIG_DIRS["traefik"], MAIN_CONFIGS["traefik"] = "/etc/traefik", "traefik.yml"
CONFIG_DIRS["envoy"], MAIN_CONFIGS["envoy"] = "/etc/envoy", "envoy.yaml"
SERVERS = {**TARGETS, "traefik": TRAEFIK}
LOG_DIRS = {"nginx": "/var/log/nginx", "apache": "/var/log/apache2"}

# Bounds for waiting on a server: seconds and polls, whichever ends first.
START_TIMEOUT = 30.0
POLL_INTERVAL = 0.05
MAX_POLLS = 600

# Debian enables these by default (the example's comments rightly do not ask for them):
# the MPM, and what its <Location /admin/> basic auth uses. The rest come from the
# example's own "a2enmod ..." comment (see apache_modules).
DEBIAN_DEFAULT_MODULES = [
    "mpm_event", "authz_core", "authn_core", "authn_file", "auth_basic", "authz_user",
]  # fmt: skip


def with_test_ports(config: Path, edge_port: int, app_port: int) -> bytes:
    """The example server config with its edge and app addresses moved to free ports.

    The example listens on 127.0.0.1:8080 and proxies to uvicorn on 127.0.0.1:8000, the
    ports a reader uses. The tests share the host's network with whatever else runs here
    (a developer's own app on 8000, other test runs at the same time), so they cannot
    count on those ports; only these two addresses change, everything else stays byte
    for byte what the example says.
    """
    text = config.read_bytes()
    replacements = {
        EXAMPLE_EDGE_ADDRESS.encode(): f"127.0.0.1:{edge_port}".encode(),
        EXAMPLE_APP_ADDRESS.encode(): f"127.0.0.1:{app_port}".encode(),
    }
    for address in replacements:
        assert address in text, (
            f"{config} no longer uses {address.decode()}; the test moves that address to a "
            "free port: update EXAMPLE_*_ADDRESS in test_example.py to match"
        )
    # One pass, so a chosen port can never be rewritten by the second replacement.
    pattern = re.compile(b"|".join(re.escape(a) + rb"(?![0-9])" for a in replacements))
    return pattern.sub(lambda m: replacements[m.group(0)], text)


# The example userlist's "user NAME password HASH" line (one user, one SHA-512 crypt hash).
USERLIST_USER_LINE = re.compile(rb"^(\s*user (\S+) password )\S+$", re.MULTILINE)


def haproxy_admin(config: bytes) -> str:
    """The one user of the HAProxy example's userlist (the nginx and Apache READMEs have
    the reader write an htpasswd line for ``ADMIN_USER``; HAProxy's user is in the file)."""
    users = USERLIST_USER_LINE.findall(config)
    assert len(users) == 1, "examples/haproxy/predict-api.cfg no longer has one userlist user"
    return users[0][1].decode()


def with_test_password(config: bytes) -> bytes:
    """The HAProxy example with its user's hash replaced by one of ``ADMIN_PASSWORD``.

    The README has the reader do the same with ``mkpasswd -m sha-512``: the example's
    hash is a placeholder nobody knows the password of.
    """
    hashed = subprocess.run(
        ["openssl", "passwd", "-6", ADMIN_PASSWORD],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout.strip()  # fmt: skip
    haproxy_admin(config)  # exactly one line to replace
    return USERLIST_USER_LINE.sub(lambda m: m.group(1) + hashed.encode(), config)


# The Caddy example's basic_auth account: "NAME HASH" on the line after "basic_auth {".
CADDY_ACCOUNT_LINE = re.compile(rb"(basic_auth \{\n\s*(\S+) )(\S+)\n")


def caddy_admin(config: bytes) -> str:
    accounts = CADDY_ACCOUNT_LINE.findall(config)
    assert len(accounts) == 1, "examples/caddy/Caddyfile no longer has one basic_auth account"
    return accounts[0][1].decode()


def with_caddy_password(config: bytes) -> bytes:
    """The Caddy example with its account's hash replaced by one of ``ADMIN_PASSWORD``, as
    the README has the reader do with ``caddy hash-password``."""
    hashed = subprocess.run(
        [TARGETS["caddy"].binary, "hash-password", "--plaintext", ADMIN_PASSWORD],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.strip()  # fmt: skip
    caddy_admin(config)  # exactly one account to replace
    return CADDY_ACCOUNT_LINE.sub(lambda m: m.group(1) + hashed.encode() + b"\n", config)


def envoy_with_test_ports(config: Path, edge_port: int, app_port: int) -> bytes:
    """with_test_ports for Envoy, which writes an address as "address: 127.0.0.1,
    port_value: 8080": the listener's and the cluster's port, each written once."""
    text = config.read_bytes()
    for address, port in ((EXAMPLE_EDGE_ADDRESS, edge_port), (EXAMPLE_APP_ADDRESS, app_port)):
        host, example_port = address.split(":")
        written = f"address: {host}, port_value: {example_port}}}".encode()
        assert text.count(written) == 1, f"{config} no longer listens or proxies on {address}"
        text = text.replace(written, f"address: {host}, port_value: {port}}}".encode())
    return text


# The Envoy example's basic_auth user line: "admin:{SHA}<placeholder>".
ENVOY_USER_LINE = re.compile(rb'(inline_string: "admin:)\{SHA\}[A-Za-z0-9+/=]+(")')


def envoy_with_test_password(config: bytes) -> bytes:
    """The Envoy example with its placeholder hash replaced by ``ADMIN_PASSWORD``'s {SHA}
    (the example tells the reader to put their own line there)."""
    hashed = sha_user(ADMIN_USER, ADMIN_PASSWORD).split(":", 1)[1].encode()
    replaced, count = ENVOY_USER_LINE.subn(lambda m: m.group(1) + hashed + m.group(2), config)
    assert count == 1, "examples/envoy/envoy.yaml no longer has one basic_auth user line"
    return replaced


def apache_modules(config: Path) -> list[str]:
    """The modules the example's comment tells the reader to enable, after Debian's defaults."""
    match = re.search(r"^#.*\ba2enmod ([a-z_]+(?: [a-z_]+)*)\s*$", config.read_text(), re.MULTILINE)
    assert match, f"{config} no longer says which modules to enable (a2enmod ...)"
    return DEBIAN_DEFAULT_MODULES + match.group(1).split()


def nginx_main_config() -> str:
    # What Debian's /etc/nginx/nginx.conf does for the example, and no more: conf.d/*.conf
    # inside http {}. Relative paths (the site's "include cors/...", "htpasswd") resolve
    # against /etc/nginx, the directory of this file.
    return """\
# Written by integration/test_example.py: the minimum of Debian's nginx.conf.
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log notice;

events {
    worker_connections 64;
}

http {
    access_log /var/log/nginx/access.log;
    default_type application/octet-stream;
    include conf.d/*.conf;
}
"""


def apache_main_config(edge_port: int, modules: list[str]) -> str:
    # Debian's apache2.conf needs /etc/apache2/envvars (apache2ctl); this is what it does
    # for the example: modules, "Require all denied" on /, ports.conf's Listen and the
    # sites-enabled/ include. ServerRoot /etc/apache2 makes the site's relative
    # "Include cors/..." and "AuthUserFile htpasswd" resolve as on a Debian host.
    load = load_modules(modules)
    return f"""\
# Written by integration/test_example.py: the minimum of Debian's apache2.conf.
ServerRoot "/etc/apache2"
ServerName localhost
{load}
User www-data
Group www-data
PidFile /run/apache2.pid
DefaultRuntimeDir /tmp
Mutex file:/tmp default
ErrorLog /var/log/apache2/error.log
LogLevel warn
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog /var/log/apache2/access.log common

<Directory />
    AllowOverride None
    Require all denied
</Directory>

# ports.conf
Listen 127.0.0.1:{edge_port}

IncludeOptional sites-enabled/*.conf
"""


def write_config_dir(config_dir: Path, target: str, edge_port: int, app_port: int) -> Path:
    """Lay out /etc/nginx, /etc/apache2, /etc/haproxy, /etc/caddy, /etc/traefik or /etc/envoy
    as the example's README has the reader do; the directory the rendered files are in."""
    if target == "traefik":
        return write_traefik_dir(config_dir, edge_port, app_port)
    moved = envoy_with_test_ports if target == "envoy" else with_test_ports
    site = moved(SERVER_CONFIGS[target], edge_port, app_port)
    if target == "caddy":
        # corsgen render ... --out-dir /etc/caddy/corsgen: the Caddyfile imports it from there.
        rendered = render(POLICY, target, config_dir / "corsgen")
        assert rendered.returncode == 0, f"corsgen render failed:\n{rendered.stderr}"
        (config_dir / MAIN_CONFIGS[target]).write_bytes(with_caddy_password(site))
        return config_dir / "corsgen"
    if target == "haproxy":
        # corsgen render ... --out-dir /etc/haproxy/corsgen: the map files stay there, the
        # fragment is the one pasted into the example (tests/test_haproxy_config.py checks
        # it is current).
        rendered = render(POLICY, target, config_dir / "corsgen")
        assert rendered.returncode == 0, f"corsgen render failed:\n{rendered.stderr}"
        (config_dir / MAIN_CONFIGS[target]).write_bytes(with_test_password(site))
        return config_dir / "corsgen"
    if target == "envoy":
        # corsgen render ... --out-dir /etc/envoy/corsgen: the file's parts are already
        # merged into the example (tests/test_envoy_config.py checks they are current).
        rendered = render(POLICY, target, config_dir / "corsgen")
        assert rendered.returncode == 0, f"corsgen render failed:\n{rendered.stderr}"
        (config_dir / MAIN_CONFIGS[target]).write_bytes(envoy_with_test_password(site))
        return config_dir / "corsgen"
    # corsgen render examples/predict-api.yaml --target T --out-dir /etc/.../cors
    rendered = render(POLICY, target, config_dir / "cors")
    assert rendered.returncode == 0, f"corsgen render failed:\n{rendered.stderr}"
    # The user file both example configs name (relative to the config dir).
    (config_dir / "htpasswd").write_text(make_htpasswd_line(ADMIN_USER, ADMIN_PASSWORD))
    if target == "nginx":
        (config_dir / "conf.d").mkdir()
        (config_dir / "conf.d" / "predict-api.conf").write_bytes(site)
        (config_dir / "nginx.conf").write_text(nginx_main_config())
    else:
        (config_dir / "sites-enabled").mkdir()
        (config_dir / "sites-enabled" / "predict-api.conf").write_bytes(site)
        modules = apache_modules(SERVER_CONFIGS[target])
        (config_dir / "httpd.conf").write_text(apache_main_config(edge_port, modules))
    return config_dir / "cors"


def write_traefik_dir(config_dir: Path, edge_port: int, app_port: int) -> Path:
    """/etc/traefik as examples/README.md lays it out: traefik.yml, dynamic/site.yml (the
    app's address moved, the placeholder hash replaced as the README says) and the two
    renderings of the policy in dynamic/api/ and dynamic/admin/."""
    example = EXAMPLES / "traefik"
    static = (example / "traefik.yml").read_text()
    site = (example / "dynamic" / "site.yml").read_text()
    users = re.findall(r'^( +- ")admin:[^"]+(")$', site, re.MULTILINE)
    assert EXAMPLE_EDGE_ADDRESS in static and EXAMPLE_APP_ADDRESS in site and len(users) == 1
    site = site.replace(EXAMPLE_APP_ADDRESS, f"127.0.0.1:{app_port}")
    user = make_htpasswd_line(ADMIN_USER, ADMIN_PASSWORD).strip()
    site = re.sub(r'^( +- ")admin:[^"]+(")$', rf"\g<1>{user}\g<2>", site, flags=re.MULTILINE)
    (config_dir / "traefik.yml").write_text(
        static.replace(EXAMPLE_EDGE_ADDRESS, f"127.0.0.1:{edge_port}")
    )
    dynamic = config_dir / "dynamic"
    dynamic.mkdir()
    (dynamic / "site.yml").write_text(site)
    for folder, router in EXAMPLE_ROUTERS.items():
        options = [
            f"--option={name}={value}"
            for name, values in render_options(router).items()
            for value in values
        ]
        rendered = render(POLICY, "traefik", dynamic / folder, options)
        assert rendered.returncode == 0, f"corsgen render failed:\n{rendered.stderr}"
    return dynamic / "api"


@dataclass
class ExampleEdge:
    """One server running the example config in its container."""

    target: str
    site: Site  # the example site on its port; requests go through it
    container: Container
    log_dir: Path  # the server's log dir on the host (empty for HAProxy)
    admin: tuple[str, str]  # the user and password /admin/ accepts

    def failure_report(self, tail: int = 40) -> str:
        """Container output and the server's logs (conftest adds this to failed tests)."""
        parts = [container_output(self.container, tail)]
        for name in ("error.log", "access.log"):
            log = self.log_dir / name
            if log.exists():
                lines = log.read_text(errors="replace").splitlines()[-tail:]
                parts.append(f"--- {name} ---\n" + "\n".join(lines))
        return "\n".join(parts)

    def wait_until_serving(self) -> None:
        """Poll /health through the edge (so the app answers too), bounded."""
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer yet"
        for _ in range(MAX_POLLS):
            if time.monotonic() > deadline:
                break
            try:
                response = httpx.get(
                    self.site.url("/health"),
                    timeout=2.0,
                    trust_env=False,
                    verify=http_client.ssl_context(),
                )
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:80]!r}"
            except httpx.TransportError as exc:
                last = repr(exc)
            self.container.reload()
            if self.container.status not in ("created", "running"):
                break
            time.sleep(POLL_INTERVAL)
        raise EdgeServerError(
            f"{self.target} with the example config never served /health (last: {last})\n"
            f"{self.failure_report()}"
        )


@pytest.fixture(scope="module")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornApp]:
    """examples/predict_app/main.py under uvicorn, as the example's README runs it."""
    app = UvicornApp(tmp_path_factory.mktemp("example-app") / "uvicorn.log", APP_DIR, "main:app")
    app.label = "the example predict app"
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module", params=list(SERVER_CONFIGS))
def example_edge(
    request: pytest.FixtureRequest,
    docker_client: docker.DockerClient,
    example_app: UvicornApp,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ExampleEdge]:
    """The example's server config for one server, in front of the example app."""
    target: str = request.param
    work = tmp_path_factory.mktemp(f"example-{target}")
    config_dir, log_dir = work / "config", work / "log"
    config_dir.mkdir()
    log_dir.mkdir()
    edge_port = free_port()
    rendered_dir = write_config_dir(config_dir, target, edge_port, example_app.port)
    example = SERVER_CONFIGS[target].read_bytes()
    admin_user = haproxy_admin(example) if target == "haproxy" else ADMIN_USER
    if target == "caddy":
        admin_user = caddy_admin(example)
    open_permissions(work)  # the workers (www-data) read htpasswd
    mounts = {config_dir: CONFIG_DIRS[target]}
    if target in LOG_DIRS:
        mounts[log_dir] = LOG_DIRS[target]
    # The server's own foreground command line (edgeharness.targets), as in the images.
    command = SERVERS[target].start_command(
        f"{CONFIG_DIRS[target]}/{MAIN_CONFIGS[target]}", binary=SERVERS[target].program
    )
    container = run_server_container(
        docker_client,
        SERVERS[target].image(),
        command,
        kind=f"{target}-example",
        mounts=mounts,
        name_suffix=str(edge_port),
    )
    try:
        edge = ExampleEdge(
            target,
            Site("predict-api", target, edge_port, 1, rendered_dir),
            container,
            log_dir,
            (admin_user, ADMIN_PASSWORD),
        )
        edge.wait_until_serving()
        yield edge
    finally:
        remove_container(container)


def upload(site: Site, origin: str) -> HttpResult:
    """What a page's fetch() with FormData sends to /predict."""
    return site.post("/predict", origin=origin, files={"file": ("cat.png", IMAGE, "image/png")})


# -- the app alone -------------------------------------------------------------------------
def test_the_app_itself_sends_no_cors_headers(example_app: UvicornApp) -> None:
    # The point of the example: CORS lives at the edge, not in the app.
    r = http_client.send(
        "POST",
        f"{example_app.url}/predict",
        origin=FRONT_END,
        files={"file": ("cat.png", IMAGE, "image/png")},
    )
    assert_status(r, 200)
    assert_no_cors_headers(r)
    assert r.header("X-Request-Id"), r.describe()


# -- the front-end's origin ----------------------------------------------------------------
@pytest.mark.parametrize(
    "request_headers",
    [
        "content-type",  # a JSON POST
        "authorization",  # a multipart upload with a bearer token
    ],
)
def test_preflight_from_the_front_end_is_answered_at_the_edge(
    example_edge: ExampleEdge, request_headers: str
) -> None:
    r = example_edge.site.preflight("/predict", FRONT_END, "POST", request_headers=request_headers)
    # The app has no CORS middleware and answers OPTIONS with 405: 204 is the edge's.
    assert_status(r, 204)
    assert r.body == b"", r.describe()
    assert_cors_headers_are(r, ACAO, ACAC, ACAM, ACAH, ACMA)
    assert_header(r, ACAO, FRONT_END)
    assert_header(r, ACAC, "true")
    assert_list_header(r, ACAM, ["GET", "POST"])
    assert_list_header(r, ACAH, ["Authorization", "Content-Type"])
    assert_header(r, ACMA, "600")
    assert_vary_includes(
        r, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"
    )


def test_upload_from_the_front_end_gets_the_apps_answer_and_may_read_the_request_id(
    example_edge: ExampleEdge, example_app: UvicornApp
) -> None:
    r = upload(example_edge.site, FRONT_END)
    assert_status(r, 200)
    direct = http_client.send(
        "POST", f"{example_app.url}/predict", files={"file": ("cat.png", IMAGE, "image/png")}
    )
    assert r.json() == direct.json(), f"not the app's answer\n{r.describe()}"
    assert_cors_headers_are(r, ACAO, ACAC, ACEH)
    assert_header(r, ACAO, FRONT_END)
    assert_header(r, ACAC, "true")
    assert_list_header(r, ACEH, ["X-Request-Id"])
    assert r.count("X-Request-Id") == 1, r.describe()
    assert_vary_includes(r, "Origin")


# -- an origin the policy does not list ----------------------------------------------------
def test_preflight_from_another_origin_is_refused_without_cors_headers(
    example_edge: ExampleEdge,
) -> None:
    r = example_edge.site.preflight("/predict", ELSEWHERE, "POST", request_headers="content-type")
    assert_status(r, 403)
    assert_no_cors_headers(r)
    assert_vary_includes(r, "Origin")


def test_upload_from_another_origin_gets_no_cors_headers(example_edge: ExampleEdge) -> None:
    # It reaches the app (block_disallowed_origins is off); the browser keeps the answer
    # from the page because nothing allows that origin.
    r = upload(example_edge.site, ELSEWHERE)
    assert_status(r, 200)
    assert_no_cors_headers(r)
    assert_vary_includes(r, "Origin")


# -- /admin/, behind the edge's basic auth --------------------------------------------------
def test_admin_preflight_is_answered_without_credentials(example_edge: ExampleEdge) -> None:
    # A preflight never carries credentials: it must not meet the 401.
    r = example_edge.site.preflight(
        "/admin/stats", FRONT_END, "GET", request_headers="authorization"
    )
    assert_status(r, 204)
    assert_cors_headers_are(r, ACAO, ACAC, ACAM, ACAH, ACMA)
    assert_header(r, ACAO, FRONT_END)


def test_admin_401_carries_the_cors_headers_so_the_page_can_read_it(
    example_edge: ExampleEdge,
) -> None:
    r = example_edge.site.get("/admin/stats", origin=FRONT_END)
    assert_status(r, 401)
    assert r.has("WWW-Authenticate"), r.describe()
    assert_cors_headers_are(r, ACAO, ACAC, ACEH)
    assert_header(r, ACAO, FRONT_END)
    assert_header(r, ACAC, "true")


def test_admin_with_credentials_reaches_the_app(example_edge: ExampleEdge) -> None:
    r = example_edge.site.get("/admin/stats", origin=FRONT_END, auth=example_edge.admin)
    assert_status(r, 200)
    assert isinstance(r.json()["predictions"], int), r.describe()
    assert_header(r, ACAO, FRONT_END)


# -- uploads larger than nginx's default 1 MB limit ----------------------------------------
def test_upload_over_one_megabyte_gets_the_apps_answer_not_413(example_edge: ExampleEdge) -> None:
    # nginx's default client_max_body_size (1 MB) would answer 413 where the app behind
    # it, like Starlette, accepts any size: the example's server config raises it.
    # (Apache's LimitRequestBody defaults to 1 GB since 2.4.54; HAProxy sets no limit.)
    photo = IMAGE * (8 * 1024 * 1024 // len(IMAGE))  # 8 MB, a phone camera's photo
    r = example_edge.site.post(
        "/predict", origin=FRONT_END, files={"file": ("photo.png", photo, "image/png")}
    )
    assert_status(r, 200)
    assert r.json()["bytes"] == len(photo), r.describe()
    assert_header(r, ACAO, FRONT_END)
