"""The facts triage scores, read from the store only: the report as the typed reader reads
it (vigil.reporting.cybertipline.received, as the console and the agencies do), its files'
verdicts, classifications and annotations, its viral bundle, the reports and companies it
links to, and analysts' notes. Nothing here judges; scoring.py does, from these facts alone.

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
MAX_TEXT = 2000

# Incident types and report annotations that mean someone was in contact with a child.
CONTACT_INCIDENT_TYPES = frozenset(
    {
        "Online Enticement of Children for Sexual Acts",
        "Child Sex Trafficking",
        "Child Sexual Molestation",
        "Child Sex Tourism",
        "Unsolicited Obscene Material Sent to a Child",
    }
)
CONTACT_REPORT_ANNOTATIONS = frozenset(
    {
        "sextortion",
        "sadisticOnlineExploitation",
        "csamSolicitation",
    }
)


class UnknownReport(StoreError, LookupError):
    pass


@dataclass(frozen=True)
class FileFacts:
    verdict: FileVerdict | None
    classification: str | None
    annotations: frozenset[str] = frozenset()
    analyst_label: bool = False  # the classification comes from a clearinghouse label


@dataclass(frozen=True)
class ReportFacts:
    """What is known about one report at ``now``."""

    report_id: int
    now: datetime
    escalation: str = ""
    incident_type: str = ""
    incident_time: datetime | None = None
    report_annotations: frozenset[str] = frozenset()
    victim: bool = False
    batched: bool = False
    files: tuple[FileFacts, ...] = ()
    viral_bundle_size: int = 0  # reports in its viral incident; 0: in none
    linked_reports: int = 0
    other_companies: int = 0
    note_texts: tuple[str, ...] = field(default=(), repr=False)  # analysts' notes, oldest first

    @property
    def contact_signals(self) -> list[str]:
        """Plain descriptions of every sign of contact with a child."""
        signals = []
        if self.incident_type in CONTACT_INCIDENT_TYPES:
            signals.append(f"incident type {self.incident_type}")
        signals += [
            f"report annotated {name}"
            for name in sorted(self.report_annotations & CONTACT_REPORT_ANNOTATIONS)
        ]
        if self.victim:
            signals.append("a victim is named in the report")
        return signals

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
    linked, companies = _links(session, report)
    texts = _note_texts(session, report_id)
    return ReportFacts(
        report_id=report.id,
        now=now,
        escalation=(summary.escalate_to_high_priority or "")[:MAX_TEXT],
        incident_type=(summary.incident_type or "")[:200],
        incident_time=summary.incident_date_time,
        report_annotations=frozenset(flag_names(summary.report_annotations)),
        victim=bool(document.victim),
        batched=report.batched,
        files=tuple(_file_facts(session, report.files)),
        viral_bundle_size=_bundle_size(session, report.incident_id),
        linked_reports=linked,
        other_companies=companies,
        note_texts=texts,
    )


# --- a file's details ----------------------------------------------------------------------

# The older <potentialMeme> element says what the fileAnnotations flag of that name says.
_POTENTIAL_MEME = flag_names(FileAnnotations(potential_meme=True))[0]


def _file_annotations(details: ReceivedFileDetails) -> frozenset[str]:
    flags = set(flag_names(details.file_annotations)) & set(FILE_ANNOTATIONS)
    if details.potential_meme:  # the older element
        flags.add(_POTENTIAL_MEME)
    return frozenset(flags)


# --- the store -----------------------------------------------------------------------------


def _file_facts(session: Session, files: list[IntakeFile]) -> Iterable[FileFacts]:
    labelled = _analyst_labelled(
        session, [f.matched_entry_id for f in files if f.matched_entry_id is not None]
    )
    for file in files:
        details = read_file_details(file.details, file.details_xml)
        yield FileFacts(
            verdict=file.verdict,
            classification=file.classification or details.industry_classification or None,
            annotations=_file_annotations(details),
            analyst_label=file.matched_entry_id in labelled,
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


def _bundle_size(session: Session, incident_id: int | None) -> int:
    if incident_id is None:
        return 0
    incident = session.get(IntakeIncident, incident_id)
    return int(incident.report_count) if incident is not None else 0


def _links(session: Session, report: IntakeReport) -> tuple[int, int]:
    """(other live reports sharing an entity or a new/seen file, their distinct companies
    other than this report's own)."""
    linked = list(shared_with(session, report.id, near_copies=False))
    if not linked:
        return 0, 0
    companies = set(
        session.scalars(
            select(IntakeReport.company_id).distinct().where(IntakeReport.id.in_(linked))
        )
    )
    return len(linked), len(companies - {report.company_id})


def _note_texts(session: Session, report_id: int) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(TriageNote.text)
            .where(TriageNote.report_id == report_id)
            .order_by(TriageNote.id)
            .limit(MAX_NOTES_READ)
        )
    )
