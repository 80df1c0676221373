"""The response package for a law-enforcement request: one ZIP with, for every linked report
and account, the preserved report package, the files, the account data, the audit trail,
a manifest of SHA-256 hashes and the chain-of-custody log.

Anything that can no longer be included (purged, missing, failing its integrity check) is
listed in ``unavailable.json`` with when and why, so the answer is never "no records". Each
build is itself recorded: a CustodyEvent with the archive's digest and an EXPORT audit record.

Media go only to accounts that a case concerns (every filed report is about cases): linking a
request to some other account yields its account data but none of its files, named in
``unavailable.json`` and in the audit record (issue 14: a report submitter, who may not view
media, could otherwise pull any account's decrypted files through a request).

The archive holds decrypted evidence: it is meant for handover. It is returned as bytes and
only written to disk (0600, never overwriting) when the caller names a directory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from vigil.reporting.account_data import (
    CaseRecord,
    account_data_document,
    account_records,
    account_reports,
    canonical_json,
    case_records,
    report_case_ids,
    safe_name,
)
from vigil.reporting.legal_requests import REQUEST_SUBJECT, get_request
from vigil.reporting.preservation import (
    REPORT_SUBJECT,
    checked_actor,
    load_package,
    manifest_item,
)
from vigil.reporting.preservation_errors import PackageUnavailable
from vigil.store.audit import AuditLog
from vigil.store.evidence import EvidenceError, EvidenceShredded, EvidenceVault
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    CustodyEvent,
    EvidencePurge,
    LegalRequest,
    LegalRequestLink,
    Report,
    utcnow,
)
from vigil.store.models.review import Case

RESPONSE_FORMAT = "vigil-response-package/1"
MANIFEST_NAME = "manifest.json"
MAX_ARCHIVE_BYTES = 4 * 1024 * 1024 * 1024  # verification refuses anything larger
MAX_MEMBERS = 100_000
_SUBJECT_CHUNK = 500  # ids per IN list: well under every backend's parameter limit
MEDIA_WITHHELD = (
    "no case or filed report concerns account {account}: its files are not "
    "included (its account data is)"
)


@dataclass(frozen=True)
class ResponsePackage:
    request_public_id: str
    archive: bytes
    sha256: str
    manifest: dict[str, Any]
    unavailable: tuple[dict[str, Any], ...]
    custody_event_id: int
    path: Path | None = None


@dataclass(frozen=True)
class ResponseCheck:
    ok: bool
    checked: int  # members whose hash matched
    problems: tuple[str, ...] = field(default=())


@dataclass
class _Contents:
    """What goes into the archive, and what the audit trail must cover."""

    members: dict[str, bytes] = field(default_factory=dict)
    unavailable: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    subjects: dict[str, set[str]] = field(default_factory=dict)
    media_withheld: list[str] = field(default_factory=list)  # accounts no case concerns

    def subject(self, kind: str, *ids: str | int | None) -> None:
        self.subjects.setdefault(kind, set()).update(str(i) for i in ids if i is not None)


def build_response_package(
    session: Session,
    vault: EvidenceVault,
    request_public_id: str,
    *,
    actor: str,
    out_dir: Path | None = None,
    now: datetime | None = None,
) -> ResponsePackage:
    """Build the request's package. Commits (the custody event and audit record).
    Raises UnknownRequest."""
    actor = checked_actor(actor)
    now = now or utcnow()
    request = get_request(session, request_public_id)
    links = list(
        session.scalars(
            select(LegalRequestLink)
            .where(LegalRequestLink.request_id == request.id)
            .order_by(LegalRequestLink.id)
        )
    )
    contents = _Contents()
    contents.subject(REQUEST_SUBJECT, request.public_id)
    for report in _linked_reports(session, links):
        _add_report(session, vault, report, contents)
    for account_id in dict.fromkeys(link.account_id for link in links if link.account_id):
        _add_account(session, vault, account_id, contents)
    contents.members["request.json"] = canonical_json(_request_document(request, links, session))
    contents.members["audit-trail.jsonl"] = _audit_trail(session, contents.subjects)
    contents.members["custody-log.json"] = _custody_log(session, request)
    contents.members["unavailable.json"] = canonical_json(contents.unavailable)
    manifest = _manifest(request, contents, actor, now)
    archive = _zip({**contents.members, MANIFEST_NAME: canonical_json(manifest)}, now)
    digest = hashlib.sha256(archive).hexdigest()
    path = _write(out_dir, request.public_id, now, archive) if out_dir is not None else None
    event = _record_build(session, request, actor, now, digest, manifest, contents)
    return ResponsePackage(
        request.public_id, archive, digest, manifest, tuple(contents.unavailable), event.id, path
    )


def verify_response_package(archive: bytes) -> ResponseCheck:
    """Check every member against the manifest, and every preserved report part against its
    report's own manifest. Hostile archives get a refusal, never an exception."""
    if not isinstance(archive, bytes) or len(archive) > MAX_ARCHIVE_BYTES:
        return ResponseCheck(False, 0, ("not an archive of acceptable size",))
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            return _verify(opened)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        return ResponseCheck(False, 0, (f"not a readable ZIP archive: {exc}",))


