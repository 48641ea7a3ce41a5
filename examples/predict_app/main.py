"""An image-prediction API of the kind people put behind nginx or Apache.

    POST /predict       multipart upload (field ``file``) -> {"label", "score", ...}
    GET  /health        {"status": "ok"} once the process can serve
    GET  /admin/stats   how many predictions were served (the edge guards /admin/)

The "model" is a stand-in: it derives the label and score from a hash of the uploaded
bytes, so the same image always gets the same answer and nothing has to be downloaded.
Replace ``classify`` with a real model; the rest is what a service like this looks like.

There is deliberately no ``CORSMiddleware`` here: CORS is handled at the edge, from
``examples/predict-api.yaml`` rendered by corsgen (see ``examples/README.md``). Moving an
existing app's middleware there: ``docs/migrating-from-fastapi.md``.

Run: ``uvicorn main:app --app-dir examples/predict_app --host 127.0.0.1 --port 8000``
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response, UploadFile

LABELS = ("cat", "dog", "bird", "fish")

app = FastAPI(title="predict-api")

# Served since the process started; a real service would export a metric instead.
_predictions = 0


@app.middleware("http")
async def request_id(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Tag every response with an id the front-end can quote in a bug report.

    A browser page can read it only because the policy lists it in ``expose_headers``.
    """
    response = await call_next(request)
    response.headers["X-Request-Id"] = uuid.uuid4().hex
    return response


def classify(image: bytes) -> tuple[str, float]:
    """The stand-in model: a label and a score in [0.5, 1.0), fixed for given bytes."""
    digest = hashlib.sha256(image).digest()
    return LABELS[digest[0] % len(LABELS)], round(0.5 + digest[1] / 512, 4)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/predict")
async def predict(file: UploadFile) -> dict[str, Any]:
    global _predictions
    image = await file.read()
    if not image:
        raise HTTPException(status_code=400, detail="the uploaded file is empty")
    label, score = classify(image)
    _predictions += 1
    return {"filename": file.filename, "bytes": len(image), "label": label, "score": score}


@app.get("/admin/stats")
async def admin_stats() -> dict[str, int]:
    # No authentication here: the edge puts /admin/ behind basic auth.
    return {"predictions": _predictions}
