"""The referral package an agency downloads: one signed ZIP with the report byte for byte,
its parsed form, the files' fingerprints and labels, the entities, which other reports it is
linked to (ids, companies and the kinds of what they share - never their contents), the
triage explanation, the VICS JSON and, only when the agency may receive them, the files.

manifest.json lists every other member with its size and SHA-256; manifest.sig is the
clearinghouse's Ed25519 signature over manifest.json's exact bytes; signing_key.pub is the
public key (listed in the manifest too). See docs/vics.md for the format and how to verify.

Who may download a package is the caller's business (the agency scope rules); this module
refuses media to an agency not allowed them, and audits every file it decrypts.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.agency.package_verification import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    verify_referral_package,
)
from vigil.agency.queue import split_by_agency
from vigil.agency.signing import public_key_fingerprint, public_key_pem, sign
from vigil.agency.vics import UnknownReferral, file_labels, vics_export
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.errors import StoreError
from vigil.store.evidence import EvidenceShredded, EvidenceVault
from vigil.store.models import (
    Agency,
    IntakeEntity,
    IntakeEntityLink,
    IntakeReport,
    Referral,
    ReportingCompany,
    ReportTriage,
    utcnow,
)
from vigil.store.shared.report_links import shared_with

__all__ = ["PackageRefused", "UnknownReferral", "build_referral_package", "verify_referral_package"]

MAX_LINKED = 500
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF8", "gif"),
    (b"BM", "bmp"),
    (b"\x1a\x45\xdf\xa3", "webm"),
    (b"II*\x00", "tif"),
    (b"MM\x00*", "tif"),
)


class PackageRefused(StoreError, PermissionError):
    """The package cannot be built as asked (e.g. media for an agency not allowed them)."""


@dataclass
class _Members:
    """The archive's members in order, with the manifest entries they produce."""

    created_at: datetime
    entries: list[tuple[str, bytes]] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)

    def add(self, path: str, content: bytes) -> None:
        if path not in self.paths:  # a file sent twice in one report: one copy
            self.paths.add(path)
            self.entries.append((path, content))

    def manifest(self, header: dict[str, Any]) -> bytes:
        members = [
            {"path": path, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for path, content in self.entries
        ]
        return _json({**header, "members": members})


def build_referral_package(
    session: Session,
    vault: EvidenceVault | None,
    referral_id: int,
    *,
    include_media: bool,
    signing_key: Ed25519PrivateKey,
    actor: str,
    now: datetime | None = None,
) -> bytes:
    """The signed ZIP for referral ``referral_id``. With ``include_media`` the files are
    decrypted and each read is audited (MEDIA_VIEWED, by ``actor``) in ``session``: run it in
    a write transaction and commit, or the audit records are lost with it."""
    referral, report, agency = _referral(session, referral_id)
    if include_media and (agency is None or not agency.media_allowed):
        raise PackageRefused("this agency may not receive the files themselves")
    if include_media and vault is None:
        raise PackageRefused("the evidence store is not configured (no master key)")
    members = _Members(created_at=now or utcnow())
    media = _media(session, vault, report, referral, actor) if include_media and vault else {}
    _add_documents(session, members, referral, report, media)
    for path, content in media.values():
        members.add(path, content)
    members.add(PUBLIC_KEY, public_key_pem(signing_key))
    manifest = members.manifest(
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": _timestamp(members.created_at),
            "referral_id": referral.id,
            "report_id": report.id,
            "agency": agency.code if agency else None,
            "includes_media": include_media,
            "signature": {
                "algorithm": "Ed25519",
                "member": SIGNATURE,
                "public_key": PUBLIC_KEY,
                "public_key_sha256": public_key_fingerprint(signing_key),
            },
        }
    )
    return _zip(members, manifest, sign(signing_key, manifest))


def _referral(session: Session, referral_id: int) -> tuple[Referral, IntakeReport, Agency | None]:
    referral = session.get(Referral, referral_id)
    report = session.get(IntakeReport, referral.report_id) if referral else None
    if referral is None or report is None:
        raise UnknownReferral(f"no referral with id {referral_id}")
    agency = session.get(Agency, referral.agency_id) if referral.agency_id else None
    return referral, report, agency


def _add_documents(
    session: Session,
    members: _Members,
    referral: Referral,
    report: IntakeReport,
    media: dict[int, tuple[str, bytes]],
) -> None:
    paths = {file.sha256: media[file.id][0] for file in report.files if file.id in media}
    members.add("report.xml", bytes(report.raw_xml))
    members.add("report.json", _json(_report(session, report)))
    members.add("files.json", _json(_files(session, report, media)))
    members.add("entities.json", _json(_entities(session, report.id)))
    members.add("linked.json", _json(_linked(session, report.id, referral.agency_id)))
    members.add("triage.json", _json(_triage(session, report.id)))
    members.add("vics.json", _json(vics_export(session, referral.id, media_paths=paths)))


def _report(session: Session, report: IntakeReport) -> dict[str, Any]:
    company = session.get(ReportingCompany, report.company_id)
    return {
        "reportId": report.id,
        "company": company.name if company else None,
        "state": str(report.state),
        "openedAt": report.opened_at,
        "finishedAt": report.finished_at,
        "incidentId": report.incident_id,
        "document": report.parsed,
    }


