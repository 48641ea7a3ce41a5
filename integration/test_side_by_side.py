"""Policies whose names once shared identifiers, loaded together into one server.

Spec section 4, "Policy names side by side". `shop` and `shop-options` both defined
`$corsgen_shop_options_action`; `a-b` and `a_b` every nginx variable. All of them are
rendered here by `corsgen render` and brought live in one nginx (one `http { }`, where the
maps of every policy meet) and one Apache, each site allowing an origin of its own.
tests/test_side_by_side.py has them in locations of one nginx server, one nested.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from integration.cors_matrix import ACAO, assert_header, assert_status
from integration.edge import EdgeServer

pytestmark = pytest.mark.slow

NAMES = ("shop", "shop-options", "a-b", "a_b")
ORIGINS = {name: f"https://site{index}.example.com" for index, name in enumerate(NAMES)}


def write_policies(folder: Path) -> list[Path]:
    paths = []
    for name in NAMES:
        path = folder / f"{name}.yaml"
        path.write_text(f"version: 1\norigins: ['{ORIGINS[name]}']\nallow_credentials: true\n")
        paths.append(path)
    return paths


def test_each_policy_answers_its_own_origin_only(
    edge_server: EdgeServer, tmp_path: Path, test_id: str
) -> None:
    sites = edge_server.load_many(write_policies(tmp_path))
    try:
        for site in sites:
            for owner, origin in ORIGINS.items():
                pre = site.preflight("/predict", origin, "POST", test_id=f"{test_id}-{owner}")
                if owner == site.name:
                    assert_status(pre, 204)
                    assert_header(pre, ACAO, origin)
                else:
                    assert_status(pre, 403)
                    assert_header(pre, ACAO, None)
    finally:
        edge_server.unload(*NAMES)
