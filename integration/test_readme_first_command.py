"""The README's first command works, as written, on a newcomer's plain Debian bookworm.

The image (``integration/images/newcomer``, made by ``build-images.sh``) is a debootstrap
minbase with Debian's ``python3`` and ``sudo`` only, and an unprivileged user with
passwordless sudo: what a fresh cloud VM or a new laptop looks like. No pip, no venv
module, no git. Debian 12 marks its python3 as externally managed (PEP 668), so the
README's command has to bring what it needs itself; an old ``python3 -m pip install .``
fails here (``No module named pip``, or ``externally-managed-environment`` once
``python3-pip`` is installed).

A clean checkout (the files git tracks, as they are in the working tree, with no
``.venv`` or build leftovers) is copied in, and the README's first ```bash block is read
out of README.md and run by bash in the checkout, unchanged. It installs from Debian's
mirror and from PyPI, so the container uses the host's network.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from edgeharness import containers
from integration.conftest import unavailable

pytestmark = pytest.mark.slow

if TYPE_CHECKING:
    import docker

REPO = Path(__file__).resolve().parent.parent
IMAGE = os.environ.get("CORSGEN_NEWCOMER_IMAGE") or "corsgen-test-newcomer:bookworm"
USER_UID = 1000  # the image's "newcomer" (see its Dockerfile)
HOME = "/home/newcomer"
CHECKOUT = f"{HOME}/corsgen"
# apt-get update and install python3-venv, then pip: about 10 s with a near mirror and
# PyPI; the bound is for a slow mirror, never a hang.
RUN_TIMEOUT = 600
HOST_CA_IN_CONTAINER = "/etc/corsgen-host-pip-ca.pem"
# Forwarded when set: a machine that reaches PyPI only through a proxy.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


def readme_first_command() -> str:
    """The first ```bash block of README.md, the newcomer's first command."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```bash\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL)
    assert blocks, "README.md has no ```bash block"
    return blocks[0]


def tracked_files_archive() -> bytes:
    """A tar of the files git tracks, owned by the newcomer, under ``corsgen/``."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:

        def owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
            info.uid = info.gid = USER_UID
            info.uname = info.gname = "newcomer"
            return info

        top = tarfile.TarInfo("corsgen")
        top.type, top.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(owned(top))
        for name in sorted(set(listed.stdout.decode().split("\0")) - {""}):
            path = REPO / name
            if path.is_file() or path.is_symlink():  # a file deleted but not yet committed
                archive.add(path, arcname=f"corsgen/{name}", recursive=False, filter=owned)
    return buffer.getvalue()


def host_pip_cert() -> Path | None:
    """The CA bundle pip on this host is told to trust (PIP_CERT or pip's config), if any.

    Some CI machines reach PyPI through a TLS-inspecting egress proxy whose CA only the
    host's bundle holds; Debian's ca-certificates in the container rightly do not trust
    it. Pip in the container gets the same bundle the host's pip uses, and nothing else
    of the host's pip configuration (its local indexes would make the test lie). On a
    machine without such a setting nothing is passed, as on a newcomer's.
    """
    value = os.environ.get("PIP_CERT", "")
    if not value:
        found = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.cert"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        value = found.stdout.strip() if found.returncode == 0 else ""
    return Path(value) if value and Path(value).is_file() else None


def test_the_readmes_one_line_is_one_line() -> None:
    # A newcomer copies one line; a second line pasted after a failed first runs anyway.
    lines = readme_first_command().strip().splitlines()
    assert len(lines) == 1, f"README's first command should be one line, not {lines}"


def test_the_readmes_first_command_works_on_a_plain_debian_bookworm(
    docker_client: docker.DockerClient,
) -> None:
    if not containers.has_image(docker_client, IMAGE):
        unavailable(f"the image {IMAGE}")
    command = readme_first_command()
    environment = {key: os.environ[key] for key in PROXY_VARIABLES if os.environ.get(key)}
    volumes: dict[str, dict[str, str]] = {}
    cert = host_pip_cert()
    if cert is not None:
        volumes[str(cert)] = {"bind": HOST_CA_IN_CONTAINER, "mode": "ro"}
        environment["PIP_CERT"] = HOST_CA_IN_CONTAINER
    container = docker_client.containers.create(
        IMAGE,
        ["bash", "-c", command],
        working_dir=CHECKOUT,
        environment=environment,
        volumes=volumes,
        # The bridge network is disabled on these machines (see start-dockerd.sh); the
        # command needs the Debian mirror and PyPI.
        network_mode="host",
        labels={containers.CONTAINER_LABEL: "newcomer", containers.OWNER_LABEL: str(os.getpid())},
        name=f"corsgen-it-newcomer-{os.getpid()}-{uuid.uuid4().hex[:8]}",
    )
    try:
        assert container.put_archive(HOME, tracked_files_archive())
        container.start()
        status = container.wait(timeout=RUN_TIMEOUT)
        stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
        report = f"$ {command}\n{containers.container_output(container, tail=80)}"
        assert status["StatusCode"] == 0, report
        # The nginx snippets of examples/predict-api.yaml, each introduced by its file name.
        assert "# ===== predict-api.http.conf: include inside http" in stdout, report
        assert "# ===== predict-api.location.conf: include inside" in stdout, report
        assert "# Generated by corsgen" in stdout, report
        assert "add_header Access-Control-Allow-Origin $corsgen_predict_api" in stdout, report
    finally:
        containers.remove_container(container)
