"""Run a FastAPI app as a uvicorn subprocess on 127.0.0.1: the predict stub
(predict_stub/app.py), or the example app (examples/predict_app/main.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx

from edgeharness.net import free_port
from edgeharness.process import LocalProcess
from integration.http_client import ssl_context

STUB_DIR = Path(__file__).resolve().parent / "predict_stub"
START_TIMEOUT = 20.0
# A free port can be taken by someone else between our check and uvicorn's
# bind; try a few ports before giving up.
START_ATTEMPTS = 3


class StubError(RuntimeError):
    pass


class UvicornApp:
    """A FastAPI app served by uvicorn on 127.0.0.1 and a free port.

    ``app`` is uvicorn's ``module:attribute``, imported from ``app_dir``; the app
    must answer ``GET /health`` with 200 once it can serve.
    """

    label = "app"  # for error messages

    def __init__(self, log_path: Path, app_dir: Path, app: str) -> None:
        self.log_path = log_path
        self.app_dir = app_dir
        self.app = app
        self.port = 0
        self._process: LocalProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            self._process = LocalProcess(self.label, self._command(), self.log_path)
            self._process.start()
            if self._process.wait_until(self._healthy, START_TIMEOUT):
                return
            self.stop()  # e.g. the port was taken meanwhile
        raise StubError(f"{self.label} did not start; log:\n{self.log_tail()}")

    def _command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn",
            "--app-dir", str(self.app_dir), self.app,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip

    def _healthy(self) -> bool:
        try:
            response = httpx.get(
                f"{self.url}/health", timeout=1.0, trust_env=False, verify=ssl_context()
            )
        except httpx.TransportError:
            return False
        return response.status_code == 200

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.stop()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


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
