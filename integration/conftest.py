"""Fixtures for corsgen's integration tests: the predict stub and the edge servers.

Session-scoped: one stub process, one nginx container, one Apache container
for the whole run; tests load policies into them with ``server.load(path)``.

Without a Docker engine (or without the images) the tests that need one are
skipped with one line saying how to enable them; with ``CI=true`` they fail
instead, so CI never passes by silently skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from integration.edge import CONTAINER_LABEL, OWNER_LABEL, ApacheServer, EdgeServer, NginxServer
from integration.stub import PredictStub

if TYPE_CHECKING:
    import docker

ENABLE_HINT = "bash integration/start-dockerd.sh && bash integration/build-images.sh"
DEFAULT_IMAGES = {
    "nginx": ("CORSGEN_NGINX_IMAGE", "corsgen-test-nginx:bookworm"),
    "apache": ("CORSGEN_APACHE_IMAGE", "corsgen-test-apache:bookworm"),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs Docker, nginx/Apache containers (integration/)"
    )


DOCKER_FIXTURES = {"docker_client", "nginx_server", "apache_server", "edge_server"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    needs_docker: list[pytest.Item] = []
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)
            if DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
                needs_docker.append(item)
    if not needs_docker or _in_ci():
        return  # under CI the fixtures fail instead (see _unavailable)
    reason = docker_unavailable_reason()
    if reason is not None:
        # A skip marker (rather than pytest.skip in a fixture) makes `-ra`
        # fold the skips into one line per file.
        marker = pytest.mark.skip(reason=_unavailable_message(reason))
        for item in needs_docker:
            item.add_marker(marker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add server logs to the report of a failed test.

    A fixture value with a ``failure_report()`` method (test_example.py's edge
    servers) adds a section, so a failed assertion about a response also shows
    what the server logged while answering it.
    """
    report = yield
    if report.when == "call" and report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            failure_report = getattr(value, "failure_report", None)
            if callable(failure_report):
                report.sections.append((f"{name}: server logs", failure_report()))
    return report


def image_name(target: str) -> str:
    env, default = DEFAULT_IMAGES[target]
    return os.environ.get(env) or default


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _unavailable_message(reason: str) -> str:
    return f"integration tests need {reason}; enable them with: {ENABLE_HINT}"


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true, with one line saying how to fix it."""
    if _in_ci():
        pytest.fail(_unavailable_message(reason), pytrace=False)
    pytest.skip(_unavailable_message(reason))


def _connect() -> tuple[docker.DockerClient | None, str | None]:
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


def docker_unavailable_reason() -> str | None:
    """Why the Docker-based tests cannot run here, or None when they can."""
    client, reason = _connect()
    if client is None:
        return reason
    try:
        missing = [image_name(t) for t in DEFAULT_IMAGES if not _has_image(client, image_name(t))]
    finally:
        client.close()
    return f"the image(s) {', '.join(missing)}" if missing else None


def _has_image(client: docker.DockerClient, image: str) -> bool:
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


def _remove_orphans(client: docker.DockerClient) -> None:
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


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of a Docker engine that answers (skip/fail otherwise)."""
    client, reason = _connect()
    if client is None:
        _unavailable(reason or "a Docker engine")
    _remove_orphans(client)
    yield client
    client.close()


@pytest.fixture(scope="session")
def predict_stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PredictStub]:
    """The FastAPI upstream, on 127.0.0.1 and a free port, for the whole session."""
    stub = PredictStub(tmp_path_factory.mktemp("stub") / "uvicorn.log")
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


def _edge_server(
    cls: type[EdgeServer],
    docker_client: docker.DockerClient,
    predict_stub: PredictStub,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EdgeServer]:
    image = image_name(cls.target)
    if not _has_image(docker_client, image):
        _unavailable(f"the image {image}")
    server = cls(docker_client, image, tmp_path_factory.mktemp(cls.target), predict_stub.port)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nginx_server(
    docker_client: docker.DockerClient,
    predict_stub: PredictStub,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EdgeServer]:
    """nginx in a container, no policy loaded; ``nginx_server.load(policy) -> Site``."""
    yield from _edge_server(NginxServer, docker_client, predict_stub, tmp_path_factory)


@pytest.fixture(scope="session")
def apache_server(
    docker_client: docker.DockerClient,
    predict_stub: PredictStub,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EdgeServer]:
    """Apache in a container, no policy loaded; ``apache_server.load(policy) -> Site``."""
    yield from _edge_server(ApacheServer, docker_client, predict_stub, tmp_path_factory)


@pytest.fixture(scope="session", params=["nginx", "apache"])
def edge_server(request: pytest.FixtureRequest) -> EdgeServer:
    """Each server in turn: a test using it runs once for nginx and once for Apache."""
    server: EdgeServer = request.getfixturevalue(f"{request.param}_server")
    return server


@pytest.fixture
def test_id() -> str:
    """A fresh X-Test-Id for one test."""
    return uuid.uuid4().hex
