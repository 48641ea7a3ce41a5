"""Real nginx, Apache, HAProxy, Caddy, Traefik and Envoy edges on 127.0.0.1 for the differential and
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from corsgen.compare import Observed
from corsgen.evaluate import Request, split_list
from corsgen.load import load_text
from corsgen.policy import Policy, policy_from_document
from corsgen.render import render
from corsgen.targets import CannotExpress, get_target
from edgeharness import process
from edgeharness.availability import require_installed
from edgeharness.caddy import CADDY, SiteRoutes, caddyfile, site_block
from edgeharness.envoy import ENVOY, VirtualHost, bootstrap_config
from edgeharness.haproxy import HAPROXY, frontend_config
from edgeharness.net import free_port
from edgeharness.targets import APACHE, NGINX, Target, nginx_http_directives
from edgeharness.traefik import (
    DYNAMIC_FILE,
    SITE_ROUTERS,
    TRAEFIK,
    api_problems,
    site_config,
    static_config,
)
from edgeharness.traefik import render_options as traefik_render_options
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
    # Vary tokens the server's own file handler sends on locally served files: the
    # "upstream" of /static/, whose tokens the CORS headers must keep.
    static_vary: tuple[str, ...] = ()
    # False: a new generation is a new process on its own port, not a reload (HAProxy runs
    # without a master process, Caddy without an admin endpoint, Envoy without hot restart,
    # which would need a --base-id per server).
    reloads: bool = True

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

    def render_files(self, policy: Policy) -> dict[str, str]:
        """What an operator of this edge renders for ``policy`` (Traefik: once per router)."""
        return render(policy, self.target).files

    def load_policy(self, policy: Policy) -> bool:
        """Load ``policy``; or, when the target cannot express it, check that render refuses
        it naming each feature (spec section 5) and return False."""
        unexpressed = get_target(self.target).unexpressed(policy)
        if not unexpressed:
            self.load(self.render_files(policy))
            return True
        with pytest.raises(CannotExpress) as refused:
            self.render_files(policy)
        for feature in unexpressed:
            assert any(f"uses {feature}, which" in line for line in refused.value.problems)
        return False

    def process_env(self) -> dict[str, str] | None:
        """Environment the server runs with (None: the harness's own)."""
        return None

    # Subclasses: write the main config for the current generation.
    def write_main_config(self) -> Path:
        raise NotImplementedError

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        """Rendered file name → the name the main config includes: the rendered name (the
        HAProxy fragment finds its map files by it); edges whose main config includes a
        fixed name (nginx, Apache, Caddy) override this."""
        return dict(rendered)

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
            env=self.process_env(),
        )
        self.process.start()
        self._wait_for_generation(START_TIMEOUT)

    def load(self, rendered: dict[str, str]) -> None:
        """Switch the running server to ``rendered``; return once it answers with it."""
        if not self.reloads:
            if self.process is not None:
                self.process.stop()
            self.start(rendered)
            return
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
                        tuple(split_list(", ".join(upstream_vary)))
                        if location == "proxy"
                        else self.static_vary
                        if location == "static"
                        else ()
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
        return NGINX.write_private_config(
            self.root,
            comment=f"corsgen {label}, generation {self.generation}",
            worker_connections=256,
            http=f"""    access_log off;
{http_part}    server {{
        listen 127.0.0.1:{self.port};
{server_part}    }}
""",
        )

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
        return APACHE.write_private_config(
            self.root,
            comment=f"corsgen {label}, generation {self.generation}",
            modules=self.MODULES,
            body=body,
        )

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
    reloads = False
    server = HAPROXY

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


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


