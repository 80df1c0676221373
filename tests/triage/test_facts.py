"""Gathering facts from the store: the parsed report, the files' verdicts, classifications
and annotations, analysts' labels, viral bundles, links to other reports and companies, and
notes; odd shapes in the parsed form never break it. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.triage import triage_rows as rows
from vigil.clearinghouse.labelling import label_file
from vigil.store import Database
from vigil.store.models import (
    FileVerdict,
    IntakeEntity,
    IntakeEntityLink,
    IntakeIncident,
    IntakeState,
    TriageNote,
    utcnow,
)
from vigil.triage.contact import contact_signs
from vigil.triage.facts import UnknownReport, gather_facts

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_the_report_document_gives_escalation_type_time_victim_and_annotations(
    database: Database,
) -> None:
    with database.transaction(write=True) as session:
        owner = rows.company(session)
        parsed = rows.document(
            incident_type=rows.ENTICEMENT,
            escalation="  she is 12  ",
            when=NOW - timedelta(days=2),
            annotations=["sextortion"],
            victim=True,
        )
        report = rows.report(
            session,
            owner,
            parsed,
            [
                (FileVerdict.NEW, None, ["infant", "liveStreaming"]),
                (FileVerdict.KNOWN, "A2", []),
            ],
        )
        report.files[0].details["fileDetails"]["industryClassification"] = "B1"
        facts = gather_facts(session, report.id, NOW)
    assert facts.escalation == "she is 12"
    assert facts.incident_type == rows.ENTICEMENT
    assert facts.incident_time == NOW - timedelta(days=2)
    assert facts.victim and facts.report_annotations == {"sextortion"}
    assert [f.verdict for f in facts.files] == [FileVerdict.NEW, FileVerdict.KNOWN]
    assert facts.files[0].annotations == {"infant", "liveStreaming"}
    assert facts.files[0].classification == "B1"  # the reporter's own classification
    assert facts.files[1].classification == "A2"
    assert len(contact_signs(facts).signs) == 3


def test_an_analysts_label_is_recognised(database: Database) -> None:
    with database.transaction(write=True) as session:
        report = rows.report(session, rows.company(session), files=[(FileVerdict.NEW, None, [])])
        label_file(session, report.files[0].id, "A1", actor="analyst")
        facts = gather_facts(session, report.id, NOW)
    assert facts.files[0].verdict is FileVerdict.KNOWN
    assert facts.files[0].classification == "A1" and facts.files[0].analyst_label


def test_links_count_other_reports_and_other_companies(database: Database) -> None:
    with database.transaction(write=True) as session:
        mine, other, third = (rows.company(session, name) for name in ("A", "B", "C"))
        report = rows.report(session, mine, files=[(FileVerdict.SEEN, None, [])])
        same_company = rows.report(session, mine)
        by_entity = rows.report(session, other)
        by_file = rows.report(session, third)
        rows.add_file(session, by_file, FileVerdict.SEEN, sha256=report.files[0].sha256)
        retracted = rows.report(session, other, state=IntakeState.RETRACTED)
        entity = IntakeEntity(kind="email", value="suspect@example.net")
        session.add(entity)
        session.flush()
        for linked in (report, same_company, by_entity, retracted):
            session.add(IntakeEntityLink(entity_id=entity.id, report_id=linked.id))
        session.flush()
        facts = gather_facts(session, report.id, NOW)
    assert facts.linked_reports == 3  # not the retracted one
    assert facts.other_companies == 2  # B and C; its own company does not count


def test_known_files_shared_with_other_reports_are_not_links(database: Database) -> None:
    with database.transaction(write=True) as session:
        report = rows.report(session, rows.company(session), files=[(FileVerdict.KNOWN, "B2", [])])
        other = rows.report(session, rows.company(session, "Other"))
        rows.add_file(session, other, FileVerdict.KNOWN, "B2", sha256=report.files[0].sha256)
        assert gather_facts(session, report.id, NOW).linked_reports == 0


def test_the_viral_bundle_and_notes_are_read(database: Database) -> None:
    with database.transaction(write=True) as session:
        report = rows.report(session, rows.company(session))
        incident = IntakeIncident(sha256="a" * 64, report_count=37)
        session.add(incident)
        session.flush()
        report.incident_id = incident.id
        session.add_all(
            [
                TriageNote(report_id=report.id, author="a", text="first"),
                TriageNote(report_id=report.id, author="b", text="Imminent!"),
            ]
        )
        session.flush()
        facts = gather_facts(session, report.id, NOW)
    assert facts.viral_bundle_size == 37
    assert facts.note_texts == ("first", "Imminent!")


@pytest.mark.parametrize(
    "parsed",
    [
        {},
        {"report": "text"},
        {"report": []},
        {"report": {"incidentSummary": "x"}},
        {"report": {"incidentSummary": [{"incidentType": ["a", "b"]}, {}]}},
        {
            "report": {
                "incidentSummary": {
                    "incidentDateTime": "not a date",
                    "escalateToHighPriority": {"#text": "x", "@lang": "en"},
                    "reportAnnotations": "sextortion",
                }
            }
        },
        {"report": {"incidentSummary": {"incidentDateTime": "9" * 500}}},
        {"other": {"incidentSummary": {"incidentType": rows.ENTICEMENT}}},
    ],
)
def test_odd_shapes_in_the_parsed_form_never_break_gathering(
    database: Database, parsed: dict
) -> None:
    with database.transaction(write=True) as session:
        report = rows.report(session, rows.company(session), parsed)
        odd = rows.add_file(session, report, FileVerdict.NEW)
        odd.details = {
            "fileDetails": {"fileAnnotations": ["infant"], "industryClassification": {"x": 1}}
        }
        session.flush()
        facts = gather_facts(session, report.id, NOW)
    assert facts.report_id == report.id
    assert facts.incident_time is None or facts.incident_time.tzinfo is not None


def test_an_unknown_report_is_refused(database: Database) -> None:
    with database.transaction() as session, pytest.raises(UnknownReport):
        gather_facts(session, 10**12, utcnow())
