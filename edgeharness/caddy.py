"""Caddy to the harness: a Caddyfile whose sites import corsgen snippets (its
:data:`CADDY` entry is in :mod:`edgeharness.targets`).

docs/caddy.md tells operators to ``import`` ``NAME.caddy`` at the top of the block that
serves the API and, where it authenticates, to put ``basic_auth`` and the handlers in a
``route`` after the import (Caddy sorts ``basic_auth`` before ``route`` and ``respond``).
:func:`site_block` writes exactly that, and :func:`caddyfile` the whole file around the
sites, so tests/, integration/ and bench/ load the snippet the way an operator does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edgeharness.targets import CADDY

__all__ = ["CADDY", "SiteRoutes", "caddyfile", "site_block"]

# bcrypt hashes (cost 4: the tests log in often; an operator uses `caddy hash-password`'s
# default) of the passwords the scenarios use: "secret" (integration's alice) and
# "not-used" (tests/' user, whom no request ever logs in as).
PASSWORD_HASHES = {
    "secret": "$2a$04$ekf40abCmo3GIgytdCFceu00ghGb91/rxGH.drTtnQxH1Vjy.ADSS",
    "not-used": "$2a$04$PgKBhCCMDAdCPsDP7npwNOCXC3K9jjpKPbaitBlvQJKW8IGNdcaM2",
}


@dataclass(frozen=True)
class SiteRoutes:
    """What one site serves besides the API: paths and who answers them."""

    auth_path: str = "/private/"  # basic auth, then the upstream
    user: str = "alice"
    password: str = "secret"
    static_path: str = "/static/"  # files under static_root (the spec's local content)
    static_root: str = "/srv"
    # Answered before anything else (the harness's generation marker): Caddyfile lines.
    control: str = ""


def _indented(lines: str, indent: str) -> str:
    return "".join(indent + line if line.strip() else line for line in lines.splitlines(True))


def site_block(port: int, imports: Sequence[str], upstream: str | None, routes: SiteRoutes) -> str:
    """One site on 127.0.0.1:``port``: every ``handle`` that serves the API imports the
    snippets first.

    The address names no host (``http://:port``, bound to 127.0.0.1): Caddy matches a
    site's host against the request's Host, and pages on localhost or app.localhost call
    the same edge.

    ``upstream`` None: ``reverse_proxy`` to a port nobody listens on, so Caddy answers
    its own 502. Authentication sits in a ``route`` after the imports, as docs/caddy.md
    says, so preflights are answered before it.
    """
    proxy = f"reverse_proxy {upstream or '127.0.0.1:9'}\n"
    imported = "".join(f"import {path}\n" for path in imports)
    password_hash = PASSWORD_HASHES[routes.password]
    auth = (
        f"{imported}route {{\n"
        f"\tbasic_auth {{\n\t\t{routes.user} {password_hash}\n\t}}\n"
        f"\t{proxy}"
        "}\n"
    )
    static = f"{imported}root * {routes.static_root}\nfile_server\n"
    handles = (
        f"handle {routes.auth_path}* {{\n{_indented(auth, chr(9))}}}\n"
        f"handle {routes.static_path}* {{\n{_indented(static, chr(9))}}}\n"
        f"handle {{\n{_indented(imported + proxy, chr(9))}}}\n"
    )
    body = "bind 127.0.0.1\n" + routes.control + handles
    return f"http://:{port} {{\n{_indented(body, chr(9))}}}\n"


def caddyfile(sites: Sequence[str], *, storage: str, admin: str = "off", comment: str = "") -> str:
    """The whole Caddyfile: the harness's global options, then ``sites``.

    The global options are the test server's, not corsgen's (the snippets set none):
    no admin endpoint unless a reload needs one, no config autosave, no automatic
    HTTPS (the sites are http:// on 127.0.0.1), and Caddy's data in ``storage`` (not the
    home directory of whoever runs the tests).
    """
    header = f"# {comment}\n" if comment else ""
    return (
        f"{header}{{\n"
        f"\tadmin {admin}\n"
        "\tpersist_config off\n"
        "\tauto_https off\n"
        f"\tstorage file_system {storage}\n"
        "}\n" + "".join(sites)
    )
