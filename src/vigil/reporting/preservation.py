"""Preserving a filed report: the legal hold on everything that went into it, and the
report package (receipt, report XML, each file's details, the files and the account data)
with a manifest of SHA-256 hashes.

Every part the database does not already keep encrypted is sealed into the evidence vault,
so nothing sensitive sits in plaintext at rest; the manifest is sealed too and its digest is
Report.package_sha256. Parts are found again by their evidence ``reference``
("report-package:<report id>/<part>"), which survives purging as the item's tombstone: that
is what lets find_records say when and why a part was destroyed.

Order of operations: parts are sealed and held (each committed), then the manifest, then the
report row gets its digest together with the audit record. A crash before the last step
leaves held, encrypted parts nobody points at; running again builds a fresh package.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.settings import Settings
from vigil.reporting.account_data import (
    CaseRecord,
    account_data_document,
    canonical_json,
    case_records,
    report_case_ids,
    safe_name,
)
from vigil.reporting.preservation_errors import (
    InvalidRequest,
    PackageUnavailable,
    ReportNotFiled,
    UnknownReport,
)
from vigil.store import audit
from vigil.store.audit import AuditLog
from vigil.store.evidence import (
    EvidenceBlobMissing,
    EvidenceError,
    EvidenceShredded,
    EvidenceVault,
    HoldPolicy,
    place_report_hold,
)
from vigil.store.models import (
    AuditAction,
    EvidenceItem,
    Report,
    ReportFile,
    ReportState,
    utcnow,
)

PACKAGE_FORMAT = "vigil-report-package/1"
REFERENCE_PREFIX = "report-package:"
RETENTION_POLICY = "report package"
REPORT_SUBJECT = "report"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # a manifest is a few KiB; refuse to parse anything huge


@dataclass(frozen=True)
class PackagePart:
    name: str  # path inside the package, e.g. "report.xml", "files/3/fileDetails.xml"
    kind: str  # report_xml, receipt, file_details, file, account_data
    sha256: str | None  # None: the part was never kept (e.g. a file sent as hashes only)
    size: int | None
    evidence_item_id: str | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "sha256": self.sha256,
            "size": self.size,
            "evidence_item_id": self.evidence_item_id,
            "note": self.note,
        }


@dataclass(frozen=True)
class PreservedPackage:
    report_public_id: str
    package_sha256: str
    manifest_item_id: str
    manifest: dict[str, Any]
    parts: tuple[PackagePart, ...]
    file_item_ids: tuple[str, ...]  # the reported files' evidence
    account_item_ids: tuple[str, ...]  # the evidence of the cases' match records
    hold_until: datetime | None


@dataclass(frozen=True)
class PartCheck:
    name: str
    status: str  # ok, altered, tampered, purged, missing, not_kept
    detail: str = ""


@dataclass(frozen=True)
class PackageCheck:
    report_public_id: str
    ok: bool
    parts: tuple[PartCheck, ...]
    problems: tuple[str, ...] = field(default=())


def on_report_filed(
    session: Session,
    report: Report | str,
    *,
    settings: Settings,
    actor: str,
    vault: EvidenceVault | None = None,
    now: datetime | None = None,
) -> PreservedPackage:
    """Hold and package a FINISHED report. Commits (several times: see the module doc).

    Idempotent: a report that already has its package gets it back unchanged.
    """
    actor = checked_actor(actor)
    report = load_report(session, report)
    if report.state is not ReportState.FINISHED:
        raise ReportNotFiled(
            f"report {report.public_id} is {report.state.value}: only a finished report "
            "is preserved"
        )
    vault = vault or EvidenceVault.from_settings(settings)
    if report.package_sha256:
        return load_package(session, vault, report)
    now = now or utcnow()
    policy, jurisdiction = HoldPolicy.from_settings(settings), settings.reporting.hold_jurisdiction
    records = case_records(session, report_case_ids(session, report))
    parts = _sealed_parts(session, vault, report, records, now)
    file_ids = _unique(file.evidence_item_id for file in report.files)
    account_ids = _unique(entry.record.evidence_item_id for entry in records)
    hold_until = now + policy.report_period(jurisdiction)
    manifest = _manifest(
        report,
        parts,
        file_ids,
        account_ids,
        actor,
        jurisdiction,
        now,
        hold_until,
        [entry.case.public_id for entry in records if entry.case],
    )
    manifest_bytes = canonical_json(manifest)
    manifest_item = vault.put(
        session,
        manifest_bytes,
        now=now,
        media_type="application/json",
        reference=_reference(report.public_id),
        retention_policy=RETENTION_POLICY,
    )
    held_ids = _unique(
        [*(p.evidence_item_id for p in parts), manifest_item.id, *file_ids, *account_ids]
    )
    unheld = _hold(
        session,
        held_ids,
        policy=policy,
        jurisdiction=jurisdiction,
        actor=actor,
        reason=f"reported: report {report.public_id} "
        f"(remote id {report.remote_report_id or 'none'})",
        now=now,
    )
    report = load_report(session, report.public_id)
    report.package_sha256 = manifest_item.sha256
    AuditLog(session).append(
        AuditAction.REPORT,
        actor=actor,
        subject_type=REPORT_SUBJECT,
        subject_id=report.public_id,
        at=now,
        details={
            "event": "preserved",
            "remote_report_id": report.remote_report_id,
            "package_sha256": manifest_item.sha256,
            "manifest_item_id": manifest_item.id,
            "held_file_items": list(file_ids),
            "held_account_items": list(account_ids),
            "held_package_items": [p.evidence_item_id for p in parts if p.evidence_item_id],
            "not_held": unheld,
            "jurisdiction": jurisdiction,
            "hold_until": hold_until.isoformat(),
        },
    )
    session.commit()
    return PreservedPackage(
        report.public_id,
        manifest_item.sha256,
        manifest_item.id,
        manifest,
        tuple(parts),
        tuple(file_ids),
        tuple(account_ids),
        hold_until,
    )


def load_package(session: Session, vault: EvidenceVault, report: Report | str) -> PreservedPackage:
    """The report's preserved package, read back from the vault. Raises PackageUnavailable
    when there is none or its manifest cannot be read intact."""
    report = load_report(session, report)
    item = manifest_item(session, report)
    if item is None:
        raise PackageUnavailable(f"report {report.public_id} has no preserved package")
    try:
        data = vault.get(session, item.id)
    except EvidenceError as exc:
        raise PackageUnavailable(
            f"report {report.public_id}: the package manifest cannot be read ({exc})"
        ) from None
    manifest = _parsed_manifest(data, report)
    parts = tuple(_part(entry) for entry in manifest["parts"])
    held = manifest.get("held", {})
    hold_until = manifest.get("hold", {}).get("until")
    return PreservedPackage(
        report.public_id,
        item.sha256,
        item.id,
        manifest,
        parts,
        tuple(held.get("report_files", [])),
        tuple(held.get("account_data", [])),
        datetime.fromisoformat(hold_until) if hold_until else None,
    )


def verify_package(session: Session, vault: EvidenceVault, report: Report | str) -> PackageCheck:
    """Recompute every part's SHA-256 and size and compare them with the manifest; also
    compare the report row's XML, receipt and file details with their preserved copies."""
    report = load_report(session, report)
    try:
        package = load_package(session, vault, report)
    except PackageUnavailable as exc:
        return PackageCheck(report.public_id, False, (), (str(exc),))
    checks = tuple(_check_part(session, vault, part) for part in package.parts)
    problems = [
        f"{check.name}: {check.status} {check.detail}".strip()
        for check in checks
        if check.status not in ("ok", "not_kept")
    ]
    problems += _row_differences(report, package.parts)
    return PackageCheck(report.public_id, not problems, checks, tuple(problems))