# --- contents -----------------------------------------------------------------------------


def _linked_reports(session: Session, links: list[LegalRequestLink]) -> list[Report]:
    reports: dict[int, Report] = {}
    for link in links:
        if link.report_id is not None:
            report = session.get(Report, link.report_id)
            if report is not None:
                reports.setdefault(report.id, report)
        if link.account_id is not None:
            for report in account_reports(session, link.account_id):
                reports.setdefault(report.id, report)
    return list(reports.values())


def _add_report(
    session: Session, vault: EvidenceVault, report: Report, contents: _Contents
) -> None:
    folder = f"reports/{report.public_id}"
    contents.subject(REPORT_SUBJECT, report.public_id)
    records = case_records(session, report_case_ids(session, report))
    _cover(contents, records)
    contents.subject("evidence_item", *(file.evidence_item_id for file in report.files))
    summary = {
        "public_id": report.public_id,
        "remote_report_id": report.remote_report_id,
        "destination": report.destination,
        "state": report.state.value,
        "package_sha256": report.package_sha256,
        "folder": folder,
    }
    contents.reports.append(summary)
    try:
        package = load_package(session, vault, report)
    except PackageUnavailable as exc:
        _report_without_package(session, report, folder, str(exc), contents)
        return
    item = manifest_item(session, report)
    assert item is not None  # load_package found it
    contents.members[f"{folder}/package-manifest.json"] = vault.get(session, item.id)
    for part in package.parts:
        if part.evidence_item_id is None:
            contents.unavailable.append(
                {"path": f"{folder}/{part.name}", "why": part.note or "never kept"}
            )
            continue
        contents.subject("evidence_item", part.evidence_item_id)
        _add_item(session, vault, f"{folder}/{part.name}", part.evidence_item_id, contents)


def _report_without_package(
    session: Session, report: Report, folder: str, why: str, contents: _Contents
) -> None:
    """No readable package: say why, and still give what the report row holds."""
    contents.unavailable.append(
        {
            "path": f"{folder}/package-manifest.json",
            "why": why,
            **_purge_facts(session, manifest_item(session, report)),
        }
    )
    contents.members[f"{folder}/report.xml"] = report.xml.encode("utf-8")
    if report.receipt is not None:
        contents.members[f"{folder}/receipt.xml"] = report.receipt.encode("utf-8")


def _add_account(
    session: Session, vault: EvidenceVault, account_id: str, contents: _Contents
) -> None:
    folder = f"accounts/{_account_folder(account_id)}"
    records = account_records(session, account_id)
    _cover(contents, records)
    contents.members[f"{folder}/account-data.json"] = canonical_json(
        {"account_id": account_id, **account_data_document(records)}
    )
    if not _concerned(session, account_id):
        contents.media_withheld.append(account_id)
        contents.unavailable.append(
            {"path": f"{folder}/files", "why": MEDIA_WITHHELD.format(account=account_id)}
        )
        return
    for entry in records:
        item_id = entry.record.evidence_item_id
        if item_id is not None:
            contents.subject("evidence_item", item_id)
            _add_item(session, vault, f"{folder}/files/{entry.record.public_id}", item_id, contents)


def _concerned(session: Session, account_id: str) -> bool:
    """Does a case concern the account? (Reports are filed about cases, so a filed report
    about the account implies one.)"""
    return bool(session.scalar(select(exists().where(Case.platform_account_id == account_id))))


