"""An analyst's label goes into the clearinghouse's own list, so the next copy is known."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.clearinghouse.intake_rows import (
    add_report,
    company_row,
    corpus_fingerprint,
    open_matcher,
)
from vigil.clearinghouse.known_or_new import classify_report
from vigil.clearinghouse.labelling import (
    LABELS_LIST,
    InvalidClassification,
    UnknownIntakeFile,
    label_file,
)
from vigil.store import Database
from vigil.store.audit.log import AuditLog
from vigil.store.models import FileVerdict, HashList, ListEntry
from vigil.store.models.audit import AuditAction


def test_labelled_file_makes_the_next_copy_known(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    image = corpus_fingerprint(corpus_images[10])
    with open_matcher(database, tmp_path / "index") as matcher:
        with database.transaction(write=True) as session:
            first = add_report(session, company_row(session, "Alpha"), files=(image,))
            [before] = classify_report(session, matcher, first)
        with database.transaction(write=True) as session:
            entry_ids = label_file(
                session,
                first.files[0].id,
                "B1",
                actor="analyst-1",
                series="series-q",
                victim_identified=False,
            )
        with database.transaction(write=True) as session:
            second = add_report(session, company_row(session, "Beta"), files=(image,))
            [after] = classify_report(session, matcher, second)
    assert before.verdict is FileVerdict.NEW
    assert after.verdict is FileVerdict.KNOWN and after.classification == "B1"
    assert after.matched_entry_id in entry_ids
    assert after.details["series"] == "series-q"
    assert after.details["victim_identified"] is False
    with database.transaction() as session:
        labels = session.scalars(select(HashList).where(HashList.name == LABELS_LIST)).one()
        entries = session.scalars(select(ListEntry).where(ListEntry.list_id == labels.id)).all()
        [decision] = [r for r in AuditLog(session).recent(10) if r.action is AuditAction.DECISION]
    assert {e.signal_type.value for e in entries} == {"sha256", "md5", "sha1", "pdq"}
    assert {e.classification for e in entries} == {"B1"}
    assert (decision.actor, decision.subject_id) == ("analyst-1", str(first.files[0].id))
    assert decision.details["classification"] == "B1"
    assert image.sha256 not in str(decision.details)  # counts, never hashes


def test_relabelling_changes_the_classification(
    database: Database, corpus_images: list[Path]
) -> None:
    image = corpus_fingerprint(corpus_images[11])
    with database.transaction(write=True) as session:
        report = add_report(session, company_row(session, "Alpha"), files=(image,))
        first = label_file(session, report.files[0].id, "A1", actor="analyst-1")
        again = label_file(session, report.files[0].id, "A2", actor="analyst-2")
        classes = set(session.scalars(select(ListEntry.classification)))
        assert sorted(first) == sorted(again) and classes == {"A2"}
        assert report.files[0].verdict is FileVerdict.KNOWN
        assert report.files[0].classification == "A2"


def test_bad_labels_are_refused(database: Database, corpus_images: list[Path]) -> None:
    image = corpus_fingerprint(corpus_images[12])
    with database.transaction(write=True) as session:
        report = add_report(session, company_row(session, "Alpha"), files=(image,))
        for bad in ("Z9", "", "A1; DROP TABLE", "a1" * 1000):
            with pytest.raises(InvalidClassification):
                label_file(session, report.files[0].id, bad, actor="analyst-1")
        with pytest.raises(UnknownIntakeFile):
            label_file(session, 10**12, "A1", actor="analyst-1")
        assert session.scalar(select(HashList).where(HashList.name == LABELS_LIST)) is None
