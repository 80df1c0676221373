"""Batched viral / potential-meme reports (Appendix E of the CyberTipline API documentation):
one report for one file shared by many accounts.

Appendix E's rules, each refused with its XPath named (``batched_problems`` checks any
models; ``build_batched_report`` builds and checks):

* /report/batchedReport/@reason is VIRAL_POTENTIAL_MEME; several personOrUserReported are
  allowed, each with nothing but espIdentifier;
* none of escalateToHighPriority, internetDetails, lawEnforcement, intendedRecipient,
  victim, /report/additionalInfo;
* exactly one uploaded file (the API otherwise fails /finish with 4100);
* the file annotated viral and/or potentialMeme (fileAnnotations), optionally an
  industryClassification, no other annotation;
* none of originalFileName, locationOfFile, originalFileHash, ipCaptureEvent, deviceId,
  details, additionalInfo in fileDetails; fileRelevance "Reported".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Final

from vigil.reporting.cybertipline.errors import ReportRefused
from vigil.reporting.cybertipline.model import (
    BatchedReport,
    FileAnnotations,
    FileDetailsModel,
    IncidentSummary,
    PersonOrUserReported,
    ReportAnnotations,
    ReportModel,
)
from vigil.reporting.cybertipline.report_rules import Checking, document_problems
from vigil.reporting.cybertipline.reporter import ReporterDetails
from vigil.reporting.cybertipline.schema import validate
from vigil.reporting.cybertipline.xml_writer import file_details_xml, report_xml
from vigil.store.shared.vocabulary import FILE_ANNOTATIONS, INCIDENT_TYPES, is_classification

REASON: Final = "VIRAL_POTENTIAL_MEME"
BATCH_ANNOTATIONS = frozenset({"viral", "potentialMeme"})
MAX_ACCOUNTS = 10_000  # our bound, not the API's: keeps one document reasonable
MAX_ACCOUNT_ID = 255
_REPORT_FORBIDDEN = {  # field -> the XPath Appendix E names
    "internet_details": "/report/internetDetails",
    "law_enforcement": "/report/lawEnforcement",
    "intended_recipient": "/report/intendedRecipient",
    "victim": "/report/victim",
    "additional_info": "/report/additionalInfo",
}
_FILE_FORBIDDEN = {
    "original_file_name": "/fileDetails/originalFileName",
    "location_of_file": "/fileDetails/locationOfFile",
    "original_file_hash": "/fileDetails/originalFileHash",
    "ip_capture_event": "/fileDetails/ipCaptureEvent",
    "device_id": "/fileDetails/deviceId",
    "details": "/fileDetails/details",
    "additional_info": "/fileDetails/additionalInfo",
}


@dataclass(frozen=True, slots=True)
class BatchedFile:
    """The one shared file: only what a batched report may say about it."""

    annotations: Sequence[str]  # schema names: viral and/or potentialMeme
    industry_classification: str | None = None
    file_name: str | None = None
    uploaded_to_esp_timestamp: datetime | None = None
    file_viewed_by_esp: bool | None = None  # true only if a person here saw it
    exif_viewed_by_esp: bool | None = None
    publicly_available: bool | None = None
    file_relevance: str = "Reported"


@dataclass(frozen=True, slots=True)
class BatchedReportDocument:
    report: ReportModel
    report_xml: bytes
    file: FileDetailsModel  # report_id and file_id still None

    def details_xml(self, report_id: int, file_id: str) -> bytes:
        return file_details_xml(replace(self.file, report_id=report_id, file_id=file_id))


def build_batched_report(
    *,
    reporter: ReporterDetails,
    incident_type: str,
    incident_date_time: datetime,
    account_ids: Sequence[str],
    files: Sequence[BatchedFile],
    platform: str | None = None,
    report_annotations: ReportAnnotations | None = None,
) -> BatchedReportDocument:
    """One batched report for one file shared by ``account_ids``. Raises ReportRefused
    naming every Appendix E restriction the request breaks."""
    if incident_type not in INCIDENT_TYPES:
        raise ReportRefused(
            "The incident type is missing or unknown: choose one of the "
            "eight CyberTipline incident types."
        )
    accounts = _accounts(account_ids)
    if len(files) != 1:
        raise ReportRefused(
            f"A batched report carries exactly 1 uploaded file, not "
            f"{len(files)} (Appendix E: only 1 uploaded file is allowed)."
        )
    details = _details(files[0])
    report = ReportModel(
        batched_report=BatchedReport(reason=REASON),
        incident_summary=IncidentSummary(
            incident_type=incident_type,
            platform=platform,
            report_annotations=report_annotations,
            incident_date_time=incident_date_time,
        ),
        reporter=reporter.to_reporter(),
        person_or_user_reported=tuple(PersonOrUserReported(esp_identifier=a) for a in accounts),
    )
    problems = batched_problems(report, [details])
    if problems:
        raise ReportRefused(" ".join(problems))
    document = BatchedReportDocument(report, report_xml(report), details)
    _require_valid(document)
    return document


def batched_problems(report: ReportModel, files: Sequence[FileDetailsModel]) -> list[str]:
    """Every Appendix E (viral / potential meme) rule the documents break, in words."""
    problems = _report_problems(report)
    if len(files) != 1:
        problems.append(f"Only 1 uploaded file is allowed in a batched report, not {len(files)}.")
    for details in files:
        problems += _file_problems(details)
    return problems


def _report_problems(report: ReportModel) -> list[str]:
    problems = []
    if report.batched_report is None or report.batched_report.reason != REASON:
        problems.append(f"/report/batchedReport with reason {REASON} is required.")
    if report.incident_summary.escalate_to_high_priority is not None:
        problems.append(
            "/report/incidentSummary/escalateToHighPriority is not allowed in a "
            "batched report: report an urgent case on its own."
        )
    problems += [
        f"{path} is not allowed in a batched report."
        for name, path in _REPORT_FORBIDDEN.items()
        if getattr(report, name)
    ]
    if not report.person_or_user_reported:
        problems.append("A batched report needs at least one /report/personOrUserReported.")
    for user in report.person_or_user_reported:
        extra = [
            f.metadata["element"]
            for f in fields(user)
            if f.name != "esp_identifier" and getattr(user, f.name) not in (None, ())
        ]
        if extra:
            problems.append(
                "/report/personOrUserReported may only contain espIdentifier in "
                f"a batched report, not {', '.join(extra)}."
            )
        if not user.esp_identifier:
            problems.append("Each /report/personOrUserReported needs its espIdentifier.")
    return problems


def _file_problems(details: FileDetailsModel) -> list[str]:
    problems = [
        f"{path} is not allowed in a batched report."
        for name, path in _FILE_FORBIDDEN.items()
        if getattr(details, name)
    ]
    if details.potential_meme is not None:
        problems.append(
            "/fileDetails/potentialMeme is not used in a batched report: annotate "
            "with /fileDetails/fileAnnotations/potentialMeme."
        )
    names = details.file_annotations.names() if details.file_annotations else []
    if not BATCH_ANNOTATIONS & set(names):
        problems.append(
            "The file must be annotated as viral and/or potential meme "
            "(/fileDetails/fileAnnotations/viral or potentialMeme)."
        )
    problems += [
        f"/fileDetails/fileAnnotations/{name} is not allowed in a batched report."
        for name in names
        if name not in BATCH_ANNOTATIONS
    ]
    if details.file_relevance not in (None, "Reported"):
        problems.append('/fileDetails/fileRelevance must be "Reported" in a batched report.')
    return problems


def _accounts(account_ids: Sequence[str]) -> list[str]:
    if isinstance(account_ids, str):
        raise ReportRefused("account_ids must be a list of account identifiers")
    accounts = list(dict.fromkeys(account_ids))
    if not accounts:
        raise ReportRefused("A batched report needs at least one account that shared the file.")
    if len(accounts) > MAX_ACCOUNTS:
        raise ReportRefused(f"A batched report may name at most {MAX_ACCOUNTS} accounts.")
    for account in accounts:
        if not isinstance(account, str) or not account.strip() or len(account) > MAX_ACCOUNT_ID:
            raise ReportRefused(
                f"Each account identifier must be text of 1 to {MAX_ACCOUNT_ID} characters."
            )
    return accounts


def _details(file: BatchedFile) -> FileDetailsModel:
    unknown = [str(n)[:40] for n in file.annotations if n not in FILE_ANNOTATIONS]
    if unknown:
        raise ReportRefused(f"Unknown file annotations: {', '.join(unknown)}.")
    if file.industry_classification is not None and not is_classification(
        file.industry_classification
    ):
        raise ReportRefused("/fileDetails/industryClassification must be A1, A2, B1 or B2.")
    return FileDetailsModel(
        file_name=file.file_name,
        uploaded_to_esp_timestamp=file.uploaded_to_esp_timestamp,
        file_viewed_by_esp=file.file_viewed_by_esp,
        exif_viewed_by_esp=file.exif_viewed_by_esp,
        publicly_available=file.publicly_available,
        file_relevance=file.file_relevance,  # type: ignore[arg-type]  # checked by the rules
        file_annotations=(
            FileAnnotations.from_names(list(file.annotations)) if file.annotations else None
        ),
        industry_classification=file.industry_classification,
    )


def _require_valid(document: BatchedReportDocument) -> None:
    problems = validate(document.report_xml, root="report")
    problems += validate(document.details_xml(1, "unassigned"), root="fileDetails")
    if problems:
        raise ReportRefused(
            "The batched report does not match the CyberTipline schema: "
            + " ".join(str(p) for p in problems[:10])
        )
    now = datetime.now(UTC)
    broken = document_problems(document.report_xml, Checking(now))
    broken += document_problems(document.details_xml(1, "unassigned"), Checking(now, viral=True))
    if broken:
        raise ReportRefused(
            "The batched report breaks the CyberTipline API documentation: " + " ".join(broken[:10])
        )
