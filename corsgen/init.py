"""What ``corsgen init`` writes: a commented starter policy, and its name.

The translation from FastAPI is :mod:`corsgen.from_fastapi`; the command is
:mod:`corsgen.commands.init`. Whatever is written has been validated first, exactly as
``corsgen render`` will read it (:func:`load_policy_text`).
"""

from __future__ import annotations

import re
from pathlib import Path

from corsgen.load import load_text
from corsgen.policy import NAME_PATTERN, Policy, policy_from_document

FALLBACK_NAME = "api"

_NAME_CHARACTERS = re.compile(r"[^a-z0-9_-]+")


def default_name(path: Path) -> str:
    """A valid policy name from a file name: ``My API.yaml`` → ``my-api``."""
    name = _NAME_CHARACTERS.sub("-", path.stem.lower())
    name = name.lstrip("0123456789_-")[:63].rstrip("-_")
    return name or FALLBACK_NAME


def check_name(name: str) -> str | None:
    """Why ``name`` is not a valid policy name, or None when it is."""
    if NAME_PATTERN.match(name):
        return None
    return (
        f"{name!r} is not a valid policy name: a lower-case letter followed by up to 62 "
        "of a-z 0-9 _ -"
    )


STARTER = """\
# CORS policy for corsgen (policy file version 1). Every key, default and rule:
# docs/policy.md in the corsgen sources. Render it with:
#   corsgen render {filename} --target nginx --out-dir cors/    (or --target apache)
# and keep the snippets current in CI with:
#   corsgen check {filename} --target nginx --out-dir cors/
version: 1
name: {name}

# The pages allowed to call this API, as the browser sends them in Origin:
# scheme://host[:port], no path. Other forms:
#   - https://*.example.org     any subdomain of example.org (not example.org itself)
#   - http://127.0.0.1:*        any port, or none
#   - capacitor://localhost     app webviews and browser extensions
#   - "*"                       alone: any origin (never with allow_credentials: true)
origins:
  - https://app.example.com
  - http://localhost:3000

# Regular expressions, each matched against the whole Origin (escape the dots):
# origin_regex:
#   - '^https://pr-[0-9]+\\.preview\\.example\\.com$'

# true when pages send cookies or HTTP authentication (fetch credentials: "include").
allow_credentials: false

# The methods a preflight may ask for; "*" = DELETE GET HEAD OPTIONS PATCH POST PUT.
allow_methods: [GET, HEAD, POST]

# The request headers a page may set, e.g. [Authorization, Content-Type];
# "*" allows whatever the preflight asks for. Content-Type: a fetch() that sends
# JSON sets it, and its preflight fails without it.
allow_headers: [Content-Type]

# The response headers a page may read besides the always-readable ones,
# e.g. [X-Request-Id].
expose_headers: []

# Seconds (0 to 86400) a browser may reuse a preflight answer; browsers cap it
# (Chromium 7200, Firefox 86400, Safari 600).
max_age: 600

# Legacy: true answers Private Network Access preflights of older Chrome (a public
# page calling this API on a private address). Chrome 142+ uses Local Network Access
# instead: a secure (https) page and the user's permission, no preflight.
allow_private_network: false

# true answers requests from origins that are not allowed with 403 at the edge;
# false passes them on, without CORS headers.
block_disallowed_origins: false
"""


def yaml_name(name: str) -> str:
    """A valid policy name as a YAML scalar: ``null``, ``true`` and ``false`` need quotes."""
    return f'"{name}"' if name in ("null", "true", "false") else name


def starter_policy(name: str, filename: str) -> str:
    """The text of the commented starter policy."""
    # The file name only appears in comments; one that would end a comment is not shown.
    if not filename.isprintable():
        filename = "POLICY"
    return STARTER.format(name=yaml_name(name), filename=filename)


def load_policy_text(text: str, path: Path) -> Policy:
    """Validate a policy's text exactly as ``corsgen render`` will read it from ``path``."""
    return policy_from_document(load_text(text, path))


__all__ = [
    "check_name",
    "default_name",
    "load_policy_text",
    "starter_policy",
    "yaml_name",
]
