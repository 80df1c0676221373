"""A referral as Project VIC VICS 2.0 JSON, the case format forensic tools (Griffeye Analyze
and others) import: one Case for the referred report, one Media record per received file
with its hashes, category and what the clearinghouse knows about it.

docs/vics.md lists every field emitted here and the category mapping; its table is the
contract the tests check each export against. Written from the public description of the
data model, without an official validator.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.reporting.cybertipline.received import (
    ReceivedFileDetails,
    flag_names,
    read_file_details,
)
from vigil.reporting.cybertipline.xml_writer import xml_value
from vigil.store.errors import StoreError
from vigil.store.models import (
    FileVerdict,
    HashList,
    IntakeFile,
    IntakeReport,
    ListEntry,
    Referral,
)
from vigil.store.shared.vocabulary import INDUSTRY_CLASSIFICATIONS, ordered_annotations

ODATA_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
SOURCE_APPLICATION = "Vigil"
_CASE_NAMESPACE = uuid.UUID("7b0c6f1e-2f57-4d0e-9a53-8f3e4c1d2a10")  # CaseIDs are stable

# VICS categories (US model). Vigil emits only 1, 3 and null; see docs/vics.md.
CATEGORY_CSAM = 1
CATEGORY_CGI_ANIMATION = 3
_DRAWN = "animeDrawingVirtualHentai"
_CIRCULATING = frozenset({"viral", "potentialMeme"})


class UnknownReferral(StoreError, LookupError):
    pass


@dataclass(frozen=True)
class FileLabels:
    """What is known about one received file, from its details and its matched list entry."""

    classification: str | None  # the clearinghouse's (list or analyst), else the reporter's
    classified_by: str | None  # "clearinghouse" or "reporter"
    annotations: list[str]  # the reporter's CyberTipline fileAnnotations, schema order
    series: str | None
    victim_identified: bool | None
    list_name: str | None


def file_labels(session: Session, file: IntakeFile) -> FileLabels:
    entry, list_name = _matched_entry(session, file.matched_entry_id)
    reported = _details(file).industry_classification
    if file.classification:
        classification, by = file.classification, "clearinghouse"
    elif reported in INDUSTRY_CLASSIFICATIONS:
        classification, by = reported, "reporter"
    else:
        classification, by = None, None
    return FileLabels(
        classification=classification,
        classified_by=by,
        annotations=annotations_of(file),
        series=entry.series if entry else None,
        victim_identified=entry.victim_identified if entry else None,
        list_name=list_name,
    )


def vics_category(labels: FileLabels) -> int | None:
    """1 for an industry classification (all four classes describe sexual abuse material),
    3 when the reporter said it is drawn or animated, None when nobody categorised it."""
    if labels.classification not in INDUSTRY_CLASSIFICATIONS:
        return None
    return CATEGORY_CGI_ANIMATION if _DRAWN in labels.annotations else CATEGORY_CSAM


def vics_export(
    session: Session, referral_id: int, *, media_paths: dict[str, str] | None = None
) -> dict[str, Any]:
    """The referral's report as a VICS 2.0 document. ``media_paths`` maps a SHA-256 to the
    file's path beside the JSON (RelativeFilePath), when the files travel with it."""
    referral = session.get(Referral, referral_id)
    report = session.get(IntakeReport, referral.report_id) if referral else None
    if referral is None or report is None:
        raise UnknownReferral(f"no referral with id {referral_id}")
    distributed = _distributed(session, report)
    media = [
        _media(session, index, file, distributed, media_paths or {})
        for index, file in enumerate(report.files, start=1)
    ]
    case = {
        "CaseID": str(uuid.uuid5(_CASE_NAMESPACE, f"referral:{referral.id}")),
        "CaseNumber": str(report.id),
        "SourceApplicationName": SOURCE_APPLICATION,
        "SourceApplicationVersion": _version(),
        "Media": media,
    }
    return {"@odata.context": ODATA_CONTEXT, "value": [case]}


