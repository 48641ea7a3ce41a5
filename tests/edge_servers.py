"""Real nginx, Apache and HAProxy edges on 127.0.0.1 for the differential and
hostile-input tests.

Each edge runs natively (no Docker) from a private directory, in front of the harness's
upstream stub (edgeharness.upstream), which records which requests reached it. A server
starts once per test session and *reloads* between policies (``nginx -s reload`` /
``apache2 -k graceful``; HAProxy, run without a master process, is restarted). Each
generation of the configuration listens on a port of its own and marks its answers with
``X-Corsgen-Generation`` (polled after a reload), so an answer from a worker that is still
retiring is never mistaken for one of the new configuration. Servers are started and
stopped by pid, never by name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from corsgen.compare import Observed
from corsgen.evaluate import Request, split_list
from corsgen.load import load_text
from corsgen.policy import policy_from_document
from corsgen.render import render
from edgeharness import process
from edgeharness.availability import require_installed
from edgeharness.envoy import ENVOY, VirtualHost, bootstrap_config
from edgeharness.haproxy import HAPROXY, frontend_config
from edgeharness.net import free_port
from edgeharness.targets import APACHE, NGINX, Target, nginx_http_directives
from edgeharness.upstream import TEST_ID_HEADER, Upstream, running_upstream

GENERATION_HEADER = "X-Corsgen-Generation"
# base64(SHA-1("not-used")): a password file entry both nginx and Apache read.
SECRET_SHA1 = "kIrBUuVLtOwxzB19Wxhtp6QvlWg="

# Bounds: no loop in these tests waits or retries without a limit.
START_TIMEOUT = 15.0
RELOAD_TIMEOUT = 15.0
COMMAND_TIMEOUT = 30.0


def write_static_file(root: Path) -> None:
    """The locally served file behind ``/static/`` (the spec's "locally served content"),
    and the password file of ``/auth/`` (whose one user no test request ever logs in as)."""
    static = root / "www" / "static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "file.txt").write_text("static\n", encoding="utf-8")
    (root / "htpasswd").write_text(f"corsgen:{{SHA}}{SECRET_SHA1}\n", encoding="utf-8")
    os.chmod(root, 0o755)
    os.chmod(root / "htpasswd", 0o644)


# --- the edges -------------------------------------------------------------------------------


class ConfigRejected(AssertionError):
    """The server refused a generated configuration (its own message is attached)."""


@dataclass
class Exchange:
    """One request sent through an edge and what came back."""

    request: Request
    observed: Observed
    generation: str | None


class Edge:
    """Base class: a server process on 127.0.0.1 that loads rendered policy files."""

    name = "edge"
    server: Target  # the binary and the commands that test, start and reload a config

    def __init__(self, upstream: Upstream, root: Path | None = None) -> None:
        self.upstream = upstream
        self.root = root or Path(tempfile.mkdtemp(prefix=f"corsgen-{self.name}-"))
        self.policy_dir = self.root / "policy"
        self.policy_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.generation = 0
        self.process: process.LocalProcess | None = None
        self._request_counter = 0

    @property
    def target(self) -> str:
        return self.server.name

    # Subclasses: write the main config for the current generation.
    def write_main_config(self) -> Path:
        raise NotImplementedError

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        """Rendered file name → the fixed name the main config includes."""
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def install(self, rendered: dict[str, str]) -> Path:
        """Write the rendered files and the main config of the next generation.

        Each generation listens on a port of its own: once the new port answers, every
        answer on it comes from the new configuration, whatever old workers still finish.
        """
        self.generation += 1
        self.port = free_port()
        for path in self.policy_dir.iterdir():
            path.unlink()
        for name, text in self.policy_files(rendered).items():
            (self.policy_dir / name).write_text(text, encoding="utf-8")
        return self.write_main_config()

    def check(self, config: Path) -> subprocess.CompletedProcess[str]:
        return process.run(
            self.server.test_command(str(config), prefix=str(self.root)), COMMAND_TIMEOUT
        )

    def check_rendered(self, rendered: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Run the server's own config test on rendered files (without loading them)."""
        return self.check(self.install(rendered))

    def start(self, rendered: dict[str, str]) -> None:
        config = self.install(rendered)
        result = self.check(config)
        if result.returncode != 0:
            raise ConfigRejected(f"{self.name} -t failed:\n{result.stderr}")
        self.process = process.LocalProcess(
            self.name,
            self.server.start_command(str(config), prefix=str(self.root)),
            self.root / "stderr.log",
        )
        self.process.start()
        self._wait_for_generation(START_TIMEOUT)

    def load(self, rendered: dict[str, str]) -> None:
        """Switch the running server to ``rendered``; return once it answers with it."""
        assert self.process is not None and self.process.alive(), f"{self.name} died"
        config = self.install(rendered)
        result = self.check(config)
        if result.returncode != 0:
            raise ConfigRejected(f"{self.name} -t failed:\n{result.stderr}")
        reload = self.server.reload_command(str(config), prefix=str(self.root))
        subprocess.run(reload, capture_output=True, timeout=COMMAND_TIMEOUT, check=True)
        self._wait_for_generation(RELOAD_TIMEOUT)

    def _wait_for_generation(self, timeout: float) -> None:
        wanted = str(self.generation)
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process is not None and not self.process.alive():
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            try:
                response = httpx.get(f"{self.base_url}/ready", timeout=2.0)
                last = response.headers.get(GENERATION_HEADER, "none")
                if last == wanted:
                    return
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.02)
        raise TimeoutError(
            f"{self.name} did not serve generation {wanted} within {timeout}s "
            f"(last: {last}); {self.log_tail()}"
        )

    def log_tail(self) -> str:
        text = ""
        for log in ("error.log", "stderr.log"):
            path = self.root / log
            if path.exists():
                text += path.read_text(errors="replace")[-2000:]
        return text

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    # --- sending requests -------------------------------------------------------------------

    def exchange(
        self,
        client: httpx.Client,
        request: Request,
        upstream_status: int = 200,
        upstream_vary: tuple[str, ...] = (),
        location: str = "proxy",
    ) -> Exchange:
        """Send ``request`` through the edge; retry (bounded) if an old worker answered.

        ``location`` is where it goes: ``proxy`` (the recording upstream), ``static`` (a
        locally served file: the server picks the status) or ``auth`` (the upstream behind
        HTTP basic authentication the request never satisfies: a request that is passed on
        must get the edge's 401, with the CORS headers of an allowed origin).
        """
        for _attempt in range(20):
            self._request_counter += 1
            request_id = f"{self.name}-{self.generation}-{self._request_counter}"
            query = urllib.parse.urlencode(
                {"status": upstream_status, "vary": ", ".join(upstream_vary)}
            )
            path = {
                "proxy": f"/u/{request_id}?{query}",
                "static": "/static/file.txt",
                "auth": f"/auth/u/{request_id}?{query}",
            }[location]
            # UTF-8 bytes, not str: httpx refuses non-ASCII str values, and a Unicode host
            # in Origin (which no browser sends) is one of the forms the tests try.
            headers = [
                (name, value.encode("utf-8"))
                for name, value in [*request.header_lines(), (TEST_ID_HEADER, request_id)]
            ]
            response = client.request(request.method, f"{self.base_url}{path}", headers=headers)
            # The port already tells the generation; the header is a second guard where the
            # server sends it (nginx drops location-level add_header on answers given
            # inside an `if` that has add_header of its own, e.g. preflights).
            generation = response.headers.get(GENERATION_HEADER, str(self.generation))
            if generation == str(self.generation):
                observed = Observed(
                    status=response.status_code,
                    headers=tuple(response.headers.multi_items()),
                    body=response.content,
                    reached_upstream=(
                        self.upstream.reached(request_id) if location == "proxy" else None
                    ),
                    upstream_status={"proxy": upstream_status, "static": None, "auth": 401}[
                        location
                    ],
                    upstream_vary=(
                        tuple(split_list(", ".join(upstream_vary))) if location == "proxy" else ()
                    ),
                )
                return Exchange(request, observed, generation)
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} kept answering from generation {generation}")