def load_report(session: Session, report: Report | str) -> Report:
    if isinstance(report, Report):
        found = session.get(Report, report.id)
    elif isinstance(report, str) and 0 < len(report) <= 32:
        found = session.scalars(select(Report).where(Report.public_id == report)).one_or_none()
    else:
        found = None
    if found is None:
        raise UnknownReport("no such report")
    return found


def manifest_item(session: Session, report: Report) -> EvidenceItem | None:
    """The evidence item holding the report's manifest (found by digest and reference)."""
    if not report.package_sha256:
        return None
    return session.scalars(
        select(EvidenceItem)
        .where(
            EvidenceItem.reference == _reference(report.public_id),
            EvidenceItem.sha256 == report.package_sha256,
        )
        .order_by(EvidenceItem.created_at)
    ).first()


def package_item_ids(session: Session, report: Report) -> list[str]:
    """Every evidence item sealed for the report's package (manifest included), live or not."""
    prefix = _reference(report.public_id)
    return list(
        session.scalars(
            select(EvidenceItem.id)
            .where(
                (EvidenceItem.reference == prefix)
                | EvidenceItem.reference.startswith(prefix + "/", autoescape=True)
            )
            .order_by(EvidenceItem.created_at, EvidenceItem.id)
        )
    )


def report_item_ids(session: Session, report: Report) -> list[str]:
    """Everything a hold on the report must cover: package, files and account data."""
    records = case_records(session, report_case_ids(session, report))
    return _unique(
        [
            *package_item_ids(session, report),
            *(file.evidence_item_id for file in report.files),
            *(entry.record.evidence_item_id for entry in records),
        ]
    )


