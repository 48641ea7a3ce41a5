"""What each piece of an Envoy CORS configuration costs, in instructions per request.

docs/performance.md (Envoy) explains the rendering's shape by these figures: every
composite filter costs each request something even when its matcher matches nothing, a
filter-state value read back by the virtual host's headers costs more than a
``header_mutation`` adding the same headers, and a Lua filter costs more doing nothing.
Each piece is a listener of one Envoy, measured as ``bench/instructions.py`` measures the
rendered files (callgrind, counters zeroed after a warm-up, N requests on one keep-alive
connection), against a listener with nothing added:

    python3 bench/envoy_pieces.py [--requests N]

Needs valgrind. Talks to 127.0.0.1 only; a bounded number of requests per piece.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from instructions import measure, missing_valgrind
from run import (
    Bench,
    Case,
    envoy_reference_minimal,
    envoy_reference_static,
    exact_origin,
    exact_policy,
    get,
    plain,
)

from corsgen.targets.common import CORS_RESPONSE_HEADERS

ORIGINS = exact_policy(10).origins
ALLOWED, DISALLOWED = exact_origin(9), exact_origin(10)
COMPOSITE = "type.googleapis.com/envoy.extensions.filters.http.composite.v3"
HEADER_INPUT = "type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput"
OVERWRITE, APPEND = "OVERWRITE_IF_EXISTS_OR_ADD", "APPEND_IF_EXISTS_OR_ADD"
VARY = (("Vary", "Origin", APPEND),)


def part(
    filters: list[Any],
    headers: tuple[tuple[str, str, str], ...] = VARY,
    remove: tuple[str, ...] = (),
) -> str:
    """A file shaped as corsgen renders one: filters, the virtual host's keys, no mappers."""
    host: dict[str, Any] = {
        "response_headers_to_add": [
            {"header": {"key": key, "value": value}, "append_action": action}
            for key, value, action in headers
        ]
    }
    if remove:
        host["response_headers_to_remove"] = list(remove)
    document = {
        "http_filters": filters,
        "virtual_host": host,
        "local_reply_config": {"mappers": []},
    }
    return yaml.safe_dump(document, sort_keys=False, width=1000)


def lookup(action_config: dict[str, Any], origins: tuple[str, ...] = ORIGINS) -> dict[str, Any]:
    """A composite filter whose exact_match_map on the Origin runs ``action_config``."""
    action = {
        "name": "piece.allowed",
        "typed_config": {
            "@type": f"{COMPOSITE}.ExecuteFilterAction",
            "typed_config": {"name": "piece.allowed", "typed_config": action_config},
        },
    }
    return {
        "name": "piece.origin",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher",
            "extension_config": {
                "name": "composite",
                "typed_config": {"@type": f"{COMPOSITE}.Composite"},
            },
            "xds_matcher": {
                "matcher_tree": {
                    "input": {
                        "name": "origin",
                        "typed_config": {"@type": HEADER_INPUT, "header_name": "origin"},
                    },
                    "exact_match_map": {"map": {origin: {"action": action} for origin in origins}},
                }
            },
        },
    }


def filter_state(values: dict[str, str]) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config",
        "on_request_headers": [
            {
                "object_key": key,
                "factory_key": "envoy.string",
                "format_string": {"text_format_source": {"inline_string": value}},
            }
            for key, value in values.items()
        ],
    }


def lua(source: str) -> dict[str, Any]:
    return {
        "name": "piece.lua",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
            "default_source_code": {"inline_string": source},
        },
    }


STATE_VALUES = {
    "piece.origin": "%REQ(origin)%",
    "piece.credentials": "true",
    "piece.expose": "X-Request-Id",
}
STATE_HEADERS = (
    ("Access-Control-Allow-Origin", "%FILTER_STATE(piece.origin:PLAIN)%", OVERWRITE),
    ("Access-Control-Allow-Credentials", "%FILTER_STATE(piece.credentials:PLAIN)%", OVERWRITE),
    ("Access-Control-Expose-Headers", "%FILTER_STATE(piece.expose:PLAIN)%", OVERWRITE),
)

# Each piece: what it is, and the file merged into its listener.
PIECES = {
    "Vary: Origin on the virtual host": part([]),
    "+ the upstream's 7 CORS headers removed": part([], remove=CORS_RESPONSE_HEADERS),
    "+ 3 fixed headers on the virtual host": envoy_reference_static(ALLOWED),
    "composite filter whose matcher matches nothing": part(
        [lookup(filter_state(STATE_VALUES), origins=("https://nobody.example",))]
    ),
    "composite: set_filter_state, read back by 3 headers": part(
        [lookup(filter_state(STATE_VALUES))], (*STATE_HEADERS, *VARY)
    ),
    "composite: header_mutation adding 3 headers": envoy_reference_minimal(ORIGINS),
    "Lua filter that does nothing": part([lua("function envoy_on_request(handle)\nend\n")]),
}


def pieces_bench(root: Path) -> Bench:
    bench = Bench(root)
    port = bench.site("envoy", "envoy-baseline", "")
    label = "nothing added (baseline)"
    baseline = Case("envoy-baseline-main", "envoy", label, "–", get(ALLOWED), plain, port=port)
    bench.baselines[("envoy", "main")] = baseline
    for number, (label, body) in enumerate(PIECES.items()):
        port = bench.site("envoy", f"piece-{number}", body)
        for suffix, origin in (("allowed", ALLOWED), ("denied", DISALLOWED)):
            key = f"envoy-{number}-{suffix}"
            bench.cases.append(Case(key, "envoy", label, "10", get(origin), plain, port=port))
    return bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per case")
    args = parser.parse_args(argv)
    if missing_valgrind():
        return 2
    root = Path(tempfile.mkdtemp(prefix="corsgen-envoy-pieces-"))
    root.chmod(0o755)
    try:
        measure("envoy", pieces_bench(root), root, max(100, min(args.requests, 100_000)))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
