"""A confirmed review case as a CyberTipline report and one fileDetails per confirmed file.

Reads the database only (the case, its confirmed items and their match records, the audit
log, evidence media types) and writes nothing. What it states must be true:

* ``fileViewedByEsp`` is true only when the audit log holds a MEDIA_VIEWED record for that
  file (a reveal in the console, written only once the browser confirmed it displayed the
  media, see vigil.review.media_views; or a fetch of the record's media through the API).
  Handing the bytes to the console (an EXPORT record) is not a view: media the browser
  could not show stays unviewed. A file confirmed from an inherited classification was
  never seen: false. Investigators rely on this flag to open a file without a warrant, so
  "not recorded" means "not viewed".
* Hashes are the match record's, computed when Vigil first received the file.
* IP capture events, emails and screen names come from the upload context the platform sent.
* Each hash list match's provenance (list, entry, exchange and member, classification, tags)
  is a ``<details type="HASH">`` of the file, as frozen on the match record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from vigil.reporting.cybertipline.errors import ReportRefused
from vigil.reporting.cybertipline.model import (
    AssociatedAccount,
    Details,
    Email,
    FileAnnotations,
    FileDetailsModel,
    IncidentSummary,
    IpCaptureEvent,
    NameValuePair,
    OriginalFileHash,
    Person,
    PersonOrUserReported,
    ReportModel,
)
from vigil.reporting.cybertipline.report_rules import Checking, document_problems
from vigil.reporting.cybertipline.reporter import ReporterDetails
from vigil.reporting.cybertipline.schema import validate
from vigil.reporting.cybertipline.xml_writer import file_details_xml, report_xml
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    Case,
    CaseItem,
    CaseStatus,
    EvidenceItem,
    ItemStatus,
    MatchHit,
    MatchRecord,
)
from vigil.store.shared.vocabulary import INCIDENT_TYPES, is_classification

MAX_PUBLIC_ID = 32
# The clearinghouse assigns report and file ids; these stand in to validate the details early.
PLACEHOLDER_REPORT_ID = 1
PLACEHOLDER_FILE_ID = "unassigned"
EXTENSIONS: Mapping[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
    "image/heic": ".heic",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "video/x-matroska": ".mkv",
    "video/x-msvideo": ".avi",
    "video/mpeg": ".mpg",
}
HASH_TYPES = (("md5", "MD5"), ("sha1", "SHA1"), ("sha256", "SHA256"))


@dataclass(frozen=True, slots=True)
class FileDocument:
    """One confirmed file to upload, and its fileDetails once the ids are known."""

    item_id: int
    evidence_item_id: str | None  # where the bytes are kept (None: hashes only)
    file_name: str  # the name to upload it under
    sha256: str | None
    md5: str | None
    viewed_by_esp: bool
    details: FileDetailsModel  # report_id and file_id still None

    def details_for(self, report_id: int, file_id: str) -> FileDetailsModel:
        return replace(self.details, report_id=report_id, file_id=file_id)

    def details_xml(self, report_id: int, file_id: str) -> bytes:
        return file_details_xml(self.details_for(report_id, file_id))


@dataclass(frozen=True, slots=True)
class ReportDocument:
    report: ReportModel
    report_xml: bytes
    files: list[FileDocument]


@dataclass(frozen=True, slots=True)
class _Reported:
    """A confirmed item with what is known about its upload."""

    item: CaseItem
    record: MatchRecord
    context: Mapping[str, Any]
    media_type: str | None
    viewed: bool


def build_case_report(
    session: Session,
    case_public_id: str,
    *,
    reporter: ReporterDetails,
    incident_type: str | None = None,
) -> ReportDocument:
    """The report for a confirmed case. Raises ReportRefused (a ValueError) with a plain
    message when the case cannot be reported or the result would not match the schema."""
    case = _confirmed_case(session, case_public_id)
    chosen = _incident_type(case, incident_type)
    reported = _reported_items(session, case)
    report = ReportModel(
        incident_summary=_summary(case, chosen, reported, reporter),
        reporter=reporter.to_reporter(),
        person_or_user_reported=_reported_users(case, reported, reporter),
        additional_info=f"Vigil case {case.public_id}: {len(reported)} confirmed file(s).",
    )
    files = [_file_document(each, reporter) for each in reported]
    document = ReportDocument(report, report_xml(report), files)
    _require_valid(document)
    return document


# --- the case and its files ----------------------------------------------------------------


def _confirmed_case(session: Session, public_id: str) -> Case:
    if not isinstance(public_id, str) or not 0 < len(public_id) <= MAX_PUBLIC_ID:
        raise ReportRefused("There is no such case.")
    case = session.scalars(select(Case).where(Case.public_id == public_id)).one_or_none()
    if case is None:
        raise ReportRefused("There is no such case.")
    if case.status is not CaseStatus.CONFIRMED:
        raise ReportRefused(
            f"The case is {case.status.value}: only a confirmed case can be reported."
        )
    if not any(item.status is ItemStatus.CONFIRMED for item in case.items):
        raise ReportRefused("The case has no confirmed item: there is nothing to report.")
    return case


def _incident_type(case: Case, given: str | None) -> str:
    chosen = given if given is not None else case.incident_type
    if not chosen:
        raise ReportRefused(
            "The incident type is missing: choose one of the eight CyberTipline incident types."
        )
    if chosen not in INCIDENT_TYPES:
        raise ReportRefused(
            "The incident type must be one of the eight CyberTipline incident types."
        )
    return chosen


def _reported_items(session: Session, case: Case) -> list[_Reported]:
    items = [item for item in case.items if item.status is ItemStatus.CONFIRMED]
    records = {
        r.id: r
        for r in session.scalars(
            select(MatchRecord).where(MatchRecord.id.in_([i.record_id for i in items]))
        )
    }
    media = _evidence_media_types(session, records.values())
    viewed_items, viewed_records = _viewed(session, items, records.values())
    reported = []
    for item in items:
        record = records[item.record_id]
        reported.append(
            _Reported(
                item,
                record,
                dict(record.context or {}),
                media.get(record.evidence_item_id or "") or record.media_type,
                item.id in viewed_items or record.public_id in viewed_records,
            )
        )
    return reported


def _evidence_media_types(session: Session, records: Iterable[MatchRecord]) -> dict[str, str]:
    ids = [r.evidence_item_id for r in records if r.evidence_item_id]
    if not ids:
        return {}
    rows = session.execute(
        select(EvidenceItem.id, EvidenceItem.media_type).where(EvidenceItem.id.in_(ids))
    ).all()
    return {row.id: row.media_type for row in rows if row.media_type}


def media_viewed(
    session: Session, items: Sequence[CaseItem], records: Iterable[MatchRecord]
) -> tuple[set[int], set[str]]:
    """(item ids revealed, record ids fetched): fileViewedByEsp's only evidence."""
    return _viewed(session, items, records)