def part_name_of(reference: str | None, report_public_id: str) -> str | None:
    """The part name an evidence reference names ("" for the manifest), else None."""
    prefix = _reference(report_public_id)
    if reference == prefix:
        return ""
    if reference and reference.startswith(prefix + "/"):
        return reference[len(prefix) + 1 :]
    return None


def checked_actor(actor: object) -> str:
    """A person's name is refused when too long, not cut: the record must name them."""
    return audit.checked_actor(actor, refusal=InvalidRequest, too_long="refuse")


def file_part_name(file: ReportFile) -> str:
    return f"files/{file.id}/{safe_name(file.file_name)}"


# --- building -----------------------------------------------------------------------------


def _sealed_parts(
    session: Session, vault: EvidenceVault, report: Report, records: list[CaseRecord], now: datetime
) -> list[PackagePart]:
    def seal(name: str, kind: str, data: bytes, media_type: str) -> PackagePart:
        item = vault.put(
            session,
            data,
            now=now,
            media_type=media_type,
            reference=f"{_reference(report.public_id)}/{name}",
            retention_policy=RETENTION_POLICY,
        )
        return PackagePart(name, kind, item.sha256, item.size, item.id)

    parts = [seal("report.xml", "report_xml", report.xml.encode("utf-8"), "application/xml")]
    if report.receipt is not None:
        parts.append(
            seal("receipt.xml", "receipt", report.receipt.encode("utf-8"), "application/xml")
        )
    for file in report.files:
        if file.file_details_xml is not None:
            parts.append(
                seal(
                    f"files/{file.id}/fileDetails.xml",
                    "file_details",
                    file.file_details_xml.encode("utf-8"),
                    "application/xml",
                )
            )
        parts.append(_file_part(session, vault, file))
    parts.append(
        seal(
            "account-data.json",
            "account_data",
            canonical_json(account_data_document(records)),
            "application/json",
        )
    )
    return parts


def _file_part(session: Session, vault: EvidenceVault, file: ReportFile) -> PackagePart:
    """The reported file is already sealed evidence: the package refers to that item."""
    name = file_part_name(file)
    if file.evidence_item_id is None:
        return PackagePart(
            name, "file", file.sha256, None, None, "never kept: the platform sent hashes only"
        )
    try:
        data = vault.get(session, file.evidence_item_id)
    except EvidenceError as exc:
        return PackagePart(name, "file", file.sha256, None, None, f"unreadable when filed: {exc}")
    digest = hashlib.sha256(data).hexdigest()
    note = (
        ""
        if file.sha256 in (None, digest)
        else (f"differs from the hash first received ({file.sha256})")
    )
    return PackagePart(name, "file", digest, len(data), file.evidence_item_id, note)


