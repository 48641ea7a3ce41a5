"""The test front-end: served from this process on 127.0.0.1, driven in Chromium.

``PageServer`` serves ``static/`` (``index.html`` and ``app.js``) on one port.  The
origin a page has is whatever host name the browser used: with every name mapped to
127.0.0.1 (see ``chromium.FLAGS``), one server on port P is ``http://localhost:P``,
``http://app.localhost:P`` and any other ``http://NAME.localhost:P`` at once.

``Frontend`` opens the page on an origin and runs its calls; every result carries the
console lines the call produced, since only they say *why* the browser refused.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

STATIC = Path(__file__).resolve().parent / "static"
PAGE = "/index.html"
# A CORS refusal is reported on the console a moment after fetch() rejects, at most.
CONSOLE_WAIT_POLLS = 20
CONSOLE_POLL_SECONDS = 0.025
BODY_PREVIEW = 2000  # enough for /echo's list of received headers


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


class PageServer:
    """``static/`` over HTTP on 127.0.0.1 and a port the kernel picks (no race)."""

    def __init__(self) -> None:
        handler = functools.partial(_QuietHandler, directory=str(STATIC))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"page-server-{self.port}", daemon=True
        )

    def start(self) -> PageServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class CallResult:
    """What the page saw of one API call, and what the browser said about it."""

    ok: bool  # the page could read the response
    status: int | None = None
    body: str = ""
    headers: dict[str, str | None] = field(default_factory=dict)
    error: str | None = None  # e.g. "TypeError"
    message: str | None = None
    console: list[str] = field(default_factory=list)
    shown: str | None = None  # what the page displays afterwards (the upload form only)

    @classmethod
    def from_page(cls, data: dict[str, Any], console: list[str]) -> CallResult:
        return cls(
            ok=bool(data.get("ok")),
            status=data.get("status"),
            body=data.get("body") or "",
            headers=data.get("headers") or {},
            error=data.get("error"),
            message=data.get("message"),
            console=console,
            shown=data.get("shown"),
        )

    @property
    def verdict(self) -> str:
        return "read" if self.ok else f"refused ({self.error})"

    @property
    def cors_refusal(self) -> str | None:
        """The console line in which the browser blamed CORS, if any."""
        return next((line for line in self.console if "blocked by CORS policy" in line), None)

    def describe(self) -> str:
        lines = [f"browser verdict: {self.verdict}"]
        if self.ok:
            lines.append(f"status {self.status}, headers read {self.headers}")
            lines.append(f"body: {self.body[:BODY_PREVIEW]!r}")
        else:
            lines.append(f"{self.error}: {self.message}")
        if self.shown is not None:
            lines.append(f"the page shows: {self.shown!r}")
        lines += [f"console: {line}" for line in self.console] or ["console: (nothing)"]
        return "\n".join(lines)

    __str__ = describe


class Frontend:
    """The test page in one Chromium tab, opened on whichever origin a test needs."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver
        self.origin: str | None = None

    def open(self, origin: str) -> None:
        """Load the page on ``origin`` (``http://HOST:PORT``) unless it is there already."""
        if self.origin != origin:
            self.origin = None
            self.driver.get(origin + PAGE)
            actual = self.driver.execute_script("return window.location.origin")
            if actual != origin:
                raise AssertionError(f"the page opened on {actual!r}, not {origin!r}")
            self.origin = origin
        self.console()  # start each call with an empty console

    def console(self) -> list[str]:
        """Console lines since the last call (reading them empties the buffer)."""
        return [entry["message"] for entry in self.driver.get_log("browser")]

    def request(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        json: Any = None,
        credentials: str = "same-origin",
        read_headers: tuple[str, ...] = (),
    ) -> CallResult:
        """``fetch(url, ...)`` from the page; the page's own verdict, with the console."""
        spec: dict[str, Any] = {
            "url": url,
            "method": method,
            "headers": headers or {},
            "credentials": credentials,
            "readHeaders": list(read_headers),
        }
        if json is not None:
            spec["json"] = json
        data = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "frontend.request(arguments[0]).then(done);",
            spec,
        )
        return self._result(data)

    def upload(self, api_base: str, image: Path, tag: str = "") -> CallResult:
        """Choose ``image`` in the form's file input and press Predict, as a person would."""
        from selenium.webdriver.common.by import By

        self.driver.execute_script(
            "frontend.apiBase = arguments[0]; frontend.tag = arguments[1]; "
            "frontend.pending = null;",
            api_base,
            tag,
        )
        self.driver.find_element(By.ID, "image").send_keys(str(image))
        self.driver.find_element(By.ID, "predict").click()
        data = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "if (!frontend.pending) { done({ok: false, error: 'NoSubmit',"
            " message: 'the form was not submitted'}); }"
            "else { frontend.pending.then((result) => done({...result,"
            " shown: document.getElementById('result').textContent})); }"
        )
        # Leave the form as a fresh page would have it for the next upload.
        self.driver.execute_script("document.getElementById('predict-form').reset();")
        return self._result(data)

    def _result(self, data: dict[str, Any]) -> CallResult:
        console = self.console()
        if not data.get("ok"):
            # The CORS message may trail the rejected promise by a moment.
            for _ in range(CONSOLE_WAIT_POLLS):
                if any("blocked by CORS policy" in line for line in console):
                    break
                time.sleep(CONSOLE_POLL_SECONDS)
                console += self.console()
        return CallResult.from_page(data, console)
