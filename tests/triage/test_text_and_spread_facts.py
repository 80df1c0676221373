"""Gathering the facts issue 20 added: every free-text field of the report (additional
information, chat content, the people's and files' notes), a file's relevance (supplemental
or reported), when the report was received, and how far a viral file spread: companies in
the bundle and bundle reports sharing an account with this one. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.triage import triage_rows as rows
from vigil.store import Database
from vigil.store.models import FileVerdict, IntakeEntity, IntakeEntityLink, IntakeIncident
from vigil.triage.facts import MAX_TEXTS, gather_facts
from vigil.triage.scoring import score
from vigil.triage.weights import load_weights

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _with_texts() -> dict[str, Any]:
    parsed = rows.document(incident_type=rows.ENTICEMENT, when=NOW - timedelta(days=1))
    body = parsed["report"]
    body["additionalInfo"] = "  The user lives with the child.  "
    body["incidentSummary"]["incidentDateTimeDescription"] = "Last contact 2 days ago."
    body["internetDetails"] = {
        "chatImIncident": {"content": "see you tonight", "additionalInfo": "chat excerpt"}
    }
    body["personOrUserReported"] = {"additionalInfo": "previously banned"}
    body["intendedRecipient"] = {"additionalInfo": ["first", "second"]}
    return parsed


def test_every_free_text_field_is_read_with_where_it_was_found(database: Database) -> None:
    with database.transaction(write=True) as session:
        report = rows.report(session, rows.company(session), _with_texts())
        file = rows.add_file(session, report, FileVerdict.NEW)
        file.details = {"fileDetails": {"additionalInfo": ["screenshot of the chat"]}}
        session.flush()
        session.refresh(report)
        facts = gather_facts(session, report.id, NOW)
    assert facts.texts == (
        ("additional information", "The user lives with the child."),
        ("incident time", "Last contact 2 days ago."),
        ("incident content", "see you tonight"),
        ("incident information", "chat excerpt"),
        ("reported person", "previously banned"),
        ("intended recipient", "first"),
        ("intended recipient", "second"),
        ("file information", "screenshot of the chat"),
    )
    assert facts.received_at == report.finished_at
    reasons = {r.name: r.detail for r in score(facts, load_weights()).reasons}
    assert '"lives with the child"' in reasons["danger_now"]
    assert "reported person" in reasons["serious"]


def test_text_fields_are_bounded_in_number_and_length(database: Database) -> None:
    parsed = rows.document()
    parsed["report"]["intendedRecipient"] = {"additionalInfo": ["x" * 10_000] * 500}
    parsed["report"]["additionalInfo"] = {"#text": "odd", "@lang": "en"}
    with database.transaction(write=True) as session:
        report = rows.report(session, rows.company(session), parsed)
        facts = gather_facts(session, report.id, NOW)
    assert len(facts.texts) <= MAX_TEXTS
    assert all(len(text) <= 3000 for _, text in facts.texts)


@pytest.mark.parametrize(
    ("relevance", "supplemental"),
    [("Supplemental Reported", True), ("Reported", False), (None, False), ("bogus", False)],
)
def test_a_files_relevance_says_whether_it_is_supplemental(
    database: Database, relevance: str | None, supplemental: bool
) -> None:
    with database.transaction(write=True) as session:
        report = rows.report(session, rows.company(session), files=[(FileVerdict.NEW, None, [])])
        file = report.files[0]
        if relevance is not None:
            file.details = {"fileDetails": {"fileRelevance": relevance}}
        session.flush()
        facts = gather_facts(session, report.id, NOW)
    assert facts.files[0].supplemental is supplemental


def test_the_bundle_spread_counts_companies_and_reports_sharing_an_account(
    database: Database,
) -> None:
    with database.transaction(write=True) as session:
        first, second, third = (rows.company(session, name) for name in ("A", "B", "C"))
        incident = IntakeIncident(sha256="b" * 64, report_count=4)
        session.add(incident)
        session.flush()
        members = [rows.report(session, owner) for owner in (first, first, second, third)]
        for member in members:
            member.incident_id = incident.id
        entity = IntakeEntity(kind="screen_name", value="associate")
        session.add(entity)
        session.flush()
        for linked in members[:2]:
            session.add(IntakeEntityLink(entity_id=entity.id, report_id=linked.id))
        session.flush()
        facts = gather_facts(session, members[0].id, NOW)
    assert (facts.viral_bundle_size, facts.bundle_companies, facts.bundle_linked) == (4, 3, 1)
    assert facts.entity_linked == 1 and facts.entity_companies == 0


def test_reports_sharing_only_a_file_are_links_but_not_by_account(database: Database) -> None:
    with database.transaction(write=True) as session:
        report = rows.report(session, rows.company(session), files=[(FileVerdict.SEEN, None, [])])
        other = rows.report(session, rows.company(session, "Other"))
        rows.add_file(session, other, FileVerdict.SEEN, sha256=report.files[0].sha256)
        facts = gather_facts(session, report.id, NOW)
    assert (facts.linked_reports, facts.other_companies) == (1, 1)
    assert (facts.entity_linked, facts.entity_companies, facts.viral_bundle_size) == (0, 0, 0)
