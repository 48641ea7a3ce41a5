"""Python web apps served by uvicorn on 127.0.0.1: the integration tests' upstream (the
predict stub), the example's own app, and the benchmark's in-app anchor."""

from __future__ import annotations

import sys
from pathlib import Path

from edgeharness.net import answers_ok, free_port
from edgeharness.process import LocalProcess

START_TIMEOUT = 20.0
# A free port can be taken by someone else between our check and uvicorn's bind; try a
# few ports before giving up.
START_ATTEMPTS = 3


def uvicorn_command(app_dir: Path, app: str, port: int, *extra: str) -> list[str]:
    """uvicorn serving ``module:attribute`` imported from ``app_dir``, on 127.0.0.1 only."""
    return [
        sys.executable, "-m", "uvicorn",
        "--app-dir", str(app_dir), app,
        "--host", "127.0.0.1", "--port", str(port),
        *extra,
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


class AppError(RuntimeError):
    pass


class UvicornApp:
    """A FastAPI app served by uvicorn on 127.0.0.1 and a free port.

    The app must answer ``GET /health`` with 200 once it can serve.
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
            command = uvicorn_command(self.app_dir, self.app, self.port)
            self._process = LocalProcess(self.label, command, self.log_path)
            self._process.start()
            if self._process.wait_until(lambda: answers_ok(self.port, "/health"), START_TIMEOUT):
                return
            self.stop()  # e.g. the port was taken meanwhile
        raise AppError(f"{self.label} did not start; log:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.stop()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
