"""Fixtures for corsgen's integration tests: the predict stub and the edge servers.

Session-scoped: one stub process, one nginx, one Apache and one HAProxy container
for the whole run; tests load policies into them with ``server.load(path)``.

Without a Docker engine (or without the images) the tests that need one are
skipped with one line saying how to enable them; with ``CI=true`` they fail
instead, so CI never passes by silently skipping them.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from edgeharness import availability, containers
from edgeharness.targets import TARGETS
from edgeharness.upstream import Upstream, running_upstream
from integration.edge import ApacheServer, EdgeServer, EnvoyServer, HaproxyServer, NginxServer

if TYPE_CHECKING:
    import docker

ENABLE_HINT = "bash integration/start-dockerd.sh && bash integration/build-images.sh"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs Docker, nginx/Apache/HAProxy containers (integration/)"
    )


DOCKER_FIXTURES = {
    "docker_client",
    "nginx_server",
    "apache_server",
    "haproxy_server",
    "envoy_server",
    "edge_server",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    needs_docker: list[pytest.Item] = []
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)
            if DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
                needs_docker.append(item)
    if not needs_docker:
        return
    reason = containers.missing_images_reason(target.image() for target in TARGETS.values())
    marker = availability.skip_unless_available(reason and _unavailable_message(reason))
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


def _unavailable_message(reason: str) -> str:
    return f"integration tests need {reason}; enable them with: {ENABLE_HINT}"


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true, with one line saying how to fix it."""
    availability.unavailable(_unavailable_message(reason))


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of a Docker engine that answers (skip/fail otherwise)."""
    client, reason = containers.connect()
    if client is None:
        unavailable(reason or "a Docker engine")
    containers.remove_orphans(client)
    yield client
    client.close()


@pytest.fixture(scope="session")
def predict_stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    """The FastAPI upstream, on 127.0.0.1 and a free port, for the whole session."""
    yield from running_upstream(tmp_path_factory.mktemp("stub"))


def _edge_server(
    cls: type[EdgeServer],
    docker_client: docker.DockerClient,
    predict_stub: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EdgeServer]:
    image = cls.server.image()
    if not containers.has_image(docker_client, image):
        unavailable(f"the image {image}")
    server = cls(docker_client, image, tmp_path_factory.mktemp(cls.server.name), predict_stub.port)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nginx_server(
    docker_client: docker.DockerClient,
    predict_stub: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EdgeServer]:
    """nginx in a container, no policy loaded; ``nginx_server.load(policy) -> Site``."""
    yield from _edge_server(NginxServer, docker_client, predict_stub, tmp_path_factory)


@pytest.fixture(scope="session")
def apache_server(
    docker_client: docker.DockerClient,
    predict_stub: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EdgeServer]:
    """Apache in a container, no policy loaded; ``apache_server.load(policy) -> Site``."""
    yield from _edge_server(ApacheServer, docker_client, predict_stub, tmp_path_factory)


@pytest.fixture(scope="session")
def haproxy_server(
    docker_client: docker.DockerClient,
    predict_stub: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EdgeServer]:
    """HAProxy in a container, no policy loaded; ``haproxy_server.load(policy) -> Site``."""
    yield from _edge_server(HaproxyServer, docker_client, predict_stub, tmp_path_factory)


@pytest.fixture(scope="session")
def envoy_server(
    docker_client: docker.DockerClient,
    predict_stub: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EdgeServer]:
    """Envoy in a container, no policy loaded; ``envoy_server.load(policy) -> Site``."""
    yield from _edge_server(EnvoyServer, docker_client, predict_stub, tmp_path_factory)


@pytest.fixture(scope="session", params=list(TARGETS))
def edge_server(request: pytest.FixtureRequest) -> EdgeServer:
    """Each server in turn: a test using it runs once for nginx, Apache and HAProxy."""
    server: EdgeServer = request.getfixturevalue(f"{request.param}_server")
    return server


@pytest.fixture
def test_id() -> str:
    """A fresh X-Test-Id for one test."""
    return uuid.uuid4().hex
