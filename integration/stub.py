"""The predict stub (predict_stub/app.py): the upstream behind every integration edge,
served by edgeharness's uvicorn launcher, and a client of its request log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from edgeharness.apps import UvicornApp
from integration.http_client import ssl_context

STUB_DIR = Path(__file__).resolve().parent / "predict_stub"


class PredictStub(UvicornApp):
    """The upstream every edge server proxies to.

    ``requests(test_id)`` lists what reached it with that ``X-Test-Id``;
    ``reached(test_id)`` says whether anything did.
    """

    label = "predict stub"

    def __init__(self, log_path: Path) -> None:
        super().__init__(log_path, STUB_DIR, "app:app")

    # -- the request log -------------------------------------------------
    def requests(self, test_id: str | None = None) -> list[dict[str, Any]]:
        """Requests that reached the stub (all of them when test_id is None)."""
        params = {"test_id": test_id} if test_id is not None else {}
        response = httpx.get(
            f"{self.url}/__requests",
            params=params,
            timeout=5.0,
            trust_env=False,
            verify=ssl_context(),
        )
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def reached(self, test_id: str) -> bool:
        return bool(self.requests(test_id))

    def clear(self) -> None:
        httpx.delete(
            f"{self.url}/__requests", timeout=5.0, trust_env=False, verify=ssl_context()
        ).raise_for_status()
