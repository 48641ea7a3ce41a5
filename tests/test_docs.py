"""The documentation stays true: its policies validate, its links resolve, its examples match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from corsgen.from_fastapi import translate_fastapi
from corsgen.load import load_text
from corsgen.policy import policy_from_document
from tests.conftest import REPO

DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [*DOCS, REPO / "README.md", REPO / "examples" / "README.md"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def blocks(page: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(page.read_text()) if lang == language]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_the_docs_pages_are_found():
    assert {page.name for page in DOCS} >= {
        "policy.md",
        "nginx.md",
        "apache.md",
        "decisions.md",
        "troubleshooting.md",
        "ci.md",
        "migrating-from-fastapi.md",
    }


# The pages that show a whole policy (a ```yaml block with "version: 1"); the others show
# fragments only. Named here so that a page whose policy was lost or reformatted fails
# instead of passing with nothing checked.
PAGES_WITH_POLICIES = [
    REPO / "README.md",
    REPO / "docs" / "policy.md",
    REPO / "docs" / "migrating-from-fastapi.md",
]


def policies_shown(page: Path) -> list[str]:
    return [body for body in blocks(page, "yaml") if re.search(r"^version: 1", body, re.M)]


@pytest.mark.parametrize(
    "page",
    sorted({*PAGES, *PAGES_WITH_POLICIES}),
    ids=lambda page: str(page.relative_to(REPO)),
)
def test_every_policy_shown_in_the_docs_is_valid(page: Path):
    policies = policies_shown(page)
    if page in PAGES_WITH_POLICIES:
        assert policies, f"{page.name}: no policy (a ```yaml block with 'version: 1') found"
    for body in policies:
        policy_from_document(load_text(body, Path("predict-api.yaml")))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_relative_links_and_their_anchors_resolve(page: Path):
    text = FENCE.sub("", page.read_text())
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # an absolute URL
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        assert linked.exists(), f"{page.name}: link to {target}: no such file"
        if anchor:
            assert anchor in anchors(linked), f"{page.name}: link to {target}: no such heading"


def test_the_fastapi_example_in_the_migration_guide_is_what_init_writes():
    page = REPO / "docs" / "migrating-from-fastapi.md"
    (application,) = [body for body in blocks(page, "python") if "origins = [" in body]
    (documented,) = [body for body in blocks(page, "yaml") if "translated by" in body]
    translation = translate_fastapi(
        application, Path("main.py"), Path("predict-api.yaml"), "predict-api"
    )
    assert translation.text == documented
