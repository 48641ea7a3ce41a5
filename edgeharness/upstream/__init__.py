"""The one upstream every edge proxies to (``app.py``), and a client of its request log.

tests/ and integration/ both start it (a uvicorn process on 127.0.0.1); a request that
carries ``X-Test-Id: ID`` and gets past the edge is in :meth:`Upstream.requests` ``(ID)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from edgeharness.apps import UvicornApp

APP_DIR = Path(__file__).resolve().parent
TEST_ID_HEADER = "X-Test-Id"


class Upstream(UvicornApp):
    """The upstream process; ``reached(test_id)`` says whether a request got to it."""

    label = "upstream stub"

    def __init__(self, log_path: Path) -> None:
        super().__init__(log_path, APP_DIR, "app:app")
        # One kept-alive client: the differential tests ask after every request they send.
        self._client = httpx.Client(trust_env=False, timeout=5.0)

    def requests(self, test_id: str | None = None) -> list[dict[str, Any]]:
        """Requests that reached the stub (all of them when test_id is None)."""
        params = {"test_id": test_id} if test_id is not None else {}
        response = self._client.get(f"{self.url}/__requests", params=params)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def reached(self, test_id: str) -> bool:
        return bool(self.requests(test_id))

    def clear(self) -> None:
        self._client.delete(f"{self.url}/__requests").raise_for_status()

    def stop(self) -> None:
        super().stop()
        self._client.close()


def running_upstream(log_dir: Path) -> Iterator[Upstream]:
    """The upstream started, for a session fixture to yield; stopped (by pid) after."""
    upstream = Upstream(log_dir / "uvicorn.log")
    upstream.start()
    try:
        yield upstream
    finally:
        upstream.stop()