def _manifest(
    report: Report,
    parts: list[PackagePart],
    file_ids: list[str],
    account_ids: list[str],
    actor: str,
    jurisdiction: str,
    now: datetime,
    hold_until: datetime,
    case_ids: list[str],
) -> dict[str, Any]:
    return {
        "format": PACKAGE_FORMAT,
        "report": {
            "public_id": report.public_id,
            "remote_report_id": report.remote_report_id,
            "destination": report.destination,
            "kind": report.kind.value,
            "finished_at": report.finished_at.isoformat() if report.finished_at else None,
        },
        "cases": sorted(set(case_ids)),
        "built_at": now.isoformat(),
        "built_by": actor,
        "hold": {"jurisdiction": jurisdiction, "until": hold_until.isoformat()},
        "parts": [part.to_dict() for part in parts],
        "held": {"report_files": file_ids, "account_data": account_ids},
    }


def _hold(
    session: Session,
    item_ids: list[str],
    *,
    policy: HoldPolicy,
    jurisdiction: str,
    actor: str,
    reason: str,
    now: datetime,
) -> list[dict[str, str]]:
    """Place the report hold on each item; returns those that could not be held and why."""
    unheld = []
    for item_id in item_ids:
        try:
            place_report_hold(
                session,
                item_id,
                placed_by=actor,
                reason=reason,
                policy=policy,
                jurisdiction=jurisdiction,
                now=now,
            )
        except EvidenceShredded as exc:
            unheld.append({"item_id": item_id, "why": str(exc)})
    return unheld


# --- reading back -------------------------------------------------------------------------


def _parsed_manifest(data: bytes, report: Report) -> dict[str, Any]:
    try:
        manifest = json.loads(data[:MAX_MANIFEST_BYTES])
    except ValueError:
        manifest = None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != PACKAGE_FORMAT
        or not isinstance(manifest.get("parts"), list)
        or manifest.get("report", {}).get("public_id") != report.public_id
    ):
        raise PackageUnavailable(f"report {report.public_id}: the package manifest is malformed")
    return manifest


def _part(entry: dict[str, Any]) -> PackagePart:
    return PackagePart(
        str(entry["name"]),
        str(entry["kind"]),
        entry.get("sha256"),
        entry.get("size"),
        entry.get("evidence_item_id"),
        entry.get("note", ""),
    )


def _check_part(session: Session, vault: EvidenceVault, part: PackagePart) -> PartCheck:
    if part.evidence_item_id is None:
        return PartCheck(part.name, "not_kept", part.note)
    try:
        data = vault.get(session, part.evidence_item_id)
    except EvidenceShredded as exc:
        return PartCheck(part.name, "purged", str(exc))
    except EvidenceBlobMissing as exc:
        return PartCheck(part.name, "missing", str(exc))
    except EvidenceError as exc:  # tampered, wrong key, unknown format
        return PartCheck(part.name, "tampered", str(exc))
    digest = hashlib.sha256(data).hexdigest()
    if digest != part.sha256 or len(data) != part.size:
        return PartCheck(
            part.name,
            "altered",
            f"sha256 {digest} size {len(data)}, manifest says {part.sha256} size {part.size}",
        )
    return PartCheck(part.name, "ok")


def _row_differences(report: Report, parts: tuple[PackagePart, ...]) -> list[str]:
    """The report row must still say what was preserved (and sent)."""
    current: dict[str, str | None] = {"report.xml": report.xml, "receipt.xml": report.receipt}
    current.update(
        {f"files/{file.id}/fileDetails.xml": file.file_details_xml for file in report.files}
    )
    problems = []
    for part in parts:
        if part.name not in current or part.sha256 is None:
            continue
        text = current[part.name]
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None
        if digest != part.sha256:
            problems.append(f"{part.name}: the report row differs from the preserved copy")
    return problems


def _reference(report_public_id: str) -> str:
    return f"{REFERENCE_PREFIX}{report_public_id}"


def _unique(values: Any) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value is not None:
            seen.setdefault(value, None)
    return list(seen)
