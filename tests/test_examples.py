"""The example server configs in examples/ load in the real servers, as documented."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from corsgen.policy import load_policy
from corsgen.render import render
from tests.conftest import REPO
from tests.test_server_config import APACHE, NGINX, need

EXAMPLES = REPO / "examples"


def render_into(folder: Path, target: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render(load_policy(EXAMPLES / "predict-api.yaml"), target).files.items():
        (folder / name).write_text(text)


def test_the_nginx_example_passes_nginx_t(tmp_path):
    need(NGINX)
    render_into(tmp_path / "cors", "nginx")
    shutil.copy(EXAMPLES / "nginx" / "predict-api.conf", tmp_path / "site.conf")
    (tmp_path / "htpasswd").write_text("alice:$apr1$x$y\n")
    # Debian's nginx.conf includes conf.d/*.conf inside http {}; this is its minimum.
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        "http {\n    include site.conf;\n}\n"
    )
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_apache_example_passes_apache2_t(tmp_path):
    need(APACHE)
    render_into(tmp_path / "cors", "apache")
    (tmp_path / "htpasswd").write_text("alice:$apr1$x$y\n")
    modules = "\n".join(
        f"LoadModule {name}_module /usr/lib/apache2/modules/mod_{name}.so"
        for name in (
            "mpm_event",
            "authz_core",
            "authn_core",
            "authn_file",
            "auth_basic",
            "authz_user",
            "headers",
            "setenvif",
            "rewrite",
            "proxy",
            "proxy_http",
        )
    )
    (tmp_path / "httpd.conf").write_text(
        f"ServerRoot {tmp_path}\nPidFile {tmp_path}/httpd.pid\nErrorLog {tmp_path}/error.log\n"
        f"Listen 127.0.0.1:8080\n{modules}\nInclude {EXAMPLES / 'apache' / 'predict-api.conf'}\n"
    )
    result = subprocess.run(
        [APACHE, "-t", "-f", str(tmp_path / "httpd.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
