"""A server in a Docker container: the host's network, a host folder mounted, our labels.

The ``docker`` package is imported lazily: tests that need no container run without it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

CONTAINER_LABEL = "org.corsgen.integration"  # marks containers this harness made
OWNER_LABEL = "org.corsgen.integration.owner-pid"


def connect() -> tuple[docker.DockerClient | None, str | None]:
    """A client of an engine that answers, or None and why not."""
    try:
        import docker
    except ImportError:
        return None, "the Python package 'docker' (pip install docker)"
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # any failure here means "no engine"
        # The exception text is long and says little more than "nothing there".
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return None, f"a Docker engine answering at {where} ({type(exc).__name__})"
    return client, None


def has_image(client: docker.DockerClient, image: str) -> bool:
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


def missing_images_reason(images: Iterable[str]) -> str | None:
    """Why containers of ``images`` cannot run here, or None when they can."""
    client, reason = connect()
    if client is None:
        return reason
    try:
        missing = [image for image in images if not has_image(client, image)]
    finally:
        client.close()
    return f"the image(s) {', '.join(missing)}" if missing else None


def run_server_container(
    docker_client: docker.DockerClient,
    image: str,
    command: list[str],
    *,
    kind: str,
    mounts: Mapping[Path, str],
    name_suffix: str,
) -> Container:
    """Start a detached server container the way the harness runs every server.

    The host's network (the server inside binds 127.0.0.1 only), host dirs bind-mounted
    (host path -> container path), and the labels :func:`remove_orphans` uses to remove
    the container if this process dies before its teardown.
    """
    return docker_client.containers.run(
        image,
        command=command,
        detach=True,
        network_mode="host",
        volumes={str(host): {"bind": inside, "mode": "rw"} for host, inside in mounts.items()},
        labels={CONTAINER_LABEL: kind, OWNER_LABEL: str(os.getpid())},
        name=f"corsgen-it-{kind}-{os.getpid()}-{name_suffix}",
    )


def remove_container(container: Container) -> None:
    """Remove a container (SIGKILL: nothing in it needs a clean stop); never raise."""
    try:
        container.remove(force=True)
    except Exception as exc:  # teardown must not mask a test failure
        print(f"warning: could not remove container {container.name}: {exc}", file=sys.stderr)


def container_output(container: Container, tail: int = 60) -> str:
    """The container's status and the last lines of its output, for failure messages."""
    try:
        container.reload()
        out = container.logs(tail=tail).decode(errors="replace")
    except Exception as exc:  # best effort while reporting another error
        return f"--- container logs unavailable: {exc}"
    return f"--- container {container.name} ({container.status}) output ---\n{out}"


def remove_orphans(client: docker.DockerClient) -> None:
    """Remove containers left by an earlier run that was killed before its teardown."""
    for container in client.containers.list(all=True, filters={"label": CONTAINER_LABEL}):
        try:
            owner = int(container.labels.get(OWNER_LABEL, "0"))
        except ValueError:
            owner = 0
        alive = owner > 0
        if alive:
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                alive = False
            except PermissionError:
                pass
        if not alive:
            container.remove(force=True)