class TraefikEdge(Edge):
    """Traefik as docs/traefik.md says: the rendered files in the file provider's directory
    beside the operator's own (:func:`edgeharness.traefik.site_config`), one rendering per
    router of the site (:data:`edgeharness.traefik.SITE_ROUTERS`). One process for the
    session on one port: the file provider applies each generation by itself."""

    name = "traefik"
    server = TRAEFIK

    def __init__(self, upstream: Upstream, root: Path | None = None) -> None:
        super().__init__(upstream, root)
        self.api_port = free_port()

    def render_files(self, policy: Policy) -> dict[str, str]:
        """The policy rendered once per router of the site, each into a folder of the
        provider directory named after the router, as docs/traefik.md says."""
        files: dict[str, str] = {}
        for router in SITE_ROUTERS:
            rendered = render(policy, self.target, traefik_render_options(router)).files
            files.update({f"{router.name}/{name}": text for name, text in rendered.items()})
        return files

    def install(self, rendered: dict[str, str]) -> Path:
        """Write the generation's files so that Traefik, which reads the directory on every
        change, never sees one half written: each file is written under a name it skips
        (.tmp) and renamed into place, stale files go after, and the site file that carries
        the generation comes last."""
        self.generation += 1
        files = self.policy_files(rendered)
        for name, text in files.items():
            write_atomically(self.policy_dir / name, text)
        for path in sorted(self.policy_dir.rglob("*.yml")):
            if path.relative_to(self.policy_dir).as_posix() not in {*files, DYNAMIC_FILE}:
                path.unlink()
        return self.write_main_config()

    def write_main_config(self) -> Path:
        write_atomically(
            self.policy_dir / DYNAMIC_FILE,
            site_config(
                upstream_port=self.upstream.port,
                generation=str(self.generation),
                generation_header=GENERATION_HEADER,
            ),
        )
        config = self.root / "traefik.yml"
        config.write_text(
            static_config(port=self.port, api_port=self.api_port, provider_dir=self.policy_dir),
            encoding="utf-8",
        )
        return config

    def check(self, config: Path) -> subprocess.CompletedProcess[str]:
        # No config test: a running Traefik's API lists what it could not load.
        raise NotImplementedError("Traefik has no config test: see TraefikEdge.problems")

    def problems(self) -> list[str]:
        return api_problems(self.api_port)

    def start(self, rendered: dict[str, str]) -> None:
        config = self.install(rendered)
        self.process = process.LocalProcess(
            self.name,
            self.server.start_command(str(config)),
            self.root / "stderr.log",
        )
        self.process.start()
        self._wait_for_generation(START_TIMEOUT)
        self._refuse_problems()

    def load(self, rendered: dict[str, str]) -> None:
        assert self.process is not None and self.process.alive(), f"{self.name} died"
        self.install(rendered)
        self._wait_for_generation(RELOAD_TIMEOUT)
        self._refuse_problems()

    def _refuse_problems(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigRejected("traefik reports:\n" + "\n".join(problems))


class CaddyEdge(Edge):
    """Caddy as docs/caddy.md says: NAME.caddy imported at the top of every handle block
    that serves the API, authentication in a route after it
    (:func:`edgeharness.caddy.site_block`)."""

    name = "caddy"
    reloads = False
    server = CADDY
    # file_server always adds it, compressed or not (caddyserver/caddy#5849).
    static_vary = ("Accept-Encoding",)
    # True: reverse_proxy to a port nobody listens on, so Caddy answers its own 502.
    upstream_down = False

    def policy_files(self, rendered: dict[str, str]) -> dict[str, str]:
        (text,) = rendered.values()
        return {"policy.caddy": text}

    def write_main_config(self) -> Path:
        write_static_file(self.root)
        # /ready answers before the API's blocks: it only tells which generation runs.
        control = (
            f"handle /ready {{\n\theader {GENERATION_HEADER} {self.generation}\n\trespond 200\n}}\n"
        )
        routes = SiteRoutes(
            auth_path="/auth/",
            user="corsgen",
            password="not-used",
            static_path="/static/",
            static_root=f"{self.root}/www",
            control=control,
        )
        site = site_block(
            self.port,
            [str(self.policy_dir / "policy.caddy")],
            None if self.upstream_down else f"127.0.0.1:{self.upstream.port}",
            routes,
        )
        config = self.root / "Caddyfile"
        config.write_text(
            caddyfile([site], storage=f"{self.root}/data", comment=f"generation {self.generation}"),
            encoding="utf-8",
        )
        return config

    def process_env(self) -> dict[str, str]:
        # Caddy keeps its instance id and config autosave under XDG_DATA_HOME and
        # XDG_CONFIG_HOME: the edge's own directory, not the home of whoever runs the tests.
        return {"XDG_DATA_HOME": f"{self.root}/data", "XDG_CONFIG_HOME": f"{self.root}/config"}


class EnvoyEdge(Edge):
    """Envoy as docs/envoy.md says: the file's http_filters first (before basic_auth), its
    virtual_host keys in the virtual host, its local-reply mapper in the connection
    manager (:func:`edgeharness.envoy.bootstrap_config`)."""

    name = "envoy"
    reloads = False
    server = ENVOY

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


EDGES: dict[str, type[Edge]] = {
    "nginx": NginxEdge,
    "apache": ApacheEdge,
    "haproxy": HaproxyEdge,
    "caddy": CaddyEdge,
    "traefik": TraefikEdge,
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


def starter_policy() -> Policy:
    """What a session's edge starts with, before the tests load their own policies."""
    return policy_from_document(load_text(STARTER_POLICY, Path("starter.yaml")))


def _edge_fixture(cls: type[Edge]) -> Callable[[Upstream], Iterator[Edge]]:
    def edge_fixture(upstream: Upstream) -> Iterator[Edge]:
        require_installed(cls.server)
        edge = cls(upstream)
        yield from running(edge, edge.render_files(starter_policy()))

    edge_fixture.__doc__ = (
        f"A real {cls.server.program} on 127.0.0.1, started once per session; tests load "
        "their policies with ``load_policy`` (or ``load`` of rendered files)."
    )
    return pytest.fixture(scope="session", name=f"{cls.name}_edge")(edge_fixture)


# The session fixtures nginx_edge, apache_edge, ...: one per entry of EDGES (tests/conftest.py
# makes them visible to every test).
EDGE_FIXTURES = {f"{name}_edge": _edge_fixture(cls) for name, cls in EDGES.items()}
