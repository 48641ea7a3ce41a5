"""`haproxy -c` accepts every golden HAProxy output and the example, placed as documented.

docs/haproxy.md: the fragment is pasted into a frontend before `http-request auth`, the map
files sit in the directory CORSGEN_MAP_DIR names. Real HAProxy (Debian bookworm's 2.6).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from corsgen.policy import load_policy
from corsgen.render import render
from corsgen.targets import get_target
from edgeharness.availability import require_installed
from edgeharness.haproxy import HAPROXY, MAP_DIR_VARIABLE, frontend_config, pasted
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden"
FRAGMENT = get_target("haproxy").files[0]
GOLDEN_FRAGMENTS = sorted(GOLDEN.glob("*/" + FRAGMENT.pattern.replace("{name}", "*")))
EXAMPLE = REPO / "examples" / "haproxy" / "predict-api.cfg"


def haproxy_check(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        HAPROXY.test_command(str(config)), capture_output=True, text=True, timeout=60, env=env
    )


def test_every_golden_policy_has_a_haproxy_fragment():
    assert len(GOLDEN_FRAGMENTS) == len(list(GOLDEN.iterdir()))


@pytest.mark.parametrize("fragment", GOLDEN_FRAGMENTS, ids=lambda path: path.parent.name)
def test_haproxy_accepts_the_golden_fragment_pasted_into_a_frontend(fragment: Path, tmp_path):
    require_installed(HAPROXY)
    config = tmp_path / "haproxy.cfg"
    # The golden folder holds the map files beside the fragment: it is CORSGEN_MAP_DIR.
    config.write_text(
        frontend_config(
            [fragment.read_text()], map_dir=fragment.parent, port=8080, upstream_port=8000
        )
    )
    result = haproxy_check(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_haproxy_refuses_the_fragment_when_the_map_directory_is_not_set(tmp_path):
    require_installed(HAPROXY)
    fragment = (GOLDEN / "predict-api" / "predict-api.haproxy.cfg").read_text()
    config = tmp_path / "haproxy.cfg"
    text = frontend_config([fragment], map_dir=tmp_path, port=8080, upstream_port=8000)
    config.write_text(text.replace(f"    setenv {MAP_DIR_VARIABLE} {tmp_path}\n", ""))
    result = haproxy_check(config, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert result.returncode != 0
    assert "/predict-api.origins.map" in result.stdout + result.stderr


def test_the_example_pastes_the_current_fragment_and_passes_haproxy_c(tmp_path):
    require_installed(HAPROXY)
    files = render(load_policy(REPO / "examples" / "predict-api.yaml"), "haproxy").files
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    example = EXAMPLE.read_text()
    assert pasted(files["predict-api.haproxy.cfg"]) in example, (
        "examples/haproxy/predict-api.cfg does not hold the fragment corsgen renders now"
    )
    result = haproxy_check(
        EXAMPLE, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", MAP_DIR_VARIABLE: str(tmp_path)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
