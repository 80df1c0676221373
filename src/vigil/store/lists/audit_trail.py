"""Security audit records of acts on hash lists: settings, entry switches, imports, exports.

Each function appends one record in the caller's session, so it commits or rolls back with
the act. Details hold names, ids, settings and counts, never list content (hashes, notes):
an auditor learns who changed what, not what a list holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import PurePath
from typing import Any

from sqlalchemy.orm import Session

from vigil.store import audit
from vigil.store.audit import AuditAction, AuditLog, AuditRecord
from vigil.store.lists.errors import InvalidListSetting
from vigil.store.lists.import_batch import BatchCounts

LIST_SUBJECT = "hash_list"
ENTRY_SUBJECT = "list_entry"
MAX_TEXT_CHARS = 500  # free text (descriptions, reasons, file names) kept in details


def checked_actor(actor: str) -> str:
    """vigil.store.audit's check, refusing as list settings do: InvalidListSetting."""
    return audit.checked_actor(actor, refusal=InvalidListSetting)


def record_list_change(
    session: Session,
    list_name: str,
    *,
    actor: str,
    change: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
) -> AuditRecord:
    """A list created (``old`` empty), its settings changed, or it switched on or off."""
    return AuditLog(session).append(
        AuditAction.SETTING_CHANGED,
        actor=checked_actor(actor),
        subject_type=LIST_SUBJECT,
        subject_id=list_name,
        details={"change": change, "old": _bounded(old), "new": _bounded(new)},
    )


def record_entry_change(
    session: Session,
    entry_id: int,
    *,
    actor: str,
    list_name: str,
    old_status: str,
    new_status: str,
    reason: str | None,
) -> AuditRecord:
    return AuditLog(session).append(
        AuditAction.SETTING_CHANGED,
        actor=checked_actor(actor),
        subject_type=ENTRY_SUBJECT,
        subject_id=str(entry_id),
        details={
            "change": "status",
            "list": list_name,
            "entry_id": entry_id,
            "old_status": str(old_status),
            "new_status": str(new_status),
            "reason": _text(reason),
        },
    )


def record_suspicion_change(
    session: Session,
    entry_id: int,
    *,
    actor: str,
    list_name: str,
    change: str,
    reason: str | None,
) -> AuditRecord:
    """The flood guard made an entry suspect (``change`` "suspect"), or a person confirmed
    ("suspect_confirmed") or quarantined ("suspect_quarantined") it."""
    return AuditLog(session).append(
        AuditAction.SETTING_CHANGED,
        actor=checked_actor(actor),
        subject_type=ENTRY_SUBJECT,
        subject_id=str(entry_id),
        details={
            "change": change,
            "list": list_name,
            "entry_id": entry_id,
            "reason": _text(reason),
        },
    )


def record_import(
    session: Session,
    list_name: str,
    *,
    actor: str,
    job_id: int,
    source: str,
    format_label: str,
    records_read: int,
    errors: int,
    counts: BatchCounts,
) -> AuditRecord:
    """One record per completed import job, whatever its number of batches."""
    return AuditLog(session).append(
        AuditAction.SETTING_CHANGED,
        actor=checked_actor(actor),
        subject_type=LIST_SUBJECT,
        subject_id=list_name,
        details={
            "change": "import",
            "list": list_name,
            "job_id": job_id,
            "source": file_name(source),
            "format": format_label,
            "records_read": records_read,
            "errors": errors,
            "counts": asdict(counts),
        },
    )


def record_export(
    session: Session,
    list_name: str,
    *,
    actor: str,
    export_format: str,
    entries: int,
    destination: str,
    include_inactive: bool,
) -> AuditRecord:
    return AuditLog(session).append(
        AuditAction.EXPORT,
        actor=checked_actor(actor),
        subject_type=LIST_SUBJECT,
        subject_id=list_name,
        details={
            "list": list_name,
            "format": str(export_format),
            "entries": entries,
            "destination": file_name(destination),
            "include_inactive": include_inactive,
        },
    )


def file_name(path: str) -> str:
    """Only the last part of a path: where an export went, not the operator's directories."""
    return _text(PurePath(path).name or path) or ""


def _bounded(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _text(value) if isinstance(value, str) else value for key, value in values.items()}


def _text(value: str | None) -> str | None:
    return value[:MAX_TEXT_CHARS] if value is not None else None
