"""Shared fixtures: the benign corpus and generated media only."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.db"]

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "images"


@pytest.fixture(scope="session")
def corpus_images() -> list[Path]:
    images = sorted(CORPUS.glob("*.jpg"))
    if not images:
        pytest.fail(f"benign corpus missing at {CORPUS}")
    return images
