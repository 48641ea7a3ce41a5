"""HAProxy to the harness: a config with a corsgen fragment (its :data:`HAPROXY` entry is in
:mod:`edgeharness.targets`).

HAProxy has no include: the fragment a policy renders (``NAME.haproxy.cfg``) is pasted
into a frontend, and its map files are found through ``CORSGEN_MAP_DIR``, as
docs/haproxy.md tells operators. :func:`frontend_config` does exactly that, so every test
loads the files the way an operator would.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edgeharness.targets import HAPROXY

__all__ = ["HAPROXY", "MAP_DIR_VARIABLE", "frontend_config", "pasted"]

MAP_DIR_VARIABLE = "CORSGEN_MAP_DIR"


def pasted(fragment: str, indent: str = "    ") -> str:
    """The fragment as an operator pastes it into a section: every line indented."""
    return "".join(indent + line if line.strip() else line for line in fragment.splitlines(True))


def frontend_config(
    fragments: Sequence[str],
    *,
    map_dir: Path,
    port: int,
    upstream_port: int | None = None,
    auth_path: str = "/private/",
    static_path: str = "/static/",
    static_body: str = "static",
) -> str:
    """A whole HAProxy config: the fragments pasted into one frontend as documented.

    Requests under ``auth_path`` need basic auth (``http-request auth``, after the
    fragments); under ``static_path`` HAProxy answers itself (``http-request return``), as
    a server of local content; everything else goes to the upstream on ``upstream_port``
    (no server: HAProxy's own 503).
    """
    server = f"    server upstream 127.0.0.1:{upstream_port}\n" if upstream_port is not None else ""
    body = "".join(pasted(fragment) for fragment in fragments)
    return (
        "global\n"
        f"    setenv {MAP_DIR_VARIABLE} {map_dir}\n"
        "defaults\n"
        "    mode http\n"
        "    timeout connect 5s\n"
        "    timeout client 30s\n"
        "    timeout server 30s\n"
        "userlist corsgen_test_users\n"
        "    user alice insecure-password wonderland\n"
        "frontend api\n"
        f"    bind 127.0.0.1:{port}\n"
        f"{body}"
        f"    http-request auth realm api if {{ path_beg {auth_path} }}"
        " !{ http_auth(corsgen_test_users) }\n"
        f'    http-request return status 200 content-type text/plain string "{static_body}"'
        f" if {{ path_beg {static_path} }}\n"
        "    default_backend upstream\n"
        "backend upstream\n"
        f"{server}"
    )