class NginxEdge(Edge):
    name = "nginx"
    server = NGINX

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        files = {}
        for name, text in rendered.items():
            suffix = ".http.conf" if name.endswith(".http.conf") else ".location.conf"
            files["policy" + suffix] = text
        return files

    def write_config(self, label: str, http_part: str, server_part: str) -> Path:
        """nginx.conf for this generation: one server on ``self.port`` around the parts."""
        root = self.root
        for folder in NGINX.TEMP_PATHS:
            (root / "temp" / folder).mkdir(parents=True, exist_ok=True)
        config = root / "nginx.conf"
        text = NGINX.main_config(
            comment=f"corsgen {label}, generation {self.generation}",
            pid=f"{root}/nginx.pid",
            error_log=f"{root}/error.log warn",
            user="root root",
            temp_prefix=f"{root}/temp/",
            worker_connections=256,
            http=f"""    access_log off;
{http_part}    server {{
        listen 127.0.0.1:{self.port};
{server_part}    }}
""",
        )
        config.write_text(text, encoding="utf-8")
        return config

    def write_main_config(self) -> Path:
        root = self.root
        write_static_file(root)
        # As the docs say: the sizes the rendered file asks for go into http { }.
        http_conf = (self.policy_dir / "policy.http.conf").read_text(encoding="utf-8")
        includes = (
            f"{nginx_http_directives([http_conf])}    include {self.policy_dir}/policy.http.conf;\n"
        )
        policy = (
            f"            include {self.policy_dir}/policy.location.conf;\n"
            f'            add_header {GENERATION_HEADER} "{self.generation}" always;\n'
        )
        proxy = f"            proxy_pass http://127.0.0.1:{self.upstream.port};\n"
        return self.write_config(
            "test edge",
            includes,
            f"""        server_name localhost;
        location / {{
{policy}{proxy}        }}
        location /static/ {{
{policy}            root {root}/www;
        }}
        location /auth/ {{
{policy}            auth_basic "corsgen test";
            auth_basic_user_file {root}/htpasswd;
{proxy}        }}
""",
        )


