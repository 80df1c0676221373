"""Known, seen or new, on SQLite and PostgreSQL, with hashes of benign corpus images matched
through real lists and the live match index."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from tests import decode_bombs
from tests.clearinghouse.intake_rows import (
    add_file,
    add_report,
    company_row,
    corpus_fingerprint,
    open_matcher,
    report_xml,
)
from tests.screening.listed import flipped_bits, make_list
from vigil.clearinghouse.known_or_new import (
    RECEIVED_LIST,
    classify_file,
    classify_report,
    make_finish_hook,
)
from vigil.fingerprint.pipeline import fingerprint_bytes
from vigil.store import Database
from vigil.store.models import (
    FileVerdict,
    HashList,
    IntakeEntityLink,
    IntakeFile,
    IntakeIncident,
    IntakeState,
    ListEntry,
)


def test_listed_file_is_known_and_inherits_the_label(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    image = corpus_fingerprint(corpus_images[0])
    make_list(database, "national", [("sha256", image.sha256, "case-7")], tmp_path)
    with database.transaction(write=True) as session:
        session.execute(update(ListEntry).values(series="series-x", victim_identified=True))
        entry_id = session.scalars(select(ListEntry.id)).one()
    with (
        open_matcher(database, tmp_path / "index") as matcher,
        database.transaction(write=True) as session,
    ):
        report = add_report(session, company_row(session, "Alpha"), files=(image,))
        outcome = classify_file(session, matcher, report.files[0])
        file = report.files[0]
    assert outcome.verdict is FileVerdict.KNOWN and file.verdict is FileVerdict.KNOWN
    assert (file.classification, file.matched_entry_id) == ("A1", entry_id)
    assert outcome.details["series"] == "series-x"
    assert outcome.details["victim_identified"] is True
    assert outcome.details["list"] == "national"


def test_pdq_near_a_listed_entry_is_known(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    image = corpus_fingerprint(corpus_images[1])
    make_list(database, "national", [("pdq", flipped_bits(image.pdq, 12), "case-8")], tmp_path)
    with (
        open_matcher(database, tmp_path / "index") as matcher,
        database.transaction(write=True) as session,
    ):
        report = add_report(session, company_row(session, "Alpha"), files=(image,))
        [outcome] = classify_report(session, matcher, report)
    assert outcome.verdict is FileVerdict.KNOWN
    assert outcome.details["signal_type"] == "pdq" and outcome.details["distance"] == 12


def test_first_copy_is_new_and_the_next_is_seen(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    image = corpus_fingerprint(corpus_images[2])
    with open_matcher(database, tmp_path / "index") as matcher:
        with database.transaction(write=True) as session:
            first = add_report(session, company_row(session, "Alpha"), files=(image,))
            [new] = classify_report(session, matcher, first)
        with database.transaction(write=True) as session:
            second = add_report(session, company_row(session, "Beta"), files=(image,))
            [seen] = classify_report(session, matcher, second)
    assert new.verdict is FileVerdict.NEW and new.matched_file_id is None
    assert seen.verdict is FileVerdict.SEEN
    assert seen.matched_file_id == first.files[0].id
    assert seen.classification is None


def test_near_copy_is_seen_through_the_received_list(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    image, other = corpus_fingerprint(corpus_images[3]), corpus_fingerprint(corpus_images[4])
    with open_matcher(database, tmp_path / "index") as matcher:
        with database.transaction(write=True) as session:
            alpha = company_row(session, "Alpha")
            first = add_report(session, alpha, files=(image,))
            classify_report(session, matcher, first)
        with database.transaction(write=True) as session:
            received = session.scalar(select(HashList).where(HashList.name == RECEIVED_LIST))
            assert received is not None
            listed = session.scalars(
                select(ListEntry.signal).where(ListEntry.list_id == received.id)
            ).all()
            assert listed == [image.pdq]
            second = add_report(session, alpha)
            near = add_file(session, second, other, pdq=flipped_bits(image.pdq, 10))
            far = add_file(
                session,
                second,
                corpus_fingerprint(corpus_images[5]),
                pdq=flipped_bits(image.pdq, 60),
            )
            near_outcome = classify_file(session, matcher, near)
            far_outcome = classify_file(session, matcher, far)
    assert near_outcome.verdict is FileVerdict.SEEN
    assert near_outcome.matched_file_id == first.files[0].id
    assert far_outcome.verdict is FileVerdict.NEW


def test_received_and_unlabelled_entries_never_make_a_file_known(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    image = corpus_fingerprint(corpus_images[6])
    with database.transaction(write=True) as session:
        from vigil.store.lists.catalogue import create_list
        from vigil.store.lists.manual_entries import NewSignal, add_entries

        bank = create_list(session, "unlabelled", actor="test")
        add_entries(
            session, bank, [NewSignal("sha256", image.sha256)], actor="test", reason="no label"
        )
    with open_matcher(database, tmp_path / "index") as matcher:
        for name in ("Alpha", "Beta"):
            with database.transaction(write=True) as session:
                report = add_report(session, company_row(session, name), files=(image,))
                [outcome] = classify_report(session, matcher, report)
        assert outcome.verdict is FileVerdict.SEEN and outcome.matched_entry_id is None


def test_retracted_and_same_report_copies_do_not_count_as_seen(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    image = corpus_fingerprint(corpus_images[7])
    with (
        open_matcher(database, tmp_path / "index") as matcher,
        database.transaction(write=True) as session,
    ):
        alpha = company_row(session, "Alpha")
        add_report(session, alpha, state=IntakeState.RETRACTED, files=(image,))
        report = add_report(session, alpha, files=(image, image))
        outcomes = classify_report(session, matcher, report)
    assert [o.verdict for o in outcomes] == [FileVerdict.NEW, FileVerdict.NEW]


def test_file_without_pdq_is_classified_by_digest(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    image = corpus_fingerprint(corpus_images[8])
    with (
        open_matcher(database, tmp_path / "index") as matcher,
        database.transaction(write=True) as session,
    ):
        report = add_report(session, company_row(session, "Alpha"))
        file = add_file(session, report, image)
        file.pdq = None
        outcome = classify_file(session, matcher, file)
        assert session.scalar(select(HashList).where(HashList.name == RECEIVED_LIST)) is None
    assert outcome.verdict is FileVerdict.NEW


def test_finish_hook_classifies_bundles_and_links(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    image = corpus_fingerprint(corpus_images[9])
    with open_matcher(database, tmp_path / "index") as matcher:
        hook = make_finish_hook(matcher)
        for name in ("Alpha", "Beta"):
            with database.transaction(write=True) as session:
                report = add_report(
                    session,
                    company_row(session, name),
                    report_xml(email="same@example.org"),
                    files=(image,),
                )
                hook(session, report)
    with database.transaction() as session:
        verdicts = session.scalars(select(IntakeFile.verdict).order_by(IntakeFile.id)).all()
        incident = session.scalars(select(IntakeIncident)).one()
        links = session.scalars(select(IntakeEntityLink)).all()
    assert verdicts == [FileVerdict.NEW, FileVerdict.SEEN]
    assert incident.sha256 == image.sha256 and incident.report_count == 2
    assert len(links) == 2 and links[0].entity_id == links[1].entity_id


def test_a_file_that_cannot_be_decoded_is_new_for_a_person(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    """Issue 14: no PDQ (here a decode bomb over the budget) is never taken as known or seen
    by a near copy: with no labelled digest it is new, the verdict a person looks at."""
    bomb = fingerprint_bytes(decode_bombs.gif_canvas())
    assert bomb.error_reason == "over_decode_budget" and bomb.pdq is None
    make_list(
        database, "national", [("pdq", corpus_fingerprint(corpus_images[0]).pdq, "c-1")], tmp_path
    )
    with (
        open_matcher(database, tmp_path / "index") as matcher,
        database.transaction(write=True) as session,
    ):
        report = add_report(session, company_row(session, "Alpha"), files=(bomb,))
        outcome = classify_file(session, matcher, report.files[0])
    assert outcome.verdict is FileVerdict.NEW
    assert outcome.classification is None and outcome.matched_file_id is None