def _add_item(
    session: Session, vault: EvidenceVault, path: str, item_id: str, contents: _Contents
) -> None:
    try:
        contents.members[path] = vault.get(session, item_id)
    except EvidenceShredded as exc:
        contents.unavailable.append(
            {
                "path": path,
                "evidence_item_id": item_id,
                "why": str(exc),
                **_purge_facts(session, item_id),
            }
        )
    except EvidenceError as exc:
        contents.unavailable.append(
            {"path": path, "evidence_item_id": item_id, "why": f"failed its integrity check: {exc}"}
        )


def _purge_facts(session: Session, item: Any) -> dict[str, Any]:
    item_id = getattr(item, "id", item)
    purge = (
        session.scalars(select(EvidencePurge).where(EvidencePurge.item_id == item_id)).one_or_none()
        if item_id
        else None
    )
    if purge is None:
        return {}
    return {
        "purged_at": purge.purged_at.isoformat(),
        "purged_by": purge.actor,
        "purge_reason": purge.reason,
    }


def _cover(contents: _Contents, records: Iterable[CaseRecord]) -> None:
    for entry in records:
        contents.subject("match_record", entry.record.public_id)
        contents.subject("evidence_item", entry.record.evidence_item_id)
        if entry.case is not None:
            contents.subject("review_case", entry.case.public_id)
        if entry.item is not None:
            contents.subject("review_item", entry.item.id)


def _request_document(
    request: LegalRequest, links: list[LegalRequestLink], session: Session
) -> dict[str, Any]:
    def report_id(link: LegalRequestLink) -> str | None:
        report = session.get(Report, link.report_id) if link.report_id else None
        return report.public_id if report else None

    return {
        "public_id": request.public_id,
        "agency": request.agency,
        "agency_case_number": request.agency_case_number,
        "kind": request.kind.value,
        "received_at": request.received_at.isoformat(),
        "due_at": request.due_at.isoformat(),
        "status": request.status.value,
        "links": [{"report_id": report_id(link), "account_id": link.account_id} for link in links],
    }


def _audit_trail(session: Session, subjects: dict[str, set[str]]) -> bytes:
    """Every audit record about the package's subjects, in chain order, hashes included so
    the recipient can see the records link up."""
    conditions = []
    for kind, ids in subjects.items():
        ordered = sorted(ids)
        for start in range(0, len(ordered), _SUBJECT_CHUNK):
            chunk = ordered[start : start + _SUBJECT_CHUNK]
            conditions.append(
                and_(AuditRecord.subject_type == kind, AuditRecord.subject_id.in_(chunk))
            )
    if not conditions:
        return b""
    records = session.scalars(select(AuditRecord).where(or_(*conditions)).order_by(AuditRecord.seq))
    return b"".join(
        canonical_json(
            {
                "seq": record.seq,
                "at": record.at,
                "actor": record.actor,
                "action": record.action.value,
                "subject_type": record.subject_type,
                "subject_id": record.subject_id,
                "details": record.details,
                "prev_hash": record.prev_hash,
                "hash": record.hash,
            }
        )
        + b"\n"
        for record in records
    )


def _custody_log(session: Session, request: LegalRequest) -> bytes:
    events = session.scalars(
        select(CustodyEvent).where(CustodyEvent.request_id == request.id).order_by(CustodyEvent.id)
    )
    return canonical_json(
        [
            {
                "id": event.id,
                "at": event.at,
                "actor": event.actor,
                "action": event.action,
                "sha256": event.sha256,
                "details": event.details,
            }
            for event in events
        ]
    )


def _manifest(
    request: LegalRequest, contents: _Contents, actor: str, now: datetime
) -> dict[str, Any]:
    return {
        "format": RESPONSE_FORMAT,
        "request": request.public_id,
        "agency": request.agency,
        "agency_case_number": request.agency_case_number,
        "built_at": now.isoformat(),
        "built_by": actor,
        "reports": contents.reports,
        "members": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for path, data in contents.members.items()
        ],
    }