def _viewed(
    session: Session, items: Sequence[CaseItem], records: Iterable[MatchRecord]
) -> tuple[set[int], set[str]]:
    """Items revealed in the console, and records whose media was fetched, per the audit
    log: the only evidence that a person at the company saw the file."""
    item_ids = [str(item.id) for item in items]
    record_ids = [record.public_id for record in records]
    rows = session.execute(
        select(AuditRecord.subject_type, AuditRecord.subject_id).where(
            AuditRecord.action == AuditAction.MEDIA_VIEWED,
            or_(
                and_(
                    AuditRecord.subject_type == "review_item", AuditRecord.subject_id.in_(item_ids)
                ),
                and_(
                    AuditRecord.subject_type == "match_record",
                    AuditRecord.subject_id.in_(record_ids),
                ),
            ),
        )
    ).all()
    viewed_items = {int(r.subject_id) for r in rows if r.subject_type == "review_item"}
    viewed_records = {r.subject_id for r in rows if r.subject_type == "match_record"}
    return viewed_items, viewed_records


# --- the report's sections -----------------------------------------------------------------


def _summary(
    case: Case, incident_type: str, reported: Sequence[_Reported], reporter: ReporterDetails
) -> IncidentSummary:
    uploads = [t for each in reported if (t := _when(each.context, "uploaded_at"))]
    if uploads:
        when, described = min(uploads), "The earliest upload of a reported file."
    else:
        when = min(_aware(each.record.received_at) for each in reported)
        described = "When Vigil first received a reported file (no upload time was given)."
    return IncidentSummary(
        incident_type=incident_type,
        platform=reporter.platform,
        escalate_to_high_priority=_escalation(case),
        incident_date_time=when,
        incident_date_time_description=described,
    )