class ApacheEdge(Edge):
    name = "apache"
    server = APACHE
    MODULES = (
        "mpm_event",
        "authz_core",
        "authn_core",
        "authn_file",
        "authz_user",
        "auth_basic",
        "alias",
        "headers",
        "setenvif",
        "rewrite",
        "proxy",
        "proxy_http",
    )

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        (text,) = rendered.values()
        return {"policy.conf": text}

    def write_config(self, label: str, body: str) -> Path:
        """apache2.conf for this generation: the skeleton, then ``body``."""
        root = self.root
        (root / "run").mkdir(exist_ok=True)
        config = root / "apache2.conf"
        text = APACHE.main_config(
            comment=f"corsgen {label}, generation {self.generation}",
            server_root=str(root),
            run_dir=f"{root}/run",
            error_log=f"{root}/error.log",
            server_name="127.0.0.1",
            modules=self.MODULES,
            body=body,
        )
        config.write_text(text, encoding="utf-8")
        return config

    def write_main_config(self) -> Path:
        root = self.root
        write_static_file(root)
        return self.write_config(
            "test edge",
            f"""# Two children and spare slots: a graceful restart then starts the new generation at
# once instead of on the next once-a-second maintenance tick.
StartServers 2
ServerLimit 8
ThreadsPerChild 16
MaxRequestWorkers 64
MinSpareThreads 4
MaxSpareThreads 48
KeepAlive On
Listen 127.0.0.1:{self.port}
<VirtualHost 127.0.0.1:{self.port}>
    Include {self.policy_dir}/policy.conf
    Header always set {GENERATION_HEADER} "{self.generation}"
    ProxyPass /static/ !
    ProxyPass / http://127.0.0.1:{self.upstream.port}/
    Alias /static/ {root}/www/static/
    <Directory {root}/www>
        Require all granted
    </Directory>
    <Location /auth/>
        AuthType Basic
        AuthName "corsgen test"
        AuthUserFile {root}/htpasswd
        Require valid-user
    </Location>
</VirtualHost>
""",
        )


