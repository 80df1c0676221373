"""Review cases in the store: one open case per account, inherited classifications and the
priority rules, on SQLite and PostgreSQL, with records saved as the screening service does."""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.screening.listed import fingerprint as fingerprint_file
from tests.screening.listed import make_list
from vigil.store import Database
from vigil.store.lists.catalogue import create_list
from vigil.store.lists.manual_entries import NewSignal, add_entries
from vigil.store.models import (
    Case,
    CaseItem,
    CasePriority,
    CaseStatus,
    DecisionKind,
    ItemStatus,
    ListEntry,
    RecordSource,
    ReviewDecision,
    SignalType,
    Verdict,
    utcnow,
)
from vigil.store.records.cases import account_key, attach_record
from vigil.store.records.matches import HitRow, MediaFields, save_record

fingerprint = functools.cache(fingerprint_file)


@pytest.fixture
def entries(database: Database, tmp_path: Path, corpus_images: list[Path]) -> dict[str, int]:
    """ "ncmec" (classification A1): image 0 by SHA-256, image 1 by PDQ; "unrated": image 2's
    PDQ with no classification."""
    listed = [fingerprint(p) for p in corpus_images[:3]]
    make_list(
        database,
        "ncmec",
        [("sha256", listed[0].sha256, "case-1"), ("pdq", listed[1].pdq, "case-2")],
        tmp_path,
    )
    with database.transaction(write=True) as session:
        unrated = create_list(session, "unrated", actor="test")
        added = add_entries(
            session,
            unrated,
            [NewSignal(SignalType.PDQ, listed[2].pdq)],
            actor="test",
            reason="test",
        )
        ids = {e.external_id: e.id for e in session.scalars(select(ListEntry)) if e.external_id}
        return {"sha": ids["case-1"], "pdq": ids["case-2"], "unrated": added.added[0]}


def record(
    database: Database,
    *,
    account: str | None = "acct-1",
    content: str = "c-1",
    hits: Sequence[HitRow] = (),
    source: RecordSource = RecordSource.UPLOAD,
    sha256: str | None = None,
    now_offset: int = 0,
) -> tuple[str, int]:
    """Save a record and attach it as the service does; returns (case public id, item id)."""
    with database.transaction(write=True) as session:
        saved = save_record(
            session,
            source=source,
            verdict=Verdict.MATCH if hits else Verdict.REVIEW,
            reasons=["test"],
            submitted_by="key:test",
            content_id=content,
            account_id=account,
            media=MediaFields(sha256=sha256),
            hits=hits,
        )
        item = attach_record(session, saved, now=utcnow() + timedelta(seconds=now_offset))
        return item.case.public_id, item.id


def list_id(database: Database, entry_id: int) -> int:
    with database.transaction() as session:
        return session.get_one(ListEntry, entry_id).list_id


def hit(database: Database, entry_id: int, signal_type: str = "sha256") -> HitRow:
    return HitRow(
        entry_id=entry_id,
        list_id=list_id(database, entry_id),
        signal_type=signal_type,
        distance=0 if signal_type == "pdq" else None,
    )


def load(database: Database, public_id: str) -> Case:
    with database.transaction() as session:
        return session.scalars(select(Case).where(Case.public_id == public_id)).one()


def item_row(database: Database, item_id: int) -> CaseItem:
    with database.transaction() as session:
        return session.get_one(CaseItem, item_id)


def open_cases(database: Database) -> int:
    with database.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Case).where(Case.status == CaseStatus.OPEN)
            )
            or 0
        )


# --- one case per account ------------------------------------------------------------------


def test_records_of_one_account_join_one_case(database: Database, entries: dict[str, int]) -> None:
    first, item1 = record(database, hits=[hit(database, entries["sha"])])
    second, item2 = record(database, content="c-2")
    assert first == second and item1 != item2
    case = load(database, first)
    assert case.account_key == "account:acct-1" and case.platform_account_id == "acct-1"
    assert [i.id for i in case.items] == [item1, item2]
    assert len(case.public_id) == 32 and int(case.public_id, 16) >= 0


