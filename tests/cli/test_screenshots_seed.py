"""scripts/screenshots.py's seeding, without a browser: the throwaway data directory holds the
demo's cases (benign corpus pictures), the demo reviewer and a person for each role the
screenshots show, and a directory seeded before is refused rather than shot stale."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select

from tests.conftest import REPO
from vigil.cli.demo_data import DEMO_REVIEWER
from vigil.store import open_database
from vigil.store.accounts import authenticate, find_user
from vigil.store.models import Case, Role


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", REPO / "scripts/screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_seeding_makes_every_screen_s_data(
    tmp_path: Path, corpus_images: list[Path], cheap_argon2: None
) -> None:
    script = _script()
    seeded = script.seed(tmp_path / "data", corpus_images[0].parent)
    assert seeded.settings.database_url.startswith("sqlite:///")
    assert (tmp_path / "data" / "vigil.db").is_file()
    with open_database(seeded.settings) as database, database.transaction() as session:
        accounts = set(session.scalars(select(Case.platform_account_id)))
        assert {script.REPORTED, script.KNOWN, "acct-3001"} <= accounts
        assert authenticate(session, DEMO_REVIEWER, seeded.reviewer_password).ok
        roles = set()
        for username in script.PEOPLE:
            assert authenticate(session, username, script.PASSWORD).ok, username
            user = find_user(session, username)
            assert user is not None
            roles |= user.role_set
    assert roles == set(Role) - {Role.AGENCY}
    with pytest.raises(RuntimeError, match="seeded before"):
        script.seed(tmp_path / "data", corpus_images[0].parent)