def annotations_of(file: IntakeFile) -> list[str]:
    return ordered_annotations(flag_names(_details(file).file_annotations))


def _media(
    session: Session,
    media_id: int,
    file: IntakeFile,
    distributed: set[str],
    media_paths: dict[str, str],
) -> dict[str, Any]:
    labels = file_labels(session, file)
    category = vics_category(labels)
    record: dict[str, Any] = {
        "MediaID": media_id,
        "Category": category,
        "MD5": file.md5.upper(),
        "SHA1": file.sha1.upper(),
        "MediaSize": file.size,
        "DateUpdated": _timestamp(file.received_at),
        "IsPrecategorized": category is not None,
        "IsDistributed": file.sha256 in distributed or bool(_CIRCULATING & set(labels.annotations)),
        "Series": labels.series or "",
        "VictimIdentified": bool(labels.victim_identified),
        "OffenderIdentified": False,
        "Tags": ",".join(_tags(file, labels)),
        "Comments": _comment(file, labels),
        "AlternativeHashes": _alternative_hashes(file),
        "MediaFiles": [_media_file(file)],
    }
    if file.file_name:
        record["Name"] = file.file_name
    if file.sha256 in media_paths:
        record["RelativeFilePath"] = media_paths[file.sha256]
    return record


def _tags(file: IntakeFile, labels: FileLabels) -> list[str]:
    tags = [f"vigil:{file.verdict}"] if file.verdict else []
    if labels.classification:
        tags.append(f"industry:{labels.classification}")
    return tags + labels.annotations


def _comment(file: IntakeFile, labels: FileLabels) -> str:
    parts = [f"Vigil file {file.public_id}"]
    if file.verdict:
        parts.append(f"clearinghouse verdict {file.verdict}")
    if labels.classification:
        parts.append(f"classified {labels.classification} by the {labels.classified_by}")
    return "; ".join(parts)


def _alternative_hashes(file: IntakeFile) -> list[dict[str, str]]:
    hashes = [{"HashName": "SHA256", "HashValue": file.sha256.upper()}]
    if file.pdq:
        hashes.append({"HashName": "PDQ", "HashValue": file.pdq.lower()})
    return hashes


def _media_file(file: IntakeFile) -> dict[str, Any]:
    entry: dict[str, Any] = {"FileName": file.file_name or file.public_id, "FileSize": file.size}
    details = _details(file)
    if details.original_file_name:
        entry["OriginalFileName"] = details.original_file_name[:500]
    if details.location_of_file:
        entry["FilePath"] = details.location_of_file[:2000]
    if details.uploaded_to_esp_timestamp:
        entry["Created"] = xml_value(details.uploaded_to_esp_timestamp)
    return entry


def _distributed(session: Session, report: IntakeReport) -> set[str]:
    """SHA-256s of this report's files that other reports also carry (seen in circulation)."""
    digests = [file.sha256 for file in report.files]
    if not digests:
        return set()
    elsewhere = session.scalars(
        select(IntakeFile.sha256)
        .distinct()
        .where(IntakeFile.sha256.in_(digests), IntakeFile.report_id != report.id)
    )
    seen = {file.sha256 for file in report.files if file.verdict == FileVerdict.SEEN}
    return seen | set(elsewhere)


def _matched_entry(session: Session, entry_id: int | None) -> tuple[ListEntry | None, str | None]:
    if entry_id is None:
        return None, None
    row = session.execute(
        select(ListEntry, HashList.name)
        .join(HashList, HashList.id == ListEntry.list_id)
        .where(ListEntry.id == entry_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def _details(file: IntakeFile) -> ReceivedFileDetails:
    return read_file_details(file.details, file.details_xml)


def _timestamp(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _version() -> str:
    try:
        return metadata.version("vigil")
    except metadata.PackageNotFoundError:
        return "unknown"
