"""The spec's request matrix for examples/predict-api.yaml, through nginx, Apache and HAProxy.

Exact origins only, with credentials: two localhost front-ends may call the model;
everything that merely resembles them may not.
"""

from __future__ import annotations

import pytest

from integration.cors_matrix import REPO, ListedOriginsContract

pytestmark = pytest.mark.slow


class TestPredictApiPolicy(ListedOriginsContract):
    POLICY = REPO / "examples" / "predict-api.yaml"
    ALLOWED = ["http://localhost", "http://localhost:3000"]
    NOT_ALLOWED = [
        "http://localhost:3001",  # another port
        "http://localhost:8080",
        "https://localhost",  # https instead of http
        "https://localhost:3000",
        "http://localhost.evil.com",  # an allowed host as a prefix
        "http://evil-localhost",
        "http://127.0.0.1:3000",  # the same machine under another name
        "null",  # not listed
    ]
    CASE_VARIANTS = ["http://LOCALHOST:3000", "HTTP://localhost"]
    METHODS = {"GET", "POST"}
    ALLOW_HEADERS = ["Authorization", "Content-Type"]
    EXPOSE_HEADERS = ["X-Request-Id"]
    MAX_AGE = "600"
    CREDENTIALS = True
