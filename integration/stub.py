"""Run a FastAPI app as a uvicorn subprocess on 127.0.0.1: the predict stub
(predict_stub/app.py), or the example app (examples/predict_app/main.py)."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from integration.http_client import ssl_context
from integration.netutil import free_port

STUB_DIR = Path(__file__).resolve().parent / "predict_stub"
START_TIMEOUT = 20.0
# A free port can be taken by someone else between our check and uvicorn's
# bind; try a few ports before giving up.
START_ATTEMPTS = 3


def _die_with_parent() -> None:
    """In the child: get SIGTERM when pytest dies, even by SIGKILL (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: teardown still stops the stub in the normal case


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
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            if self._start_once():
                return
        raise StubError(f"{self.label} did not start; log:\n{self.log_tail()}")

    def _start_once(self) -> bool:
        cmd = [
            sys.executable, "-m", "uvicorn",
            "--app-dir", str(self.app_dir), self.app,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False  # e.g. the port was taken meanwhile
            try:
                if (
                    httpx.get(
                        f"{self.url}/health", timeout=1.0, trust_env=False, verify=ssl_context()
                    ).status_code
                    == 200
                ):
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

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
