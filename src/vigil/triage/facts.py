"""The facts triage scores, read from the store only: the report as the typed reader reads
it (vigil.reporting.cybertipline.received, as the console and the agencies do), its files'
verdicts, classifications, annotations and relevance, its free text (additional information,
chat excerpts), its viral bundle and how far it spread, the reports and companies it links to,
and analysts' notes. Nothing here judges; scoring.py does, from these facts alone.

The clearinghouse package is a sibling and is not imported: links come from
vigil.store.shared.report_links (shared entities, shared new or seen files)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.reporting.cybertipline.model import FileAnnotations
from vigil.reporting.cybertipline.received import (
    ReceivedFileDetails,
    ReceivedReport,
    flag_names,
    read_file_details,
    read_report,
)
from vigil.store.errors import StoreError
from vigil.store.models import (
    FileVerdict,
    HashList,
    IntakeFile,
    IntakeIncident,
    IntakeReport,
    ListEntry,
    TriageNote,
)
from vigil.store.shared.report_links import shared_with
from vigil.store.shared.vocabulary import CLEARINGHOUSE_LABELS_LIST, FILE_ANNOTATIONS

ANALYSTS_LABELS_LIST = CLEARINGHOUSE_LABELS_LIST  # an entry there is an analyst's label
MAX_NOTES_READ = 200
MAX_TEXT = 3000  # the schema's limit for most free-text fields
MAX_TEXTS = 40  # free-text fields read from one report
MAX_BUNDLE_READ = 5000  # reports of one viral incident read for its spread
SUPPLEMENTAL = "Supplemental Reported"  # fileRelevance: context, not the reported material


class UnknownReport(StoreError, LookupError):
    pass


@dataclass(frozen=True)
class FileFacts:
    verdict: FileVerdict | None
    classification: str | None
    annotations: frozenset[str] = frozenset()
    analyst_label: bool = False  # the classification comes from a clearinghouse label
    supplemental: bool = False  # fileRelevance "Supplemental Reported": context, e.g. a chat


@dataclass(frozen=True)
class ReportFacts:
    """What is known about one report at ``now``."""

    report_id: int
    now: datetime
    escalation: str = ""
    incident_type: str = ""
    incident_time: datetime | None = None
    received_at: datetime | None = None  # when the company finished it: its text's "now"
    report_annotations: frozenset[str] = frozenset()
    victim: bool = False
    batched: bool = False
    files: tuple[FileFacts, ...] = ()
    viral_bundle_size: int = 0  # reports in its viral incident; 0: in none
    bundle_companies: int = 0  # distinct companies among them (this one's included)
    bundle_linked: int = 0  # of them, reports sharing an account or identifier with this one
    linked_reports: int = 0  # other live reports sharing an account, identifier or file
    entity_linked: int = 0  # of them, those sharing an account or identifier
    other_companies: int = 0  # distinct other companies among the linked reports
    entity_companies: int = 0  # ... among the reports sharing an account or identifier
    texts: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (where, free text)
    note_texts: tuple[str, ...] = field(default=(), repr=False)  # analysts' notes, oldest first

    def count(self, verdict: FileVerdict) -> int:
        return sum(1 for file in self.files if file.verdict is verdict)

    def annotated(self, annotation: str) -> int:
        return sum(1 for file in self.files if annotation in file.annotations)


def gather_facts(session: Session, report_id: int, now: datetime) -> ReportFacts:
    """The facts of report ``report_id`` as the store holds them at ``now``."""
    report = session.get(IntakeReport, report_id)
    if report is None:
        raise UnknownReport(f"no report with id {report_id}")
    document = read_report(report.parsed, report.raw_xml)
    summary = document.incident_summary
    links = _links(session, report)
    bundle = _bundle(session, report.incident_id, links.entity_ids)
    files = [(file, read_file_details(file.details, file.details_xml)) for file in report.files]
    return ReportFacts(
        report_id=report.id,
        now=now,
        escalation=(summary.escalate_to_high_priority or "")[:MAX_TEXT],
        incident_type=(summary.incident_type or "")[:200],
        incident_time=summary.incident_date_time,
        received_at=report.finished_at,
        report_annotations=frozenset(flag_names(summary.report_annotations)),
        victim=bool(document.victim),
        batched=report.batched,
        files=tuple(_file_facts(session, files)),
        viral_bundle_size=bundle[0],
        bundle_companies=bundle[1],
        bundle_linked=bundle[2],
        linked_reports=links.reports,
        entity_linked=len(links.entity_ids),
        other_companies=links.companies,
        entity_companies=links.entity_companies,
        texts=free_texts(document, [details for _, details in files]),
        note_texts=_note_texts(session, report_id),
    )


def free_texts(
    document: ReceivedReport, files: Iterable[ReceivedFileDetails]
) -> tuple[tuple[str, str], ...]:
    """(where, text) for every free-text field a person wrote in the report, besides the
    escalation: additional information, the incident time's description, chat, e-mail and
    game content, the people's and the files' additional information."""
    summary = document.incident_summary
    found = [
        ("additional information", document.additional_info),
        ("incident time", summary.incident_date_time_description),
    ]
    for details in document.internet_details:
        incident = details.incident
        found.append(("incident content", getattr(incident, "content", None)))
        found.append(("incident information", incident.additional_info))
    for section, people in (
        ("reported person", document.person_or_user_reported),
        ("victim", document.victim),
    ):
        found += [(section, person.additional_info) for person in people]
    for recipient in document.intended_recipient:
        found += [("intended recipient", text) for text in recipient.additional_info]
    for file in files:
        found += [("file information", text) for text in file.additional_info]
    texts = ((where, text.strip()[:MAX_TEXT]) for where, text in found if isinstance(text, str))
    return tuple((where, text) for where, text in texts if text)[:MAX_TEXTS]


# --- a file's details ----------------------------------------------------------------------

# The older <potentialMeme> element says what the fileAnnotations flag of that name says.
_POTENTIAL_MEME = flag_names(FileAnnotations(potential_meme=True))[0]


def _file_annotations(details: ReceivedFileDetails) -> frozenset[str]:
    flags = set(flag_names(details.file_annotations)) & set(FILE_ANNOTATIONS)
    if details.potential_meme:  # the older element
        flags.add(_POTENTIAL_MEME)
    return frozenset(flags)


# --- the store -----------------------------------------------------------------------------


def _file_facts(
    session: Session, files: list[tuple[IntakeFile, ReceivedFileDetails]]
) -> Iterable[FileFacts]:
    labelled = _analyst_labelled(
        session, [f.matched_entry_id for f, _ in files if f.matched_entry_id is not None]
    )
    for file, details in files:
        yield FileFacts(
            verdict=file.verdict,
            classification=file.classification or details.industry_classification or None,
            annotations=_file_annotations(details),
            analyst_label=file.matched_entry_id in labelled,
            supplemental=details.file_relevance == SUPPLEMENTAL,
        )


def _analyst_labelled(session: Session, entry_ids: list[int]) -> set[int]:
    if not entry_ids:
        return set()
    return set(
        session.scalars(
            select(ListEntry.id)
            .join(HashList, HashList.id == ListEntry.list_id)
            .where(ListEntry.id.in_(entry_ids[:1000]), HashList.name == ANALYSTS_LABELS_LIST)
        )
    )


def _bundle(
    session: Session, incident_id: int | None, entity_ids: set[int]
) -> tuple[int, int, int]:
    """(reports in the viral incident, their distinct companies, how many of them share an
    account or identifier with this report); zeros outside incidents."""
    if incident_id is None:
        return 0, 0, 0
    incident = session.get(IntakeIncident, incident_id)
    if incident is None:
        return 0, 0, 0
    members = session.execute(
        select(IntakeReport.id, IntakeReport.company_id)
        .where(IntakeReport.incident_id == incident_id)
        .limit(MAX_BUNDLE_READ)
    ).all()
    companies = len({company for _, company in members})
    return int(incident.report_count), companies, len({id_ for id_, _ in members} & entity_ids)


@dataclass(frozen=True)
class _Links:
    reports: int  # other live reports sharing an entity or a new/seen file
    companies: int  # their distinct companies other than this report's own
    entity_ids: set[int]  # those sharing an account or identifier (not only a file)
    entity_companies: int  # their distinct other companies


def _links(session: Session, report: IntakeReport) -> _Links:
    linked = shared_with(session, report.id, near_copies=False)
    if not linked:
        return _Links(0, 0, set(), 0)
    by_entity = {other for other, shared in linked.items() if any(s.kind != "file" for s in shared)}
    company_of = dict(
        session.execute(
            select(IntakeReport.id, IntakeReport.company_id).where(
                IntakeReport.id.in_(list(linked))
            )
        ).all()
    )
    others = {company for company in company_of.values() if company != report.company_id}
    entity_others = {company_of[id_] for id_ in by_entity if id_ in company_of} - {
        report.company_id
    }
    return _Links(len(linked), len(others), by_entity, len(entity_others))


def _note_texts(session: Session, report_id: int) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(TriageNote.text)
            .where(TriageNote.report_id == report_id)
            .order_by(TriageNote.id)
            .limit(MAX_NOTES_READ)
        )
    )