def test_other_accounts_get_their_own_cases(database: Database) -> None:
    one, _ = record(database, account="acct-1")
    two, _ = record(database, account="acct-2", content="c-2")
    assert one != two and open_cases(database) == 2


def test_content_key_when_no_account_is_known(database: Database) -> None:
    first, _ = record(database, account=None, content="photo-9")
    again, _ = record(database, account=None, content="photo-9")
    other, _ = record(database, account=None, content="photo-10")
    case = load(database, first)
    assert case.account_key == "content:photo-9" and case.platform_account_id is None
    assert first == again and other != first


def test_a_closed_case_is_not_joined(database: Database) -> None:
    first, _ = record(database)
    with database.transaction(write=True) as session:
        case = session.scalars(select(Case).where(Case.public_id == first)).one()
        case.status, case.closed_at = CaseStatus.DISMISSED, utcnow()
    second, _ = record(database, content="c-2")
    assert second != first and open_cases(database) == 1
    assert load(database, second).account_key == "account:acct-1"


def test_longest_ids_fit_the_key(database: Database) -> None:
    account = "a" * 255
    public_id, _ = record(database, account=account, content="c" * 255)
    assert load(database, public_id).account_key == f"account:{account}"
    content_case, _ = record(database, account=None, content="z" * 255)
    assert load(database, content_case).account_key == "content:" + "z" * 255


# --- priority ------------------------------------------------------------------------------


def test_known_material_has_the_lowest_priority(
    database: Database, entries: dict[str, int]
) -> None:
    public_id, _ = record(database, hits=[hit(database, entries["sha"])])
    case = load(database, public_id)
    assert case.priority == CasePriority.KNOWN and "Known" in case.priority_reason


def test_unknown_material_makes_the_case_likely_new(
    database: Database, entries: dict[str, int]
) -> None:
    public_id, _ = record(database, hits=[hit(database, entries["sha"])])
    record(database, content="c-2", source=RecordSource.USER_REPORT)  # no hit: nothing known
    case = load(database, public_id)
    assert case.priority == CasePriority.LIKELY_NEW and "new" in case.priority_reason


def test_an_escalation_makes_the_case_urgent_and_it_stays_so(
    database: Database, entries: dict[str, int]
) -> None:
    public_id, _ = record(database, source=RecordSource.ESCALATION)
    record(database, content="c-2", hits=[hit(database, entries["sha"])])
    case = load(database, public_id)
    assert (case.priority, case.escalated) == (CasePriority.URGENT, True)
    assert "Escalated" in case.priority_reason


def test_false_positive_items_do_not_keep_a_case_likely_new(
    database: Database, entries: dict[str, int]
) -> None:
    public_id, unknown = record(database, source=RecordSource.USER_REPORT)
    with database.transaction(write=True) as session:
        session.get_one(CaseItem, unknown).status = ItemStatus.FALSE_POSITIVE
    record(database, content="c-2", hits=[hit(database, entries["sha"])])
    assert load(database, public_id).priority == CasePriority.KNOWN


# --- inherited classification --------------------------------------------------------------


def test_classification_inherited_from_the_matched_list_entry(
    database: Database, entries: dict[str, int]
) -> None:
    _, item_id = record(database, hits=[hit(database, entries["sha"])])
    item = item_row(database, item_id)
    assert (item.inherited_classification, item.inherited_from) == ("A1", "list ncmec entry case-1")


def test_no_inheritance_without_a_classified_hit(
    database: Database, entries: dict[str, int]
) -> None:
    _, item_id = record(database, hits=[hit(database, entries["unrated"], "pdq")])
    item = item_row(database, item_id)
    assert item.inherited_classification is None and item.inherited_from is None


