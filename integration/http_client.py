"""A small HTTP client for the integration tests that hides nothing.

Response headers are kept as the raw list the server sent, in order, so a
header that appears twice (two ``Access-Control-Allow-Origin`` lines, say) is
two entries, never one merged value.  ``HttpResult.describe()`` formats the
request and the full response for assertion messages.

Every request carries an ``X-Test-Id`` header (generated when not given), so
a test can ask the predict stub whether the request reached the upstream.
"""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]] | None

# How much of a body describe() shows; enough to recognise an error page.
BODY_PREVIEW = 400

_ssl_context: ssl.SSLContext | None = None


def ssl_context() -> ssl.SSLContext:
    """One SSL context for every httpx client of the harness.

    Without one, httpx builds a fresh context for each client, loading the CA
    bundle: about 50 ms per request, which dominated the integration run.  Every
    target here is plain http on this machine, so the context is never used to
    verify anything; passing it only skips that cost.
    """
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


def new_test_id() -> str:
    return uuid.uuid4().hex


@dataclass
class HttpResult:
    """One request and its response, headers exactly as sent and received."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    status: int
    # Raw response headers in order, names in the case the server sent,
    # duplicates kept (look them up case-insensitively: values(), header()).
    headers: list[tuple[str, str]]
    body: bytes
    test_id: str
    http_version: str = "HTTP/1.1"
    extra: dict[str, Any] = field(default_factory=dict)

    # -- header access -------------------------------------------------
    def values(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), one per header line."""
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def has(self, name: str) -> bool:
        return bool(self.values(name))

    def count(self, name: str) -> int:
        return len(self.values(name))

    def header(self, name: str) -> str | None:
        """The single value of ``name``, None when absent.

        Fails (AssertionError with the full exchange) when the header appears
        more than once: a CORS header must never be duplicated.
        """
        found = self.values(name)
        if len(found) > 1:
            raise AssertionError(f"header {name!r} appears {len(found)} times\n{self.describe()}")
        return found[0] if found else None

    def cors_headers(self) -> list[tuple[str, str]]:
        """All ``Access-Control-*`` response headers, in order."""
        return [(k, v) for k, v in self.headers if k.lower().startswith("access-control-")]

    def vary(self) -> list[str]:
        """The ``Vary`` tokens over all Vary lines, lower-cased, in order."""
        tokens: list[str] = []
        for value in self.values("vary"):
            tokens.extend(t.strip().lower() for t in value.split(",") if t.strip())
        return tokens

    # -- body ----------------------------------------------------------
    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    # -- messages ------------------------------------------------------
    def describe(self) -> str:
        """The request and the whole response, for assertion messages."""
        lines = [f"> {self.method} {self.url}"]
        lines += [f"> {k}: {v}" for k, v in self.request_headers]
        lines.append(f"< {self.http_version} {self.status}")
        lines += [f"< {k}: {v}" for k, v in self.headers]
        body = self.text
        if len(body) > BODY_PREVIEW:
            body = body[:BODY_PREVIEW] + f"... ({len(self.body)} bytes)"
        lines.append(f"< body: {body!r}")
        return "\n".join(lines)

    __str__ = describe


def _header_pairs(headers: HeaderInput) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def send(
    method: str,
    url: str,
    *,
    origin: str | None = None,
    headers: HeaderInput = None,
    test_id: str | None = None,
    content: bytes | str | None = None,
    data: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
    json_body: Any = None,
    auth: tuple[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResult:
    """Send one request on a fresh connection and return everything about it.

    ``headers`` may be a list of pairs to send the same header twice.  A fresh
    connection per request means a request never lands on a worker left over
    from before a reload.  Environment proxies are ignored (trust_env=False):
    every target is on this machine.
    """
    test_id = test_id or new_test_id()
    pairs = _header_pairs(headers)
    if origin is not None:
        pairs.append(("Origin", origin))
    pairs.append(("X-Test-Id", test_id))
    with httpx.Client(
        trust_env=False, timeout=timeout, follow_redirects=False, verify=ssl_context()
    ) as client:
        response = client.request(
            method,
            url,
            headers=pairs,
            content=content,
            data=data,
            files=files,
            json=json_body,
            auth=auth,
        )
        body = response.read()
    return HttpResult(
        method=method,
        url=url,
        request_headers=[
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.request.headers.raw
        ],
        status=response.status_code,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw],
        body=body,
        test_id=test_id,
        http_version=response.http_version,
    )


def preflight(
    url: str,
    origin: str,
    request_method: str = "GET",
    *,
    request_headers: str | None = None,
    private_network: bool = False,
    headers: HeaderInput = None,
    test_id: str | None = None,
    timeout: float = 10.0,
) -> HttpResult:
    """Send a CORS preflight as a browser would (OPTIONS, no credentials)."""
    pairs = _header_pairs(headers)
    pairs.append(("Access-Control-Request-Method", request_method))
    if request_headers is not None:
        pairs.append(("Access-Control-Request-Headers", request_headers))
    if private_network:
        pairs.append(("Access-Control-Request-Private-Network", "true"))
    return send("OPTIONS", url, origin=origin, headers=pairs, test_id=test_id, timeout=timeout)