def _escalation(case: Case) -> str | None:
    """The reason for high priority as stored when the case was escalated: the words of the
    person who escalated (after the danger sentence when they said a child may be in
    imminent danger), or what escalated it at intake (vigil.screening.escalation)."""
    if not (case.escalated or case.imminent_danger):
        return None
    reason = (case.escalation_reason or "").strip()[:2000]
    if case.imminent_danger:
        return f"A child may be in imminent danger. {reason}".strip()
    return reason or "Escalated as urgent; no reason was recorded."


def _reported_users(
    case: Case, reported: Sequence[_Reported], reporter: ReporterDetails
) -> tuple[PersonOrUserReported, ...]:
    accounts = _distinct(each.record.platform_account_id for each in reported)
    primary = case.platform_account_id or (accounts[0] if accounts else None)
    screen_names = _distinct(_text(each.context, "screen_name") for each in reported)
    emails = _distinct(_text(each.context, "email") for each in reported)
    events = _ip_events(each.context for each in reported)
    if not (primary or screen_names or emails or events):
        return ()
    others = [a for a in accounts if a != primary]
    more_names = screen_names[1:]
    return (
        PersonOrUserReported(
            person=Person(email=tuple(Email(address=e) for e in emails)) if emails else None,
            esp_identifier=primary,
            esp_service=reporter.platform,
            screen_name=screen_names[0] if screen_names else None,
            ip_capture_event=events,
            associated_account=tuple(
                AssociatedAccount(type="Other", esp_identifier=a, esp_service=reporter.platform)
                for a in others
            ),
            additional_info=(
                f"Other screen names seen: {', '.join(more_names)}" if more_names else None
            ),
        ),
    )


def _ip_events(contexts: Iterable[Mapping[str, Any]]) -> tuple[IpCaptureEvent, ...]:
    """One event per distinct (address, port, time); "Upload" when it came with an upload."""
    found: dict[tuple[str, int | None, datetime | None], bool] = {}
    for context in contexts:
        event = _ip_event(context)
        if event is not None:
            key = (event.ip_address, event.port, event.date_time)
            found[key] = found.get(key, False) or event.event_name == "Upload"
    return tuple(
        IpCaptureEvent(
            ip_address=ip, port=port, date_time=when, event_name="Upload" if upload else None
        )
        for (ip, port, when), upload in found.items()
    )


def _ip_event(context: Mapping[str, Any]) -> IpCaptureEvent | None:
    address = _text(context, "ip_address")
    if address is None:
        return None
    port = context.get("port")
    uploaded = _when(context, "uploaded_at")
    return IpCaptureEvent(
        ip_address=address,
        event_name="Upload" if uploaded else None,
        date_time=_when(context, "ip_seen_at") or uploaded,
        port=port
        if isinstance(port, int) and not isinstance(port, bool) and 0 < port <= 65535
        else None,
    )


# --- one file ------------------------------------------------------------------------------


