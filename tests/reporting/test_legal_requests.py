"""Law-enforcement requests: recording (the document sealed under a hold), default
deadlines, links that extend holds, the dashboard (emergencies first, overdue flagged, time
to answer) and hostile input. SQLite and PostgreSQL, real vault."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.reporting.filed_report import (
    ACCOUNT,
    PRESERVATION_DAYS,
    FiledEnv,
    OpenedCase,
    filed_env,
    finished_report,
    open_case,
)
from vigil.reporting.legal_requests import dashboard, link_request, mark_answered, record_request
from vigil.reporting.preservation import on_report_filed
from vigil.reporting.preservation_errors import (
    InvalidRequest,
    RequestNotOpen,
    UnknownReport,
    UnknownRequest,
)
from vigil.store import Database
from vigil.store.evidence import active_holds
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    CustodyEvent,
    EvidenceItem,
    HoldKind,
    LegalRequest,
    LegalRequestKind,
    LegalRequestLink,
    LegalRequestStatus,
    utcnow,
)

ACTOR = "user:legal"
EMERGENCY_HOURS = 2
DUE_DAYS = 10
T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[FiledEnv]:
    with filed_env(
        database,
        tmp_path,
        corpus_images,
        emergency_due_hours=EMERGENCY_HOURS,
        request_due_days=DUE_DAYS,
    ) as made:
        yield made


def record(
    env: FiledEnv,
    kind: str,
    *,
    received_at: datetime = T0,
    now: datetime = T0 + timedelta(minutes=1),
    **fields: object,
) -> LegalRequest:
    with env.database.session(write=True) as session:
        return record_request(
            session,
            agency="County Sheriff",
            agency_case_number="CR-2026-17",
            kind=kind,
            settings=env.settings,
            actor=ACTOR,
            received_at=received_at,
            vault=env.vault,
            now=now,
            **fields,
        )  # type: ignore[arg-type]


def test_default_deadlines_come_from_the_settings(env: FiledEnv) -> None:
    emergency = record(env, "emergency")
    subpoena = record(env, "subpoena")
    given = record(env, "warrant", due_at=T0 + timedelta(days=3))
    assert emergency.due_at == T0 + timedelta(hours=EMERGENCY_HOURS)
    assert subpoena.due_at == T0 + timedelta(days=DUE_DAYS)
    assert given.due_at == T0 + timedelta(days=3)
    with env.database.session() as session:
        audited = session.scalars(
            select(AuditRecord).where(AuditRecord.subject_type == "legal_request")
        ).all()
    assert {a.subject_id for a in audited} == {
        emergency.public_id,
        subpoena.public_id,
        given.public_id,
    }
    assert {a.action for a in audited} == {AuditAction.REPORT}


def test_dashboard_puts_emergencies_first_and_flags_overdue(env: FiledEnv) -> None:
    subpoena = record(env, "subpoena")  # due T0 + 10 days
    warrant = record(env, "warrant", due_at=T0 + timedelta(days=1))
    late_emergency = record(
        env, "emergency", received_at=T0 + timedelta(days=2), now=T0 + timedelta(days=2)
    )
    emergency = record(env, "emergency")  # due T0 + 2 h
    now = T0 + timedelta(hours=3)
    with env.database.session() as session:
        board = dashboard(session, now)
    order = [row.public_id for row in board.open_requests]
    assert order == [
        emergency.public_id,
        late_emergency.public_id,
        warrant.public_id,
        subpoena.public_id,
    ]
    first = board.open_requests[0]
    assert first.overdue and first.time_left == timedelta(hours=-1)
    assert [row.overdue for row in board.open_requests] == [True, False, False, False]
    assert board.overdue == 1
    assert board.open_requests[2].time_left == timedelta(days=1, hours=-3)


def test_answering_leaves_the_dashboard_and_counts_time_to_answer(env: FiledEnv) -> None:
    quick = record(env, "subpoena")
    slow = record(env, "emergency")
    record(env, "warrant")
    with env.database.session(write=True) as session:
        mark_answered(
            session,
            quick.public_id,
            actor=ACTOR,
            now=T0 + timedelta(days=1),
            handed_over_sha256="ab" * 32,
        )
        mark_answered(session, slow.public_id, actor=ACTOR, now=T0 + timedelta(hours=5))
        with pytest.raises(RequestNotOpen):
            mark_answered(session, quick.public_id, actor=ACTOR)
        board = dashboard(session, T0 + timedelta(days=2))
        custody = session.scalars(select(CustodyEvent)).all()
    assert len(board.open_requests) == 1
    stats = board.answers
    assert stats.answered == 2 and stats.late == 1  # the emergency took 5 h of its 2
    assert stats.mean == timedelta(hours=(24 + 5) / 2)
    assert stats.longest == timedelta(days=1)
    assert [(event.action, event.sha256) for event in custody] == [("handed_over", "ab" * 32)]


def test_the_legal_document_is_sealed_under_a_preservation_hold(env: FiledEnv) -> None:
    document = b"%PDF-1.4 court order for account acct-7 " * 20
    request = record(env, "warrant", document=document, now=utcnow(), received_at=utcnow())
    assert request.document_evidence_id is not None
    with env.database.session() as session:
        assert env.vault.get(session, request.document_evidence_id) == document
        item = session.get_one(EvidenceItem, request.document_evidence_id)
        holds = active_holds(session, item.id, utcnow())
    assert b"court order" not in env.vault.backend.read(item.blob_id)
    assert [hold.kind for hold in holds] == [HoldKind.PRESERVATION_REQUEST]


def preserved(env: FiledEnv) -> tuple[OpenedCase, str]:
    case = open_case(env)
    report_id = finished_report(env, case)
    with env.database.session(write=True) as session:
        on_report_filed(session, report_id, settings=env.settings, actor=ACTOR, vault=env.vault)
    return case, report_id


def test_linking_a_report_extends_every_hold(env: FiledEnv) -> None:
    case, report_id = preserved(env)
    now = utcnow()
    request = record(env, "preservation", received_at=now, now=now)
    with env.database.session() as session:
        before = {
            item: max(h.expires_at for h in active_holds(session, item, now))
            for item in (case.reported_evidence, case.pending_evidence)
        }
    with env.database.session(write=True) as session:
        result = link_request(
            session,
            request.public_id,
            report_public_id=report_id,
            actor=ACTOR,
            settings=env.settings,
            now=now,
        )
    extended = {hold.item_id: hold.expires_at for hold in result.extended}
    assert set(before) <= set(extended)
    for item_id, expiry in before.items():
        assert extended[item_id] == expiry + timedelta(days=PRESERVATION_DAYS)
    with env.database.session() as session:
        kinds = {h.kind for h in active_holds(session, case.pending_evidence, now)}
        link = session.scalars(select(LegalRequestLink)).one()
    assert kinds == {HoldKind.REPORT, HoldKind.PRESERVATION_REQUEST}
    assert link.report_id is not None and link.account_id is None


def test_linking_an_account_extends_its_evidence_and_reports(env: FiledEnv) -> None:
    case, report_id = preserved(env)
    now = utcnow()
    request = record(env, "subpoena", received_at=now, now=now)
    with env.database.session(write=True) as session:
        result = link_request(
            session, request, account_id=ACCOUNT, actor=ACTOR, settings=env.settings, now=now
        )
        nothing = link_request(
            session,
            request,
            account_id="unknown-account",
            actor=ACTOR,
            settings=env.settings,
            now=now,
        )
    ids = {hold.item_id for hold in result.extended}
    assert {case.reported_evidence, case.pending_evidence} <= ids
    with env.database.session() as session:  # the package, found through the account
        manifest = session.scalars(
            select(EvidenceItem.id).where(EvidenceItem.reference == f"report-package:{report_id}")
        ).one()
    assert manifest in ids
    assert nothing.extended == () and nothing.account_id == "unknown-account"


def test_hostile_and_malformed_requests_are_refused(env: FiledEnv) -> None:
    bad: list[dict[str, object]] = [
        {"agency": ""},
        {"agency": "x" * 301},
        {"agency": "Sheriff\x00"},
        {"agency_case_number": "  "},
        {"kind": "rumour"},
        {"received_at": datetime(2026, 5, 4, 9)},  # naive
        {"received_at": T0, "due_at": T0 - timedelta(hours=1)},
        {"received_at": T0 + timedelta(days=30)},  # in the future
        {"notes": "n" * 10_001},
        {"document": b""},
        {"actor": ""},
    ]
    for override in bad:
        fields: dict[str, object] = {
            "agency": "County Sheriff",
            "agency_case_number": "CR-1",
            "kind": "warrant",
            "settings": env.settings,
            "actor": ACTOR,
            "vault": env.vault,
            "now": T0,
            **override,
        }
        with env.database.session(write=True) as session, pytest.raises(InvalidRequest):
            record_request(session, **fields)  # type: ignore[arg-type]
    with env.database.session(write=True) as session:
        assert session.scalars(select(LegalRequest)).all() == []
        request = record_request(
            session,
            agency="A",
            agency_case_number="1",
            kind="warrant",
            settings=env.settings,
            actor=ACTOR,
            now=T0,
        )
        with pytest.raises(InvalidRequest, match="link a report"):
            link_request(session, request, actor=ACTOR, settings=env.settings)
        with pytest.raises(UnknownReport):
            link_request(
                session, request, report_public_id="f" * 32, actor=ACTOR, settings=env.settings
            )
        with pytest.raises(InvalidRequest):
            link_request(session, request, account_id="a" * 256, actor=ACTOR, settings=env.settings)
        with pytest.raises(UnknownRequest):
            link_request(session, "nope", account_id="a", actor=ACTOR, settings=env.settings)
        with pytest.raises(InvalidRequest):
            mark_answered(session, request, actor=ACTOR, handed_over_sha256="not-a-hash")
        assert session.get_one(LegalRequest, request.id).status is LegalRequestStatus.OPEN


def test_request_kind_values_are_the_four_documented(env: FiledEnv) -> None:
    assert {kind.value for kind in LegalRequestKind} == {
        "preservation",
        "subpoena",
        "warrant",
        "emergency",
    }
