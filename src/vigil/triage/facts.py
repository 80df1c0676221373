"""The facts triage scores, read from the store only: the report as parsed, its files'
verdicts, classifications and annotations, its viral bundle, the reports and companies it
links to, and analysts' notes. Nothing here judges; scoring.py does, from these facts alone.

The clearinghouse package is a sibling and is not imported: links come from
vigil.store.report_links (shared entities, shared new or seen files)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from vigil.store.report_links import shared_with
from vigil.store.vocabulary import CLEARINGHOUSE_LABELS_LIST, FILE_ANNOTATIONS

ANALYSTS_LABELS_LIST = CLEARINGHOUSE_LABELS_LIST  # an entry there is an analyst's label
MAX_NOTES_READ = 200
MAX_TEXT = 2000

# Incident types and report annotations that mean someone was in contact with a child.
CONTACT_INCIDENT_TYPES = frozenset({
    "Online Enticement of Children for Sexual Acts",
    "Child Sex Trafficking",
    "Child Sexual Molestation",
    "Child Sex Tourism",
    "Unsolicited Obscene Material Sent to a Child",
})
CONTACT_REPORT_ANNOTATIONS = frozenset({
    "sextortion", "sadisticOnlineExploitation", "csamSolicitation",
})


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
        signals += [f"report annotated {name}"
                    for name in sorted(self.report_annotations & CONTACT_REPORT_ANNOTATIONS)]
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
    summary = _section(_body(report.parsed), "incidentSummary")
    linked, companies = _links(session, report)
    texts = _note_texts(session, report_id)
    return ReportFacts(
        report_id=report.id, now=now,
        escalation=_text(summary.get("escalateToHighPriority"))[:MAX_TEXT],
        incident_type=_text(summary.get("incidentType"))[:200],
        incident_time=_when(summary.get("incidentDateTime")),
        report_annotations=_flags(summary.get("reportAnnotations")),
        victim="victim" in _body(report.parsed),
        batched=report.batched,
        files=tuple(_file_facts(session, report.files)),
        viral_bundle_size=_bundle_size(session, report.incident_id),
        linked_reports=linked, other_companies=companies,
        note_texts=texts,
    )


# --- the parsed document -------------------------------------------------------------------


def _body(parsed: Any) -> Mapping[str, Any]:
    """The <report> content of IntakeReport.parsed ({"report": {...}})."""
    if not isinstance(parsed, Mapping) or not parsed:
        return {}
    body = parsed.get("report", next(iter(parsed.values())))
    return body if isinstance(body, Mapping) else {}


def _section(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = body.get(name)
    if isinstance(value, list):  # repeated where the schema says once: take the first
        value = value[0] if value else {}
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, Mapping):
        value = value.get("#text", "")
    return value.strip() if isinstance(value, str) else ""


def _flags(value: Any) -> frozenset[str]:
    """Present boolean elements (fixed="true" in the schema, so presence means yes)."""
    if not isinstance(value, Mapping):
        return frozenset()
    return frozenset(str(name)[:64] for name, flag in value.items()
                     if not str(name).startswith(("@", "#"))
                     and _text(flag).lower() not in ("false", "0"))


def _when(value: Any) -> datetime | None:
    text = _text(value)
    if not text or len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _file_annotations(details: Any) -> frozenset[str]:
    body = details.get("fileDetails", {}) if isinstance(details, Mapping) else {}
    body = body if isinstance(body, Mapping) else {}
    flags = set(_flags(body.get("fileAnnotations")) & set(FILE_ANNOTATIONS))
    if _text(body.get("potentialMeme")).lower() in ("true", "1"):  # the older element
        flags.add("potentialMeme")
    return frozenset(flags)


def _reported_classification(details: Any) -> str | None:
    body = details.get("fileDetails", {}) if isinstance(details, Mapping) else {}
    value = _text(body.get("industryClassification")) if isinstance(body, Mapping) else ""
    return value or None


# --- the store -----------------------------------------------------------------------------


def _file_facts(session: Session, files: list[IntakeFile]) -> Iterable[FileFacts]:
    labelled = _analyst_labelled(session, [f.matched_entry_id for f in files
                                           if f.matched_entry_id is not None])
    for file in files:
        yield FileFacts(
            verdict=file.verdict,
            classification=file.classification or _reported_classification(file.details),
            annotations=_file_annotations(file.details),
            analyst_label=file.matched_entry_id in labelled)


def _analyst_labelled(session: Session, entry_ids: list[int]) -> set[int]:
    if not entry_ids:
        return set()
    return set(session.scalars(
        select(ListEntry.id).join(HashList, HashList.id == ListEntry.list_id)
        .where(ListEntry.id.in_(entry_ids[:1000]), HashList.name == ANALYSTS_LABELS_LIST)))


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
    companies = set(session.scalars(select(IntakeReport.company_id).distinct()
                                    .where(IntakeReport.id.in_(linked))))
    return len(linked), len(companies - {report.company_id})


def _note_texts(session: Session, report_id: int) -> tuple[str, ...]:
    return tuple(session.scalars(
        select(TriageNote.text).where(TriageNote.report_id == report_id)
        .order_by(TriageNote.id).limit(MAX_NOTES_READ)))