class HaproxyEdge(Edge):
    """HAProxy as docs/haproxy.md says: the fragment pasted into the frontend, the map
    files in ``CORSGEN_MAP_DIR`` (:func:`edgeharness.haproxy.frontend_config`)."""

    name = "haproxy"
    server = HAPROXY

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        # The map files keep their names: the fragment finds them by name in the map dir.
        return dict(rendered)

    def write_main_config(self) -> Path:
        fragments = [
            path.read_text(encoding="utf-8")
            for path in sorted(self.policy_dir.iterdir())
            if path.name.endswith(".cfg")
        ]
        # /ready answers before the fragment: it only tells which generation is running.
        ready = (
            f"http-request return status 200 hdr {GENERATION_HEADER} {self.generation}"
            " if { path /ready }\n"
        )
        text = frontend_config(
            [ready, *fragments],
            map_dir=self.policy_dir,
            port=self.port,
            upstream_port=self.upstream.port,
            auth_path="/auth/",
            static_path="/static/",
        )
        config = self.root / "haproxy.cfg"
        config.write_text(text, encoding="utf-8")
        return config

    def load(self, rendered: dict[str, str]) -> None:
        # No master process to reload: a new HAProxy on the new generation's port.
        if self.process is not None:
            self.process.stop()
        self.start(rendered)


class EnvoyEdge(Edge):
    """Envoy as docs/envoy.md says: the file's http_filters first (before basic_auth), its
    virtual_host keys in the virtual host, its local-reply mapper in the connection
    manager (:func:`edgeharness.envoy.bootstrap_config`)."""

    name = "envoy"
    server = ENVOY

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        return dict(rendered)

    def write_main_config(self) -> Path:
        policies = [path.read_text(encoding="utf-8") for path in sorted(self.policy_dir.iterdir())]
        host = VirtualHost(
            "api",
            policies=policies,
            auth_path="/auth/",
            static_path="/static/",
            response_headers={GENERATION_HEADER: str(self.generation)},
        )
        text = bootstrap_config(
            [host],
            port=self.port,
            upstream_port=self.upstream.port,
            comment=f"corsgen test edge, generation {self.generation}",
        )
        config = self.root / "envoy.yaml"
        config.write_text(text, encoding="utf-8")
        return config

    def load(self, rendered: dict[str, str]) -> None:
        # Hot restart is off (tests/edge_servers starts several Envoys): a new Envoy on
        # the new generation's port.
        if self.process is not None:
            self.process.stop()
        self.start(rendered)


EDGES: dict[str, type[Edge]] = {
    "nginx": NginxEdge,
    "apache": ApacheEdge,
    "haproxy": HaproxyEdge,
    "envoy": EnvoyEdge,
}


# --- session fixtures (imported by tests/conftest.py) -------------------------------------------

STARTER_POLICY = """\
version: 1
name: starter
origins: [https://app.example.com]
"""


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    """The upstream stub (a uvicorn process), shared by every edge of the session."""
    yield from running_upstream(tmp_path_factory.mktemp("upstream"))


def running(edge: Edge, rendered: dict[str, str]) -> Iterator[Edge]:
    """``edge`` started with ``rendered``, for a fixture to yield; stopped (by pid) after."""
    try:
        edge.start(rendered)
        yield edge
    finally:
        edge.stop()


def starter_files(target: str) -> dict[str, str]:
    """What a session's edge starts with, before the tests load their own policies."""
    starter = policy_from_document(load_text(STARTER_POLICY, Path("starter.yaml")))
    return render(starter, target).files


@pytest.fixture(scope="session")
def nginx_edge(upstream: Upstream) -> Iterator[Edge]:
    """A real nginx on 127.0.0.1, started once per session; tests reload it with `load`."""
    require_installed(NGINX)
    yield from running(NginxEdge(upstream), starter_files("nginx"))


@pytest.fixture(scope="session")
def apache_edge(upstream: Upstream) -> Iterator[Edge]:
    """A real Apache on 127.0.0.1, started once per session; tests reload it with `load`."""
    require_installed(APACHE)
    yield from running(ApacheEdge(upstream), starter_files("apache"))


@pytest.fixture(scope="session")
def haproxy_edge(upstream: Upstream) -> Iterator[Edge]:
    """A real HAProxy on 127.0.0.1; each policy restarts it on a port of its own."""
    require_installed(HAPROXY)
    yield from running(HaproxyEdge(upstream), starter_files("haproxy"))


@pytest.fixture(scope="session")
def envoy_edge(upstream: Upstream) -> Iterator[Edge]:
    """A real Envoy on 127.0.0.1; each policy restarts it on a port of its own."""
    require_installed(ENVOY)
    yield from running(EnvoyEdge(upstream), starter_files("envoy"))
