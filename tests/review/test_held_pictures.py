"""A confirmed item's kept picture is held as region hashes (issue 19), on SQLite and
PostgreSQL; the rows go with their item, and a picture that cannot be hashed never stands in
the way of the decision."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete

from tests.review.review_env import ReviewEnv, kept_evidence_vault, review_env
from vigil.fingerprint.held_regions import HELD_REGIONS
from vigil.fingerprint.held_windows import WINDOWS
from vigil.store import Database
from vigil.store.evidence import EvidenceVault
from vigil.store.models import (
    CaseItem,
    HeldRegionHash,
    ItemStatus,
    ReviewDecision,
)
from vigil.store.records.held_regions import HeldOwner, held_hashes, load_all, of_owner

UNLISTED = 8  # a corpus image on no list


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[ReviewEnv]:
    with review_env(database, tmp_path, corpus_images) as made:
        yield made


@pytest.fixture
def vault(tmp_path: Path) -> EvidenceVault:
    return kept_evidence_vault(tmp_path)


def test_a_confirmed_picture_is_held_as_its_region_hashes(
    env: ReviewEnv, vault: EvidenceVault
) -> None:
    content = env.images[UNLISTED].read_bytes()
    item_id = env.confirm(content, vault)
    with env.database.session() as session:
        held = of_owner(session, HeldOwner(case_item_id=item_id))
        table = load_all(session)
    names = [r.name for r in HELD_REGIONS] + [w.name for w in WINDOWS]
    assert [r.region for r in held] == names
    assert held == held_hashes(content)
    assert all(
        np.allclose(a.vector, b.vector) if b.vector is not None else a.vector is None
        for a, b in zip(held, held_hashes(content), strict=True)
    )
    assert len(table) == len(names) and int(table.windows.sum()) == len(WINDOWS)
    assert set(table.owners) == {HeldOwner(case_item_id=item_id)}
    assert table.bits.shape == (len(names), 4)


def test_a_held_item_deleted_takes_its_regions(env: ReviewEnv, vault: EvidenceVault) -> None:
    item_id = env.confirm(env.images[UNLISTED].read_bytes(), vault)
    with env.database.transaction(write=True) as session:
        session.execute(delete(ReviewDecision).where(ReviewDecision.item_id == item_id))
        session.execute(delete(CaseItem).where(CaseItem.id == item_id))
    with env.database.session() as session:
        assert session.query(HeldRegionHash).count() == 0


def test_undecodable_evidence_does_not_stand_in_the_way_of_the_decision(
    env: ReviewEnv, vault: EvidenceVault, caplog: pytest.LogCaptureFixture
) -> None:
    broken = env.images[UNLISTED].read_bytes()[:300]  # a JPEG cut short in its header
    with caplog.at_level(logging.WARNING, "vigil.store.records.held_regions"):
        item_id = env.confirm(broken, vault)
    assert env.item(item_id).status is ItemStatus.CONFIRMED
    with env.database.session() as session:
        assert of_owner(session, HeldOwner(case_item_id=item_id)) == ()
    assert f"review item {item_id} not hashed" in caplog.text


def test_without_kept_evidence_nothing_is_held(env: ReviewEnv) -> None:
    item_id = env.confirm(env.images[UNLISTED].read_bytes())
    assert env.item(item_id).status is ItemStatus.CONFIRMED
    with env.database.session() as session:
        assert len(load_all(session)) == 0


def test_an_owner_is_exactly_one_of_item_or_file() -> None:
    with pytest.raises(ValueError, match="exactly one owner"):
        HeldOwner()
    with pytest.raises(ValueError, match="exactly one owner"):
        HeldOwner(case_item_id=1, intake_file_id=2)
