"""Fixtures for corsgen's integration tests: the predict stub and the edge servers.

Session-scoped: one stub process and one container per edge server (nginx, Apache,
HAProxy, Caddy, Traefik, ...: integration.edge.EDGE_SERVERS) for the whole run; tests load
policies into them with ``server.load(path)``.

Without a Docker engine (or without the images) the tests that need one are
skipped with one line saying how to enable them; with ``CI=true`` they fail
instead, so CI never passes by silently skipping them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from edgeharness import availability, containers
from edgeharness.targets import TARGETS
from edgeharness.upstream import Upstream, running_upstream
from integration.edge import EDGE_SERVERS, EdgeServer

if TYPE_CHECKING:
    import docker

ENABLE_HINT = "bash integration/start-dockerd.sh && bash integration/build-images.sh"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs Docker and the edge servers' containers (integration/)"
    )


DOCKER_FIXTURES = {"docker_client", "edge_server", *(f"{name}_server" for name in EDGE_SERVERS)}


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


def _server_fixture(cls: type[EdgeServer]) -> Callable[..., Iterator[EdgeServer]]:
    name = cls.server.name

    def server(
        docker_client: docker.DockerClient,
        predict_stub: Upstream,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Iterator[EdgeServer]:
        yield from _edge_server(cls, docker_client, predict_stub, tmp_path_factory)

    server.__doc__ = (
        f"{cls.server.program} in a container, no policy loaded; "
        f"``{name}_server.load(policy) -> Site``."
    )
    return pytest.fixture(scope="session", name=f"{name}_server")(server)


# The session fixtures nginx_server, apache_server, ...: one per entry of EDGE_SERVERS.
for _cls in EDGE_SERVERS.values():
    globals()[f"_{_cls.server.name}_server"] = _server_fixture(_cls)


@pytest.fixture(scope="session", params=list(TARGETS))
def edge_server(request: pytest.FixtureRequest) -> EdgeServer:
    """Each server in turn: a test using it runs once per target of edgeharness.targets."""
    server: EdgeServer = request.getfixturevalue(f"{request.param}_server")
    return server


@pytest.fixture
def test_id() -> str:
    """A fresh X-Test-Id for one test."""
    return uuid.uuid4().hex
