"""The spec's request matrix for a policy of wildcards, an app scheme, "null" and regexes.

integration/policies/wildcard-regex.yaml: wildcard subdomains never allow the apex,
wildcard ports allow any port and none, regexes match the whole Origin only.
"""

from __future__ import annotations

import pytest

from integration.cors_matrix import POLICIES, STAR_METHODS, ListedOriginsContract

pytestmark = pytest.mark.slow


class TestWildcardRegexPolicy(ListedOriginsContract):
    POLICY = POLICIES / "wildcard-regex.yaml"
    ALLOWED = [
        "https://app.example.com",
        "https://a.example.org",  # *.example.org: one label
        "https://a.b.example.org",  # ... or several
        "https://under_score.example.org",
        "https://a.tenant.example.com:8443",
        "http://127.0.0.1",  # :* allows no port
        "http://127.0.0.1:8080",  # ... and any port
        "http://a.localhost",  # *.localhost:* combined
        "http://a.b.localhost:5173",
        "capacitor://localhost",
        "null",  # listed literally
        "https://pr-1.preview.example.dev",
        "https://pr-12345.preview.example.dev",
        "https://staging.example.net",  # the unanchored regex
        "https://qa.example.net",
    ]
    NOT_ALLOWED = [
        "https://example.org",  # the apex of a wildcard
        "https://example.org.evil.com",
        "https://a.example.org.evil.com",
        "https://evil-example.org",
        "https://evilexample.org",
        "http://a.example.org",  # http instead of https
        "https://a.example.org:8443",  # another port
        "https://app.example.com.evil.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://evil-app.example.com",
        "https://tenant.example.com:8443",  # the apex of a wildcard with a port
        "https://a.tenant.example.com",  # the port missing
        "https://a.tenant.example.com:9443",
        "https://127.0.0.1:8080",  # https instead of http under :*
        "http://127.0.0.10:8080",
        "http://127.0.0.1.evil.com",
        "http://localhost",  # the apex of *.localhost
        "http://localhost:5173",
        "https://a.localhost",
        "http://a.localhost.evil.com",
        "capacitor://evil",
        "ionic://localhost",  # an app scheme that is not listed
        "https://pr-x.preview.example.dev",
        "https://pr-.preview.example.dev",
        "https://pr-1.preview.example.dev.evil.com",  # regexes match the whole Origin
        "https://pr-1xpreview.example.dev",  # the regex's escaped dot
        "http://pr-1.preview.example.dev",
        "https://staging.example.net.evil.com",  # anchored although written without ^ $
        "https://prod.example.net",
        "https://stagingxexample.net",
        "http://staging.example.net",
    ]
    CASE_VARIANTS = ["https://A.example.org", "https://APP.example.com", "NULL"]
    METHODS = STAR_METHODS  # "*" with credentials: every method listed, never "*"
    ALLOW_HEADERS = ["Authorization", "Content-Type", "X-Trace-Id"]
    EXPOSE_HEADERS = ["X-Request-Id", "X-Model-Version"]
    MAX_AGE = "7200"
    CREDENTIALS = True