def _files(
    session: Session, report: IntakeReport, media: dict[int, tuple[str, bytes]]
) -> list[dict[str, Any]]:
    files = []
    for file in report.files:
        labels = file_labels(session, file)
        files.append(
            {
                "fileId": file.public_id,
                "name": file.file_name,
                "size": file.size,
                "md5": file.md5,
                "sha1": file.sha1,
                "sha256": file.sha256,
                "pdq": file.pdq,
                "mediaType": file.media_type,
                "verdict": str(file.verdict) if file.verdict else None,
                "classification": labels.classification,
                "classifiedBy": labels.classified_by,
                "labels": {
                    "annotations": labels.annotations,
                    "series": labels.series,
                    "victimIdentified": labels.victim_identified,
                    "list": labels.list_name,
                },
                "fileDetails": file.details,
                "receivedAt": file.received_at,
                "media": media[file.id][0] if file.id in media else None,
            }
        )
    return files


def _entities(session: Session, report_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            IntakeEntity.kind,
            IntakeEntity.value,
            IntakeEntityLink.seen_at,
            IntakeEntityLink.context,
        )
        .join(IntakeEntityLink, IntakeEntityLink.entity_id == IntakeEntity.id)
        .where(IntakeEntityLink.report_id == report_id)
        .order_by(IntakeEntity.kind, IntakeEntity.value)
    )
    return [
        {"kind": row.kind, "value": row.value, "seen_at": row.seen_at, "context": row.context}
        for row in rows
    ]


def _linked(session: Session, report_id: int, agency_id: int | None) -> dict[str, Any]:
    """Other live reports sharing an entity or a new/seen file that are routed to the same
    agency: ids, companies, the kinds of what is shared. Linked reports elsewhere (another
    agency's, or not routed) are only counted, as on the agency's pages; never any contents."""
    shared = shared_with(session, report_id, near_copies=False)
    if agency_id is None:
        return {"reports": [], "elsewhere": len(shared), "truncated": False}
    here, elsewhere = split_by_agency(session, agency_id, list(shared))
    rows = session.execute(
        select(IntakeReport.id, ReportingCompany.name)
        .join(ReportingCompany, ReportingCompany.id == IntakeReport.company_id)
        .where(IntakeReport.id.in_([item.report_id for item in here]))
        .order_by(IntakeReport.id)
        .limit(MAX_LINKED + 1)
    ).all()
    reports = [
        {
            "reportId": row.id,
            "company": row.name,
            "shares": sorted({item.kind for item in shared[row.id]}),
        }
        for row in rows[:MAX_LINKED]
    ]
    return {"reports": reports, "elsewhere": elsewhere, "truncated": len(rows) > MAX_LINKED}


def _triage(session: Session, report_id: int) -> dict[str, Any] | None:
    triage = session.get(ReportTriage, report_id)
    if triage is None:
        return None
    override = (
        None
        if triage.override_priority is None
        else {
            "priority": triage.override_priority,
            "reason": triage.override_reason,
            "by": triage.override_by,
            "at": triage.override_at,
        }
    )
    return {
        "priority": triage.priority,
        "effectivePriority": triage.effective_priority,
        "score": triage.score,
        "reasons": triage.reasons,
        "disposition": str(triage.disposition),
        "weightsVersion": triage.weights_version,
        "computedAt": triage.computed_at,
        "override": override,
    }


def _media(
    session: Session, vault: EvidenceVault, report: IntakeReport, referral: Referral, actor: str
) -> dict[int, tuple[str, bytes]]:
    """{file id: (member path, content)}; each decryption audited. Shredded files are left
    out (files.json says so by its null media path)."""
    media: dict[int, tuple[str, bytes]] = {}
    audit = AuditLog(session)
    for file in report.files:
        if file.evidence_item_id is None:
            continue
        try:
            content = vault.get(session, file.evidence_item_id)
        except EvidenceShredded:
            continue
        audit.append(
            AuditAction.MEDIA_VIEWED,
            actor=actor,
            subject_type="intake_file",
            subject_id=str(file.id),
            details={
                "report_id": report.id,
                "referral_id": referral.id,
                "purpose": "referral package",
            },
        )
        media[file.id] = (f"media/{file.sha256}.{_extension(content)}", content)
    return media


def _zip(members: _Members, manifest: bytes, signature: bytes) -> bytes:
    buffer = io.BytesIO()
    stamp = members.created_at.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in [*members.entries, (MANIFEST, manifest), (SIGNATURE, signature)]:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.external_attr = 0o100644 << 16
            # Media are compressed already; deflating them again only costs time.
            info.compress_type = (
                zipfile.ZIP_STORED if path.startswith("media/") else zipfile.ZIP_DEFLATED
            )
            archive.writestr(info, content)
    return buffer.getvalue()


def _extension(content: bytes) -> str:
    if content[4:8] == b"ftyp":
        return "mp4"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext in _MAGIC if content.startswith(magic)), "bin")


def _json(value: Any) -> bytes:
    return (
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=_encode).encode(
            "utf-8"
        )
        + b"\n"
    )


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot encode {type(value).__name__}")


def _timestamp(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
