"""Triage in the store, on both backends: scoring finished reports and stale ones, applying
a new weights version (audited, re-scoring open reports, the same version with other content
refused), overrides that win and are audited, notes that mark a report for re-scoring, and
the queue order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.triage import triage_rows as rows
from vigil.store import Database
from vigil.store.models import (
    AuditRecord,
    Disposition,
    FileVerdict,
    IntakeState,
    Referral,
    ReferralState,
    ReportTriage,
    TriageWeightSet,
    utcnow,
)
from vigil.store.models.audit import AuditAction
from vigil.store.shared.rescoring import mark_for_rescore
from vigil.triage.facts import UnknownReport
from vigil.triage.service import (
    NotTriaged,
    TriageRefused,
    active_weights,
    add_note,
    apply_weights,
    clear_override,
    override_priority,
    score_pending,
    triage_queue,
)
from vigil.triage.weights import WeightsRefused, load_weights, parse_weights

WEIGHTS = load_weights()


def _changed(version: str, old: bytes = b"escalation = 20.0", new: bytes = b"escalation = 0.0"):
    content = WEIGHTS.content.replace(b'version = "2026-12-2"', f'version = "{version}"'.encode())
    return parse_weights(content.replace(old, new))


def _audits(session, action: AuditAction) -> list[AuditRecord]:
    return list(
        session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
        )
    )


def test_finished_reports_are_scored_once_and_only_finished_ones(database: Database) -> None:
    with database.transaction(write=True) as session:
        owner = rows.company(session)
        urgent, quiet = rows.urgent_report(session, owner), rows.quiet_report(session, owner)
        still_open = rows.report(session, owner, state=IntakeState.OPEN)
    with database.transaction(write=True) as session:
        scored = score_pending(session, WEIGHTS)
        assert sorted(scored) == sorted([urgent.id, quiet.id])
        assert score_pending(session, WEIGHTS) == []  # nothing pending any more
        row = session.get(ReportTriage, urgent.id)
        assert row.priority == row.effective_priority == 1 and row.computations == 1
        assert row.weights_version == WEIGHTS.version and not row.stale
        assert {r["name"] for r in row.reasons} >= {"contact", "new_material"}
        assert all(set(r) == {"name", "weight", "value", "points", "detail"} for r in row.reasons)
        assert session.get(ReportTriage, still_open.id) is None
        assert session.get(ReportTriage, quiet.id).priority == 3


def test_a_stale_report_is_rescored_keeping_its_first_time(database: Database) -> None:
    with database.transaction(write=True) as session:
        quiet = rows.quiet_report(session, rows.company(session))
    first = utcnow() - timedelta(minutes=5)
    with database.transaction(write=True) as session:
        score_pending(session, WEIGHTS, now=first)
    with database.transaction(write=True) as session:
        add_note(session, quiet.id, "The child's school says she is in danger now.", "analyst")
        assert session.get(ReportTriage, quiet.id).stale
        assert score_pending(session, WEIGHTS) == [quiet.id]
        row = session.get(ReportTriage, quiet.id)
        assert row.computations == 2 and not row.stale
        assert row.first_computed_at == first and row.computed_at > first
        assert {"analyst_note", "danger_now"} <= {r["name"] for r in row.reasons}
        assert row.priority < 3  # the note lifted the known-only cap


def test_the_limit_bounds_one_poll(database: Database) -> None:
    with database.transaction(write=True) as session:
        owner = rows.company(session)
        for _ in range(5):
            rows.quiet_report(session, owner)
    with database.transaction(write=True) as session:
        assert len(score_pending(session, WEIGHTS, limit=2)) == 2
        assert len(score_pending(session, WEIGHTS, limit=10)) == 3


def test_applying_new_weights_rescores_open_reports_and_is_audited(database: Database) -> None:
    with database.transaction(write=True) as session:
        owner = rows.company(session)
        escalated = rows.report(
            session, owner, rows.document(escalation="urgent"), [(FileVerdict.SEEN, None, [])]
        )
        settled = rows.report(session, owner, rows.document(escalation="urgent"))
        routed = rows.report(session, owner, rows.document(escalation="urgent"))
        score_pending(session, WEIGHTS)
        session.add_all(
            [
                Referral(report_id=settled.id, state=ReferralState.DECLINED, routed_by="t"),
                Referral(report_id=routed.id, state=ReferralState.ROUTED, routed_by="t"),
            ]
        )
        session.flush()
        before = session.get(ReportTriage, escalated.id).score
    lighter = _changed("2026-11-2")
    with database.transaction(write=True) as session:
        assert apply_weights(session, lighter, "operator") == 2  # not the settled one
        row = session.get(ReportTriage, escalated.id)
        assert row.score == pytest.approx(before - WEIGHTS.weights["escalation"])
        assert row.weights_version == "2026-11-2" and row.computations == 2
        assert session.get(ReportTriage, settled.id).weights_version == WEIGHTS.version
        stored = session.get(TriageWeightSet, "2026-11-2")
        assert stored.content == lighter.content and stored.rescored == 2
        [audit] = _audits(session, AuditAction.TRIAGE_WEIGHTS)
        assert audit.actor == "operator" and audit.details["sha256"] == lighter.sha256
        assert active_weights(session).version == "2026-11-2"
    with database.transaction(write=True) as session:
        assert apply_weights(session, lighter, "operator") == 0  # the same file again
        with pytest.raises(WeightsRefused, match="new version"):
            apply_weights(
                session, _changed("2026-11-2", b"contact = 60.0", b"contact = 1.0"), "operator"
            )
        assert len(_audits(session, AuditAction.TRIAGE_WEIGHTS)) == 1


def test_an_override_wins_is_audited_and_survives_rescoring(database: Database) -> None:
    with database.transaction(write=True) as session:
        quiet = rows.quiet_report(session, rows.company(session))
        score_pending(session, WEIGHTS)
        row = override_priority(
            session, quiet.id, 1, "Police called: the child is known.", "analyst"
        )
        assert row.effective_priority == 1 and row.priority == 3
        mark_for_rescore(session, [quiet.id])
        score_pending(session, WEIGHTS)
        row = session.get(ReportTriage, quiet.id)
        assert row.effective_priority == 1 and row.override_by == "analyst"
        assert triage_queue(session, limit=5)[0].report_id == quiet.id
        clear_override(session, quiet.id, "lead")
        assert session.get(ReportTriage, quiet.id).effective_priority == 3
        audits = _audits(session, AuditAction.TRIAGE_OVERRIDE)
        assert [a.actor for a in audits] == ["analyst", "lead"]
        assert audits[0].details["computed"] == 3 and audits[1].details["cleared"]


@pytest.mark.parametrize(
    ("priority", "reason", "words"),
    [
        (0, "why", "1, 2, 3 or 4"),
        (5, "why", "1, 2, 3 or 4"),
        (1, "   ", "say why"),
        (1, "x" * 1001, "longer than"),
    ],
)
def test_bad_overrides_are_refused(
    database: Database, priority: int, reason: str, words: str
) -> None:
    with database.transaction(write=True) as session:
        quiet = rows.quiet_report(session, rows.company(session))
        score_pending(session, WEIGHTS)
        with pytest.raises(TriageRefused, match=words):
            override_priority(session, quiet.id, priority, reason, "analyst")
        assert _audits(session, AuditAction.TRIAGE_OVERRIDE) == []


def test_an_unscored_report_cannot_be_overridden(database: Database) -> None:
    with database.transaction(write=True) as session:
        quiet = rows.quiet_report(session, rows.company(session))
        with pytest.raises(NotTriaged):
            override_priority(session, quiet.id, 1, "why", "analyst")


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_bad_notes_are_refused(database: Database, text: str) -> None:
    with database.transaction(write=True) as session:
        quiet = rows.quiet_report(session, rows.company(session))
        with pytest.raises(TriageRefused):
            add_note(session, quiet.id, text, "analyst")


def test_notes_need_a_finished_report(database: Database) -> None:
    with database.transaction(write=True) as session:
        still_open = rows.report(session, rows.company(session), state=IntakeState.OPEN)
        with pytest.raises(UnknownReport):
            add_note(session, still_open.id, "text", "analyst")


def test_the_queue_orders_by_priority_then_score(database: Database) -> None:
    with database.transaction(write=True) as session:
        owner = rows.company(session)
        quiet = rows.report(session, owner, files=[(FileVerdict.SEEN, "B2", [])])
        urgent = rows.urgent_report(session, owner)
        viral = rows.report(session, owner, files=[(FileVerdict.KNOWN, "B2", ["viral"])])
        bigger = rows.report(session, owner, files=[(FileVerdict.SEEN, "B2", [])] * 30)
        score_pending(session, WEIGHTS)
        entries = triage_queue(session, limit=10)
        assert [e.report_id for e in entries] == [urgent.id, bigger.id, quiet.id, viral.id]
        assert entries[-1].disposition == Disposition.INFORMATIONAL
        assert entries[0].top_reasons(2)[0]["name"] == "contact"
        assert [e.report_id for e in triage_queue(session, limit=2, offset=1)] == [
            bigger.id,
            quiet.id,
        ]
