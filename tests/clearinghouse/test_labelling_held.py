"""A labelled file the clearinghouse keeps is held as region hashes (issue 19); a file whose
kept bytes are not a picture is labelled all the same."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.clearinghouse.intake_rows import add_report, company_row, corpus_fingerprint
from tests.review.review_env import kept_evidence_vault
from vigil.clearinghouse.labelling import label_file
from vigil.store import Database
from vigil.store.evidence import EvidenceVault
from vigil.store.models import FileVerdict, IntakeFile
from vigil.store.records.held_regions import HeldOwner, held_hashes, of_owner


def _labelled(database: Database, vault: EvidenceVault, image: Path, kept: bytes) -> int:
    with database.transaction(write=True) as session:
        report = add_report(
            session, company_row(session, "Alpha"), files=(corpus_fingerprint(image),)
        )
        file = report.files[0]
        evidence = vault.seal(kept, media_type="photo")
        session.add(evidence)
        session.flush()
        file.evidence_item_id = evidence.id
        label_file(session, file.id, "A1", actor="analyst-1", vault=vault)
        return file.id


@pytest.fixture
def vault(tmp_path: Path) -> EvidenceVault:
    return kept_evidence_vault(tmp_path)


def test_a_labelled_file_is_held_as_its_region_hashes(
    database: Database, vault: EvidenceVault, corpus_images: list[Path]
) -> None:
    content = corpus_images[10].read_bytes()
    file_id = _labelled(database, vault, corpus_images[10], content)
    with database.session() as session:
        assert of_owner(session, HeldOwner(intake_file_id=file_id)) == held_hashes(content)


def test_a_kept_file_that_is_no_picture_is_labelled_anyway(
    database: Database,
    vault: EvidenceVault,
    corpus_images: list[Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "vigil.store.records.held_regions"):
        file_id = _labelled(database, vault, corpus_images[10], b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with database.session() as session:
        assert session.get_one(IntakeFile, file_id).verdict is FileVerdict.KNOWN
        assert of_owner(session, HeldOwner(intake_file_id=file_id)) == ()
    assert f"intake file {file_id} not hashed" in caplog.text