def _file_document(each: _Reported, reporter: ReporterDetails) -> FileDocument:
    record, item = each.record, each.item
    extension = EXTENSIONS.get((each.media_type or "").lower(), "")
    details = FileDetailsModel(
        file_name=f"{record.public_id}{extension}",
        original_file_name=_with_extension(record.platform_content_id, extension),
        uploaded_to_esp_timestamp=_when(each.context, "uploaded_at"),
        file_viewed_by_esp=each.viewed,
        publicly_available=_publicly_available(each.context),
        file_relevance="Reported",
        file_annotations=(
            FileAnnotations.from_names(list(item.annotations)) if item.annotations else None
        ),
        industry_classification=(
            item.classification if is_classification(item.classification) else None
        ),
        original_file_hash=tuple(
            OriginalFileHash(value=getattr(record, name), hash_type=kind)
            for name, kind in HASH_TYPES
            if getattr(record, name)
        ),
        ip_capture_event=_ip_event(each.context),
        details=(*_pdq_details(record), *_hash_list_details(record)),
        additional_info=_file_notes(each.context),
    )
    return FileDocument(
        item.id,
        record.evidence_item_id,
        details.file_name or "",
        record.sha256,
        record.md5,
        each.viewed,
        details,
    )


def _with_extension(content_id: str, extension: str) -> str:
    if not extension or content_id.lower().endswith(extension):
        return content_id
    return f"{content_id}{extension}"


def _publicly_available(context: Mapping[str, Any]) -> bool | None:
    visibility = context.get("visibility")
    return (
        {"public": True, "private": False}.get(visibility) if isinstance(visibility, str) else None
    )


def _pdq_details(record: MatchRecord) -> tuple[Details, ...]:
    if not record.pdq:
        return ()
    pairs = [NameValuePair(name="PDQ", value=record.pdq)]
    if record.pdq_quality is not None:
        pairs.append(NameValuePair(name="PDQ quality", value=str(record.pdq_quality)))
    return (Details(type="HASH", name_value_pair=tuple(pairs)),)


def _hash_list_details(record: MatchRecord) -> tuple[Details, ...]:
    """Where each hash list match came from (Appendix C.3 metadata of type HASH, one
    ``<details>`` per matched entry): the list and entry, the exchange that shared it with
    its member, the entry's classification and tags, or the file it was imported from. As
    frozen on the match record, so the report says what matched when the file came in."""
    return tuple(
        Details(type="HASH", name_value_pair=_provenance_pairs(hit)) for hit in record.hits
    )


def _provenance_pairs(hit: MatchHit) -> tuple[NameValuePair, ...]:
    named = (
        ("Hash list", hit.list_name),
        ("Hash list version", hit.list_version),
        ("Hash list entry", hit.external_id or str(hit.entry_id)),
        ("Matched by", hit.signal_type),
        ("Hash exchange", hit.exchange),
        ("Hash exchange type", hit.exchange_kind),
        ("Hash exchange member", hit.member),
        ("Entry classification", hit.classification),
        ("Entry tags", ", ".join(hit.tags or []) or None),
        ("Entry source", None if hit.exchange else hit.entry_source),
    )
    return tuple(NameValuePair(name=name, value=value) for name, value in named if value)


def _file_notes(context: Mapping[str, Any]) -> tuple[str, ...]:
    conversation = _text(context, "conversation_id")
    return (f"Shared in conversation {conversation}.",) if conversation else ()


# --- checks and small conversions ----------------------------------------------------------


def _require_valid(document: ReportDocument) -> None:
    problems = validate(document.report_xml, root="report")
    for each in document.files:
        problems += validate(
            each.details_xml(PLACEHOLDER_REPORT_ID, PLACEHOLDER_FILE_ID), root="fileDetails"
        )
    if problems:
        raise ReportRefused(
            "The report does not match the CyberTipline schema: "
            + " ".join(str(p) for p in problems[:10])
        )
    checking = Checking(datetime.now(UTC))
    broken = document_problems(document.report_xml, checking)
    for each in document.files:
        broken += document_problems(
            each.details_xml(PLACEHOLDER_REPORT_ID, PLACEHOLDER_FILE_ID), checking
        )
    if broken:
        raise ReportRefused(
            "The report breaks the CyberTipline API documentation: " + " ".join(broken[:10])
        )


def _text(context: Mapping[str, Any], name: str) -> str | None:
    value = context.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _when(context: Mapping[str, Any], name: str) -> datetime | None:
    value = context.get(name)
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None  # the platform's context was checked on the way in; skip, never guess


def _aware(value: datetime) -> datetime:
    # Vigil stores UTC; a naive value read back (SQLite) is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _distinct(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
