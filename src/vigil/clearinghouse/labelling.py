"""An analyst's label on a received file, written back into the clearinghouse's own list so
the next copy is known without anyone viewing it again.

The file's SHA-256, MD5 and SHA-1 (and PDQ, when it has one) go into the labels list (created
on first use) with the classification; the live index picks the new entries up from the change
feed at its next poll. A hash the list already holds is relabelled. The decision is audited
(DECISION), with the classification and counts but no hashes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.clearinghouse.known_or_new import own_list
from vigil.store.audit.log import AuditLog
from vigil.store.errors import StoreError
from vigil.store.evidence import EvidenceVault
from vigil.store.lists.manual_entries import NewSignal, add_entries
from vigil.store.models import FileVerdict, IntakeFile, ListEntry, SignalType
from vigil.store.models.audit import AuditAction
from vigil.store.records.held_regions import HeldOwner, hold_evidence
from vigil.store.shared.rescoring import mark_for_rescore
from vigil.store.shared.vocabulary import (
    CLEARINGHOUSE_LABELS_LIST,
    INDUSTRY_CLASSIFICATIONS,
    is_classification,
)

LABELS_LIST = CLEARINGHOUSE_LABELS_LIST


class UnknownIntakeFile(StoreError, LookupError):
    pass


class InvalidClassification(StoreError, ValueError):
    pass


def label_file(
    session: Session,
    file_id: int,
    classification: str,
    *,
    actor: str,
    list_name: str = LABELS_LIST,
    series: str | None = None,
    victim_identified: bool | None = None,
    vault: EvidenceVault | None = None,
) -> list[int]:
    """Label file ``file_id``: its hashes join ``list_name`` with ``classification`` and the
    file becomes known. With ``vault``, its kept picture is also held as region hashes
    (vigil.store.records.held_regions). Returns the list entry ids. Flushes; the caller
    commits."""
    if not is_classification(classification):
        raise InvalidClassification(
            f"classification must be one of {', '.join(INDUSTRY_CLASSIFICATIONS)}"
        )
    file = session.get(IntakeFile, file_id)
    if file is None:
        raise UnknownIntakeFile(f"no received file with id {file_id}")
    hash_list = own_list(
        session, list_name, actor=actor, description="Files labelled by clearinghouse analysts"
    )
    added = add_entries(
        session,
        hash_list,
        _signals(file),
        actor=actor,
        reason=f"labelled {classification} at the clearinghouse",
        classification=classification,
    )
    entries = list(session.scalars(select(ListEntry).where(ListEntry.id.in_(added.entry_ids))))
    relabelled = _apply_label(entries, classification, series, victim_identified)
    file.verdict, file.classification = FileVerdict.KNOWN, classification
    file.matched_entry_id = _preferred(entries)
    session.flush()
    owner = HeldOwner(intake_file_id=file.id)
    hold_evidence(session, vault, owner, file.evidence_item_id, file.media_type)
    mark_for_rescore(session, [file.report_id])  # a label is a new fact for triage
    AuditLog(session).append(
        AuditAction.DECISION,
        actor=actor,
        subject_type="intake_file",
        subject_id=str(file.id),
        details={
            "decision": "label",
            "classification": classification,
            "list": list_name,
            "added": len(added.added),
            "relabelled": relabelled,
            "skipped": len(added.skipped),
            "report_id": file.report_id,
        },
    )
    return added.entry_ids


def _signals(file: IntakeFile) -> list[NewSignal]:
    signals = [
        NewSignal(SignalType.SHA256, file.sha256),
        NewSignal(SignalType.MD5, file.md5),
        NewSignal(SignalType.SHA1, file.sha1),
    ]
    if file.pdq:
        signals.append(NewSignal(SignalType.PDQ, file.pdq))
    return signals


def _apply_label(
    entries: list[ListEntry],
    classification: str,
    series: str | None,
    victim_identified: bool | None,
) -> int:
    """Set the label on every entry (add_entries leaves existing ones as they were);
    returns how many had another classification before."""
    relabelled = 0
    for entry in entries:
        if entry.classification not in (None, classification):
            relabelled += 1
        entry.classification = classification
        if series is not None:
            entry.series = series[:255]
        if victim_identified is not None:
            entry.victim_identified = victim_identified
    return relabelled


def _preferred(entries: list[ListEntry]) -> int | None:
    by_type = {entry.signal_type: entry.id for entry in entries}
    return by_type.get(SignalType.SHA256) or next(iter(by_type.values()), None)