def _zip(members: dict[str, bytes], now: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = now.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _write(out_dir: Path, request_public_id: str, now: datetime, archive: bytes) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"response-{request_public_id}-{now.strftime('%Y%m%dT%H%M%S')}.zip"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(archive)
    return path


def _record_build(
    session: Session,
    request: LegalRequest,
    actor: str,
    now: datetime,
    digest: str,
    manifest: dict[str, Any],
    contents: _Contents,
) -> CustodyEvent:
    details = {
        "members": len(manifest["members"]) + 1,
        "reports": [report["public_id"] for report in contents.reports],
        "unavailable": len(contents.unavailable),
        "media_withheld_accounts": contents.media_withheld,
    }
    event = CustodyEvent(
        request_id=request.id,
        at=now,
        actor=actor,
        action="package_built",
        sha256=digest,
        details=details,
    )
    session.add(event)
    session.flush()
    AuditLog(session).append(
        AuditAction.EXPORT,
        actor=actor,
        subject_type=REQUEST_SUBJECT,
        subject_id=request.public_id,
        at=now,
        details={
            "event": "response_package_built",
            "sha256": digest,
            "custody_event_id": event.id,
            **details,
        },
    )
    session.commit()
    return event


def _account_folder(account_id: str) -> str:
    # Distinct accounts whose names clean up alike must not share a folder.
    tag = hashlib.sha256(account_id.encode("utf-8")).hexdigest()[:8]
    return f"{safe_name(account_id, 'account', 60)}-{tag}"


# --- verification -------------------------------------------------------------------------


def _verify(opened: zipfile.ZipFile) -> ResponseCheck:
    infos = opened.infolist()
    if len(infos) > MAX_MEMBERS:
        return ResponseCheck(False, 0, (f"more than {MAX_MEMBERS} members",))
    problems = [
        f"unsafe member name {info.filename!r}" for info in infos if not _safe_member(info.filename)
    ]
    if sum(info.file_size for info in infos) > MAX_ARCHIVE_BYTES:
        return ResponseCheck(False, 0, ("the archive unpacks to more than the size limit",))
    names = {info.filename for info in infos}
    if MANIFEST_NAME not in names:
        return ResponseCheck(False, 0, ("the archive has no manifest.json", *problems))
    manifest = _json_member(opened, MANIFEST_NAME)
    members = manifest.get("members") if isinstance(manifest, dict) else None
    if not isinstance(members, list):
        return ResponseCheck(False, 0, ("manifest.json is malformed", *problems))
    checked, digests = 0, {}
    for entry in members:
        outcome = _check_member(opened, names, entry)
        if isinstance(outcome, str):
            problems.append(outcome)
        else:
            checked += 1
            digests[entry["path"]] = outcome
    listed = {entry.get("path") for entry in members if isinstance(entry, dict)}
    problems += [
        f"{name}: not in the manifest" for name in sorted(names - listed) if name != MANIFEST_NAME
    ]
    problems += _check_report_packages(opened, manifest, digests)
    return ResponseCheck(not problems, checked, tuple(problems))


def _check_member(opened: zipfile.ZipFile, names: set[str], entry: Any) -> str | bytes:
    """The member's digest (hex, as bytes) when it matches, else the problem."""
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        return "a manifest entry is malformed"
    path = entry["path"]
    if path not in names:
        return f"{path}: listed in the manifest but missing"
    data = opened.read(path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.get("sha256") or len(data) != entry.get("size"):
        return f"{path}: SHA-256 or size differs from the manifest"
    return digest.encode("ascii")


def _check_report_packages(
    opened: zipfile.ZipFile, manifest: dict[str, Any], digests: dict[str, bytes]
) -> list[str]:
    """Each preserved report's own manifest must have its recorded digest, and every part
    included must match that manifest."""
    problems = []
    for report in manifest.get("reports") or []:
        folder = report.get("folder") if isinstance(report, dict) else None
        path = f"{folder}/package-manifest.json"
        if not isinstance(folder, str) or path not in digests:
            continue
        if digests[path].decode("ascii") != report.get("package_sha256"):
            problems.append(f"{path}: differs from the report's recorded package digest")
            continue
        inner = _json_member(opened, path)
        for part in inner.get("parts", []) if isinstance(inner, dict) else []:
            member = f"{folder}/{part.get('name')}"
            if member in digests and digests[member].decode("ascii") != part.get("sha256"):
                problems.append(f"{member}: differs from the preserved report package")
    return problems


def _json_member(opened: zipfile.ZipFile, name: str) -> Any:
    try:
        return json.loads(opened.read(name))
    except ValueError:
        return None


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "\\" not in name
