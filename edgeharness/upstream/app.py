"""A stand-in for the kind of FastAPI service users put behind nginx or Apache.

It plays the upstream behind every edge the harness starts (tests/ and integration/):

* ``POST /predict`` takes an uploaded image (multipart field ``file``) and
  answers ``{"label", "score", "bytes"}`` like a small model server would.
* ``GET /health`` answers when the process is ready.
* ``/status/{code}`` answers that status, so tests can check that CORS headers
  are added on every status, 2xx to 5xx.
* ``/with-cors`` sets its own CORS headers, like an app still running
  CORSMiddleware; the edge must replace them, never duplicate them.
* ``/echo`` and ``/private/...`` answer with what the upstream received.
* ``POST /login`` sets a ``session`` cookie (HttpOnly, SameSite=Lax) and returns
  its value, for the browser tests' ``credentials: 'include'`` case.
* ``/ok/...`` answers 200 with a short text body on any path below it: the upstream
  of tests that only need one that says yes.
* ``/u/{id}?status=N&vary=A,B`` (the differential tests' upstream) answers status N with
  ``Vary: A, B`` (nothing else in Vary), every CORS header of :data:`UPSTREAM_CORS_HEADERS`
  and a short text body.
* ``GET /__requests?test_id=...`` lists the requests that reached the stub with
  that ``X-Test-Id`` header: the proof that a request did (or did not) get past
  the edge.  Only for tests.

Every other response carries ``X-Request-Id`` and ``Vary: Accept-Encoding``,
so tests can check that the edge merges ``Vary`` rather than replacing it.

Run: ``uvicorn --app-dir edgeharness/upstream app:app --port N``.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from typing import Any

from fastapi import FastAPI, Request, Response, UploadFile
from fastapi.responses import JSONResponse

app = FastAPI(title="predict stub", docs_url=None, redoc_url=None, openapi_url=None)

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
# Reading the log is not traffic under test.
UNRECORDED_PATHS = {"/__requests"}
# The differential tests' answers: their Vary is exactly what the test asked for.
UNTAGGED_PREFIX = "/u/"

# CORS headers /u/ sends on every response, with values no policy produces: the edge must
# remove them all (each Access-Control-* header appears at most once).
UPSTREAM_CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "https://upstream.invalid"),
    ("Access-Control-Allow-Credentials", "false"),
    ("Access-Control-Allow-Methods", "TRACE"),
    ("Access-Control-Allow-Headers", "X-Upstream"),
    ("Access-Control-Expose-Headers", "X-Upstream"),
    ("Access-Control-Max-Age", "1"),
    ("Access-Control-Allow-Private-Network", "false"),
)
REDIRECTS = (301, 302, 303, 307, 308)

_requests: list[dict[str, Any]] = []
_requests_lock = threading.Lock()


@app.middleware("http")
async def record_and_tag(request: Request, call_next: Any) -> Response:
    """Record the request before anything else runs, then tag the response."""
    if request.url.path not in UNRECORDED_PATHS:
        entry = {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "test_id": request.headers.get("x-test-id"),
            "origin": request.headers.get("origin"),
        }
        with _requests_lock:
            _requests.append(entry)
    response: Response = await call_next(request)
    if request.url.path != "/__requests" and not request.url.path.startswith(UNTAGGED_PREFIX):
        response.headers["X-Request-Id"] = uuid.uuid4().hex
        # An endpoint may have set its own Vary (e.g. /with-cors); keep it.
        response.headers.setdefault("Vary", "Accept-Encoding")
    return response


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def predict_answer(data: bytes) -> dict[str, Any]:
    """A deterministic fake "model": the label depends on the bytes, so tests can tell
    that the upload arrived intact (and compute the answer they expect)."""
    digest = hashlib.sha256(data).digest()
    labels = ["cat", "dog", "bird", "fish"]
    return {
        "label": labels[digest[0] % len(labels)],
        "score": round(0.5 + digest[1] / 512, 4),
        "bytes": len(data),
    }


@app.post("/predict")
async def predict(file: UploadFile) -> dict[str, Any]:
    return predict_answer(await file.read())


@app.api_route("/status/{code}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
async def status(code: int, request: Request) -> Response:
    if not 200 <= code <= 599:
        return JSONResponse({"error": "code must be 200..599"}, status_code=400)
    # 204 and 304 must not carry a body.
    if code in (204, 304):
        return Response(status_code=code)
    return JSONResponse({"status": code, "method": request.method}, status_code=code)


@app.api_route("/with-cors", methods=ALL_METHODS)
async def with_cors(request: Request) -> Response:
    response = JSONResponse({"with_cors": True, "method": request.method})
    # What a permissive CORSMiddleware would add; the edge must not let these
    # through next to (or instead of) the policy's own headers.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Access-Control-Allow-Methods"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "X-Upstream"
    response.headers["X-Upstream"] = "stub"
    response.headers["Vary"] = "Accept-Encoding, Origin"
    return response


def _echo(request: Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        # A list of pairs: duplicated request headers stay visible.
        "headers": [
            [k.decode("latin-1"), v.decode("latin-1")] for k, v in request.scope["headers"]
        ],
    }


@app.api_route("/echo", methods=ALL_METHODS)
async def echo(request: Request) -> dict[str, Any]:
    return _echo(request)


@app.post("/login")
async def login() -> Response:
    # What a session login answers: a fresh HttpOnly cookie (SameSite=Lax, as browsers
    # default to), and its value in the body so a test can look for it in /echo later.
    session = uuid.uuid4().hex
    response = JSONResponse({"session": session})
    response.set_cookie("session", session, path="/", httponly=True, samesite="lax")
    return response


@app.api_route("/private/{rest:path}", methods=ALL_METHODS)
async def private(rest: str, request: Request) -> dict[str, Any]:
    # The edge guards /private with basic auth; the stub itself does not.
    return _echo(request)


@app.api_route("/ok/{rest:path}", methods=ALL_METHODS)
async def ok(rest: str) -> Response:
    return Response(b"upstream\n", media_type="text/plain")


@app.api_route("/u/{request_id}", methods=ALL_METHODS)
async def recorded(request_id: str, status: int = 200, vary: str = "") -> Response:
    body = b"" if status in (204, 304) else b"upstream\n"
    headers = dict(UPSTREAM_CORS_HEADERS)
    if vary:
        headers["Vary"] = vary
    if status in REDIRECTS:
        headers["Location"] = "/elsewhere"
    if body:
        headers["Content-Type"] = "text/plain"
    return Response(body, status_code=status, headers=headers)


@app.get("/__requests")
async def requests_log(test_id: str | None = None) -> list[dict[str, Any]]:
    with _requests_lock:
        entries = list(_requests)
    if test_id is not None:
        entries = [e for e in entries if e["test_id"] == test_id]
    return entries


@app.delete("/__requests")
async def clear_requests_log() -> dict[str, int]:
    with _requests_lock:
        count = len(_requests)
        _requests.clear()
    return {"cleared": count}
