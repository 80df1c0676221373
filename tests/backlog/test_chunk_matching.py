"""A backlog chunk is matched against the lists as committed when its matching starts, with
one freshness check for the whole chunk instead of one database query per object."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.screening.listed import fingerprint, make_list
from vigil.fingerprint.record import Fingerprint
from vigil.screening import live_index
from vigil.screening.backlog.chunk_matching import match_chunk
from vigil.screening.backlog.chunks import Chunk
from vigil.screening.backlog.objects import ObjectError, ObjectRef
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.store import Database
from vigil.store.lists.catalogue import get_list
from vigil.store.lists.manual_entries import NewSignal, add_entries
from vigil.store.models import SignalType


def _chunk(prints: list[Fingerprint]) -> tuple[Chunk, list[Fingerprint]]:
    refs = [ObjectRef("s3", "media", f"img{n}", "v1", None) for n in range(len(prints))]
    odd = ObjectError("s3", "media", "odd/", "listing refused")
    return Chunk(1, (*refs, odd)), [*prints, Fingerprint(path="odd/")]


@pytest.fixture
def prints(corpus_images: list[Path]) -> list[Fingerprint]:
    return [fingerprint(path) for path in corpus_images[:4]]


def test_one_freshness_check_a_chunk(
    database: Database, prints: list[Fingerprint], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_list(database, "bank", [("sha256", prints[0].sha256, "first")], tmp_path)
    checks: list[int] = []
    real = live_index._committed

    def counted(db: Database) -> int:
        checks.append(1)
        return real(db)

    with LiveIndex.open(database, tmp_path / "index") as live:
        monkeypatch.setattr(live_index, "_committed", counted)
        result = match_chunk(Matcher(live), *_chunk(prints))
    assert [(row.key, row.signal_type) for row in result.matches] == [("img0", "sha256")]
    assert len(checks) == 1  # not one per object


def test_a_change_committed_before_the_chunk_is_matched(
    database: Database, prints: list[Fingerprint], tmp_path: Path
) -> None:
    make_list(database, "bank", [("sha256", prints[0].sha256, "first")], tmp_path)
    with LiveIndex.open(database, tmp_path / "index") as live:
        matcher = Matcher(live)
        match_chunk(matcher, *_chunk(prints))  # the index is current before the change
        with database.transaction(write=True) as session:
            add_entries(
                session,
                get_list(session, "bank"),
                [NewSignal(SignalType.SHA256, prints[2].sha256 or "")],
                actor="test",
                reason="test",
            )
        result = match_chunk(matcher, *_chunk(prints))
    assert sorted(row.key for row in result.matches) == ["img0", "img2"]
