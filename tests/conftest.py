"""Shared fixtures: the benign corpus and generated media only."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.db", "tests.shared_service"]

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "images"


@pytest.fixture(scope="session")
def corpus_images() -> list[Path]:
    images = sorted(CORPUS.glob("*.jpg"))
    if not images:
        pytest.fail(f"benign corpus missing at {CORPUS}")
    return images


@pytest.fixture(autouse=True)
def _private_config_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the tester's own ~/.config/vigil (e.g. the master key `vigil serve` creates on a
    first run) and default data directory (~/.local/share/vigil) out of every test, and tests
    running at once (pytest-xdist workers) out of each other's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config-home")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same password code with argon2 at minimal cost: the production parameters take
    about 0.1 s a hash, which tests that sign in many people would spend many seconds on."""
    from argon2 import PasswordHasher

    from vigil.store.accounts import passwords

    monkeypatch.setattr(
        passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
