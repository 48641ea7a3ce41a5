"""The in-app anchor: the benchmark's policy enforced by Starlette's CORSMiddleware.

uvicorn imports this module (``anchor_app:app``); the policy file comes from the
``CORSGEN_BENCH_POLICY`` environment variable, so the app enforces the very policy the
edges were rendered from. The route serves the same small JSON body as the edges.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response

from corsgen.origins import OriginPattern
from corsgen.policy import load_policy
from corsgen.targets.apache import port_regex, subdomain_regex

PAYLOAD = b'{"ok":true}\n'


def pattern_regex(origin: OriginPattern) -> str:
    """An anchored regex for a ``*.`` or ``:*`` entry, labels as the spec defines them."""
    return (
        f"^{origin.scheme}://{subdomain_regex(origin)}{re.escape(origin.host)}{port_regex(origin)}$"
    )


def build_app(policy_file: Path) -> FastAPI:
    policy = load_policy(policy_file)
    exact = [o.text for o in policy.origins if o.kind in ("exact", "null", "any")]
    regexes = [pattern_regex(o) for o in policy.origins if o.kind == "pattern"]
    regexes += list(policy.origin_regex)
    application = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    application.add_middleware(
        CORSMiddleware,
        allow_origins=exact,
        # Starlette matches with re.fullmatch: one alternation of the anchored patterns.
        allow_origin_regex="|".join(f"(?:{regex})" for regex in regexes) or None,
        allow_credentials=policy.allow_credentials,
        allow_methods=list(policy.allow_methods),
        allow_headers=list(policy.allow_headers),
        expose_headers=list(policy.expose_headers),
        max_age=policy.max_age,
    )

    @application.get("/api/ok.json")
    async def ok() -> Response:
        return Response(PAYLOAD, media_type="application/json")

    return application


app = build_app(Path(os.environ["CORSGEN_BENCH_POLICY"]))
