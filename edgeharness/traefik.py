"""Traefik to the harness: the static configuration and the operator's own dynamic
configuration around corsgen's rendered files (its :data:`TRAEFIK` entry is in
:mod:`edgeharness.targets`).

As docs/traefik.md tells operators: Traefik's file provider reads a directory; the
rendered ``NAME.traefik.yml`` files go into it next to the operator's own file (their
services and middlewares), and corsgen's routers replace the operator's router, given its
rule, service and middlewares as render options. :func:`site_config` writes exactly that
for a test site with three routers, as the other edges have three locations:

- ``proxy``: ``PathPrefix(`/`)`` forwarded to the upstream;
- ``static``: ``PathPrefix(`/static/`)`` answered by Traefik itself (``noop@internal``,
  a 418: Traefik serves no files, this is its locally produced content);
- ``auth``: ``PathPrefix(`/auth/`)`` behind basicAuth (a middleware of the operator's).
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeharness.targets import TRAEFIK

__all__ = [
    "AUTH_MIDDLEWARE",
    "DYNAMIC_FILE",
    "EXAMPLE_ROUTERS",
    "SITE_ROUTERS",
    "TRAEFIK",
    "UPSTREAM_SERVICE",
    "SiteRouter",
    "api_items",
    "api_problems",
    "render_options",
    "site_config",
    "static_config",
    "wait_for_ping",
    "wait_for_routers",
]

# The operator's own dynamic file, beside the rendered ones in the provider directory.
DYNAMIC_FILE = "site.yml"
UPSTREAM_SERVICE = "upstream"
AUTH_MIDDLEWARE = "auth"
# basicAuth's one user, "corsgen" with the SHA-1 of a password no test sends (the entry
# the nginx and Apache edges' htpasswd files hold).
AUTH_USER = "corsgen:{SHA}kIrBUuVLtOwxzB19Wxhtp6QvlWg="


@dataclass(frozen=True)
class SiteRouter:
    """One router of the test site: what corsgen is told with --option, per router."""

    name: str  # --option router-name
    rule: str
    service: str
    middlewares: tuple[str, ...] = ()


SITE_ROUTERS = (
    SiteRouter("proxy", "PathPrefix(`/`)", UPSTREAM_SERVICE),
    SiteRouter("static", "PathPrefix(`/static/`)", "noop@internal"),
    SiteRouter("auth", "PathPrefix(`/auth/`)", UPSTREAM_SERVICE, (AUTH_MIDDLEWARE,)),
)


# examples/traefik: the two renderings its README runs, each into dynamic/FOLDER/.
EXAMPLE_ROUTERS = {
    "api": SiteRouter("predict-api", "PathPrefix(`/`)", "predict-api"),
    "admin": SiteRouter("predict-admin", "PathPrefix(`/admin/`)", "predict-api", ("admin-auth",)),
}


def render_options(router: SiteRouter, entry_point: str = "web") -> dict[str, tuple[str, ...]]:
    """The ``--option NAME=VALUE`` of ``corsgen render --target traefik`` for ``router``."""
    options: dict[str, tuple[str, ...]] = {
        "router-name": (router.name,),
        "rule": (router.rule,),
        "service": (router.service,),
        "entrypoint": (entry_point,),
    }
    if router.middlewares:
        options["middleware"] = router.middlewares
    return options


def static_config(
    *,
    port: int,
    api_port: int,
    provider_dir: Path | str,
    log_level: str = "ERROR",
    more_entry_points: Mapping[str, int] | None = None,
    access_log: str | None = None,
) -> str:
    """traefik.yml: entry point ``web`` on 127.0.0.1 (and ``more_entry_points``), the API
    and ping on another (read by the harness to wait for readiness and to list
    configuration errors), the file provider watching ``provider_dir`` and applying a
    change at once; the access log to ``access_log`` when given."""
    entry_points = {"web": port, **(more_entry_points or {})}
    listed = "".join(
        f'  {name}:\n    address: "127.0.0.1:{number}"\n' for name, number in entry_points.items()
    )
    # addInternals: the edge's own answers (noop@internal: preflights, 403s) are logged too.
    log = f'accessLog:\n  filePath: "{access_log}"\n  addInternals: true\n' if access_log else ""
    return f"""# corsgen test edge: Traefik's static configuration
entryPoints:
{listed}  traefik:
    address: "127.0.0.1:{api_port}"
api:
  insecure: true
ping:
  entryPoint: traefik
providers:
  providersThrottleDuration: 0s
  file:
    directory: "{provider_dir}"
    watch: true
log:
  level: {log_level}
{log}"""


def site_config(
    *,
    upstream_port: int | None,
    generation: str,
    generation_header: str,
    entry_points: Iterable[str] = ("web",),
    ready_path: str = "/ready",
    auth_users: Iterable[str] = (AUTH_USER,),
    more_services: Mapping[str, int] | None = None,
) -> str:
    """The operator's own dynamic file: the upstream service (and ``more_services``, name
    -> port on 127.0.0.1), basicAuth, and ``ready_path``, which answers (Traefik's own 418)
    with ``generation`` in ``generation_header`` so the harness knows when Traefik has
    applied the files written with it."""
    services = {UPSTREAM_SERVICE: upstream_port, **(more_services or {})}
    listed = "".join(
        f"    {name}:\n      loadBalancer:\n"
        + (
            f'        servers:\n          - url: "http://127.0.0.1:{port}"\n'
            if port is not None
            else "        servers: []\n"
        )
        for name, port in services.items()
    )
    users = "".join(f'          - "{user}"\n' for user in auth_users)
    return f"""# corsgen test edge: the operator's dynamic configuration
http:
  routers:
    ready:
      entryPoints: [{", ".join(entry_points)}]
      rule: "Path(`{ready_path}`)"
      priority: 1000000
      service: noop@internal
      middlewares: [generation]
  services:
{listed}  middlewares:
    generation:
      headers:
        customResponseHeaders:
          {generation_header}: "{generation}"
    {AUTH_MIDDLEWARE}:
      basicAuth:
        realm: corsgen test
        users:
{users}"""


def api_items(api_port: int, kind: str) -> list[dict[str, Any]]:
    """What Traefik's API lists of ``kind`` (routers, middlewares, services) for HTTP."""
    url = f"http://127.0.0.1:{api_port}/api/http/{kind}?per_page=10000"
    with urllib.request.urlopen(url, timeout=5) as response:
        items: list[dict[str, Any]] = json.load(response)
    return items


def api_problems(api_port: int) -> list[str]:
    """Every router, middleware and service Traefik's API reports as not enabled, with
    its error: Traefik has no config test, a broken file is only seen here (or in its log)."""
    return [
        f"{kind} {item['name']}: {item.get('error')}"
        for kind in ("routers", "middlewares", "services")
        for item in api_items(api_port, kind)
        if item.get("status") != "enabled" or item.get("error")
    ]


def wait_for_routers(api_port: int, names: Iterable[str], timeout: float) -> list[str]:
    """Wait until the API lists every router of ``names`` (from the file provider); the
    ones still missing when ``timeout`` runs out."""
    wanted = {f"{name}@file" for name in names}
    deadline = time.monotonic() + timeout
    missing = sorted(wanted)
    while time.monotonic() < deadline:
        with contextlib.suppress(urllib.error.URLError, OSError):
            missing = sorted(wanted - {item["name"] for item in api_items(api_port, "routers")})
        if not missing:
            break
        time.sleep(0.05)
    return missing


def wait_for_ping(api_port: int, timeout: float) -> bool:
    """Whether Traefik answers /ping on its API entry point within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/ping", timeout=2) as ok:
                if ok.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    return False
