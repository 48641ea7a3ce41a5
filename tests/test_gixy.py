"""gixy-next, the nginx security scanner infra teams run in CI, finds nothing in corsgen's files.

Every golden nginx output is placed as docs/nginx.md documents it (the http part inside
http { }, the location part in a proxied and in a file-serving location: the same
config as tests/test_server_config.py) and scanned with its includes followed. A team
that adopts corsgen must not get red CI for a reason that is not theirs (issue 17).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.test_render import GOLDEN
from tests.test_server_config import nginx_config

GOLDEN_NGINX_HTTP_PARTS = sorted(GOLDEN.glob("*/*.http.conf"))
HTTP_SUFFIX = ".http.conf"


def gixy_findings(config: Path) -> list[dict]:
    """gixy-next's findings on ``config`` and every file it includes, as JSON objects.

    Its exit status is 1 whenever it finds anything, so the JSON report decides.
    """
    result = subprocess.run(
        [sys.executable, "-m", "gixy", "--format", "json", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def place_golden_files(workdir: Path) -> list[str]:
    """Copy every golden nginx output into ``workdir`` and include all of them as documented."""
    names = []
    for http_part in GOLDEN_NGINX_HTTP_PARTS:
        name = http_part.name.removesuffix(HTTP_SUFFIX)
        location_part = http_part.with_name(f"{name}.location.conf")
        (workdir / http_part.name).write_text(http_part.read_text())
        (workdir / location_part.name).write_text(location_part.read_text())
        names.append(name)
    (workdir / "nginx.conf").write_text(nginx_config(workdir, names))
    return names


def test_every_golden_nginx_output_is_included_in_the_scan():
    # Guards the test below against an empty glob: one golden folder per golden policy.
    assert len(GOLDEN_NGINX_HTTP_PARTS) >= 6
    for http_part in GOLDEN_NGINX_HTTP_PARTS:
        name = http_part.name.removesuffix(HTTP_SUFFIX)
        assert http_part.with_name(f"{name}.location.conf").exists()


def test_gixy_finds_nothing_in_the_golden_nginx_files(tmp_path):
    names = place_golden_files(tmp_path)
    corsgen_files = {
        str(tmp_path / f"{name}{suffix}")
        for name in names
        for suffix in (HTTP_SUFFIX, ".location.conf")
    }
    findings = gixy_findings(tmp_path / "nginx.conf")
    in_corsgen_files = [finding for finding in findings if finding["file"] in corsgen_files]
    assert in_corsgen_files == [], json.dumps(in_corsgen_files, indent=2)
    # What remains is about the test's own nginx.conf (server_tokens, say), not corsgen's.
    assert {finding["file"] for finding in findings} <= {str(tmp_path / "nginx.conf")}


def test_gixy_reads_the_included_location_part(tmp_path):
    # Guards the test above: a location part with "set" inside "if", as corsgen wrote it
    # before issue 17, is found in that very file, so the scan does follow the includes.
    names = place_golden_files(tmp_path)
    location_part = tmp_path / f"{names[0]}.location.conf"
    location_part.write_text(
        'if ($http_origin = "https://app.example.com") {\n'
        '    set $cors_methods "GET, POST";\n'
        "    return 204;\n"
        "}\n" + location_part.read_text()
    )
    findings = gixy_findings(tmp_path / "nginx.conf")
    assert {
        (finding["plugin"], finding["file"])
        for finding in findings
        if finding["file"] == str(location_part)
    } == {("if_is_evil", str(location_part))}