def confirm(database: Database, item_id: int, classification: str) -> int:
    """What a reviewer's confirmation leaves in the store."""
    with database.transaction(write=True) as session:
        item = session.get_one(CaseItem, item_id)
        item.status, item.classification, item.decided_at = (
            ItemStatus.CONFIRMED,
            classification,
            utcnow(),
        )
        decision = ReviewDecision(
            case_id=item.case_id, item_id=item.id, kind=DecisionKind.CONFIRM, reviewer="user:alice"
        )
        session.add(decision)
        session.flush()
        return decision.id


def test_classification_inherited_from_an_earlier_decision_on_the_same_sha256(
    database: Database, corpus_images: list[Path]
) -> None:
    sha = fingerprint(corpus_images[5]).sha256
    _, first = record(database, source=RecordSource.USER_REPORT, sha256=sha)
    decision_id = confirm(database, first, "B1")
    public_id, second = record(
        database, account="acct-2", source=RecordSource.USER_REPORT, sha256=sha
    )
    item = item_row(database, second)
    assert (item.inherited_classification, item.inherited_from) == (
        "B1",
        f"decision #{decision_id}",
    )
    assert load(database, public_id).priority == CasePriority.KNOWN
    _, unrelated = record(
        database,
        account="acct-3",
        source=RecordSource.USER_REPORT,
        sha256=fingerprint(corpus_images[6]).sha256,
    )
    assert item_row(database, unrelated).inherited_classification is None


def test_classification_inherited_from_an_earlier_decision_on_the_same_pdq_entry(
    database: Database, entries: dict[str, int]
) -> None:
    _, first = record(database, hits=[hit(database, entries["unrated"], "pdq")])
    decision_id = confirm(database, first, "A2")
    _, second = record(database, account="acct-2", hits=[hit(database, entries["unrated"], "pdq")])
    item = item_row(database, second)
    assert (item.inherited_classification, item.inherited_from) == (
        "A2",
        f"decision #{decision_id}",
    )


def test_a_pending_earlier_item_passes_nothing_on(
    database: Database, corpus_images: list[Path]
) -> None:
    sha = fingerprint(corpus_images[5]).sha256
    record(database, source=RecordSource.USER_REPORT, sha256=sha)
    _, second = record(database, account="acct-2", source=RecordSource.USER_REPORT, sha256=sha)
    assert item_row(database, second).inherited_classification is None


# --- concurrency ---------------------------------------------------------------------------


def test_concurrent_records_of_one_account_open_one_case(database: Database) -> None:
    racers = 4
    barrier = threading.Barrier(racers) if database.backend == "postgresql" else None
    cases: list[str] = []
    errors: list[BaseException] = []

    def attach(index: int) -> None:
        try:
            with database.transaction(write=True) as session:
                saved = save_record(
                    session,
                    source=RecordSource.USER_REPORT,
                    verdict=Verdict.REVIEW,
                    reasons=["test"],
                    submitted_by="key:test",
                    content_id=f"c-{index}",
                    account_id="racer",
                )
                if barrier is not None:
                    barrier.wait(timeout=10)  # every transaction has its record, none a case
                cases.append(attach_record(session, saved).case.public_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=attach, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(cases) == racers and len(set(cases)) == 1
    assert open_cases(database) == 1
    assert len(load(database, cases[0]).items) == racers


def test_account_key_names_the_account_or_the_content(database: Database) -> None:
    with database.transaction(write=True) as session:
        with_account = save_record(
            session,
            source=RecordSource.UPLOAD,
            verdict=Verdict.REVIEW,
            reasons=[],
            submitted_by="k",
            content_id="c",
            account_id="a",
        )
        without = save_record(
            session,
            source=RecordSource.UPLOAD,
            verdict=Verdict.REVIEW,
            reasons=[],
            submitted_by="k",
            content_id="c",
            account_id="",
        )
        assert (account_key(with_account), account_key(without)) == ("account:a", "content:c")
