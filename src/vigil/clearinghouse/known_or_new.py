"""Known, seen or new: what each received file turns out to be.

* ``known``: the file matches a list entry that carries a classification (any enabled list:
  imported ones, or the clearinghouse's own labels). It inherits the classification, and the
  entry's series and victim-identified flag travel in the outcome's ``details`` (IntakeFile
  has no columns for them; ``matched_entry_id`` leads back to them). Nobody needs to view it.
* ``seen``: no labelled entry, but a file of an earlier report is the same (SHA-256, by SQL)
  or near the same (PDQ within the received list's distance, 31 by default, through the
  match index). ``matched_file_id`` names the earliest such copy.
* ``new``: nothing matched: possibly a child being abused now.

Near copies go through the index rather than a table scan: every received file's PDQ is
written to the clearinghouse's own ``clearinghouse-received`` list (no classification, so it
never makes anything known), and the live index follows it through the change feed like any
list. The index lags commits by its poll interval, so an identical PDQ is also looked up by
SQL. Give the clearinghouse its own Matcher: a platform's screening should not match what
the clearinghouse received.

Matching uses ``Matcher.hits`` and ``decide`` rather than ``Matcher.screen``: screen opens a
second write transaction (a deadlock against the caller's on SQLite) and feeds the flood
guard, which would quarantine the received-list entries of every viral file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.clearinghouse.bundling import bundle_report
from vigil.clearinghouse.entities import link_report
from vigil.fingerprint.record import Fingerprint
from vigil.screening.matcher import Matcher
from vigil.screening.verdict import Hit, Verdict, decide
from vigil.store.lists.catalogue import create_list
from vigil.store.lists.errors import DuplicateList
from vigil.store.models import (
    FileVerdict,
    HashList,
    IntakeFile,
    IntakeReport,
    IntakeState,
    ListEntry,
    SignalType,
    utcnow,
)

RECEIVED_LIST = "clearinghouse-received"
INTAKE_ACTOR = "clearinghouse-intake"
# IntakeFile keeps no PDQ quality: the intake stores a PDQ only when it is not weak, so a
# stored one counts as good enough for every list's minimum quality.
STORED_PDQ_QUALITY = 100
_DIGEST_KINDS = frozenset({"md5", "sha1", "sha256"})

FinishHook = Callable[[Session, IntakeReport], None]


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What one file turned out to be (named apart from the FileVerdict enum it carries)."""

    file_id: int
    verdict: FileVerdict
    classification: str | None = None
    matched_entry_id: int | None = None
    matched_file_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)  # series, victim_identified, list


def classify_file(
    session: Session,
    matcher: Matcher,
    file: IntakeFile,
    *,
    now: datetime | None = None,
    received: HashList | None = None,
) -> FileOutcome:
    """Classify ``file`` and set its verdict, matched entry/file and classification; its
    PDQ joins the received list (``received``, looked up when not given) so later copies
    find it. Flushes; the caller commits."""
    verdict = _index_verdict(matcher, fingerprint_of(file))
    earlier = earliest_copy(session, file, near_entries=_received_entries(matcher, verdict))
    outcome = _labelled(session, matcher, file, verdict, earlier) or _unlabelled(
        file, verdict, earlier
    )
    file.verdict = outcome.verdict
    file.classification = outcome.classification
    file.matched_entry_id = outcome.matched_entry_id
    file.matched_file_id = outcome.matched_file_id
    remember_received(session, file, now=now, hash_list=received)
    session.flush()
    return outcome


def classify_report(session: Session, matcher: Matcher, report: IntakeReport) -> list[FileOutcome]:
    # One lookup of the received list per report, not one per file.
    received = received_list(session) if any(f.pdq for f in report.files) else None
    return [classify_file(session, matcher, file, received=received) for file in report.files]


def make_finish_hook(matcher: Matcher) -> FinishHook:
    """The intake's ``on_finished(session, report)``: classify every file, bundle viral
    reports into incidents and link the report's entities, in the finishing transaction."""

    def on_finished(session: Session, report: IntakeReport) -> None:
        classify_report(session, matcher, report)
        bundle_report(session, report)
        link_report(session, report)

    return on_finished


def fingerprint_of(file: IntakeFile) -> Fingerprint:
    """The stored digests and PDQ as a Fingerprint: matching needs no content."""
    return Fingerprint(
        path=f"intake:{file.public_id}",
        media_type=file.media_type,
        size=file.size,
        md5=file.md5,
        sha1=file.sha1,
        sha256=file.sha256,
        pdq=file.pdq,
        pdq_quality=STORED_PDQ_QUALITY if file.pdq else None,
    )


def _index_verdict(matcher: Matcher, fingerprint: Fingerprint) -> Verdict:
    with matcher.live.lock:
        matcher.live.ensure_current()
        return decide(matcher.hits(fingerprint), matcher.live.lists)


def _labelled(
    session: Session,
    matcher: Matcher,
    file: IntakeFile,
    verdict: Verdict,
    earlier: IntakeFile | None,
) -> FileOutcome | None:
    earlier_id = earlier.id if earlier is not None else None
    if verdict.suppressed_by:
        # An allow-list names known benign content: nobody needs to view it either.
        lists = sorted({_list_name(session, hit.list_id) for hit in verdict.suppressed_by})
        return FileOutcome(
            file.id,
            FileVerdict.KNOWN,
            matched_file_id=earlier_id,
            details={"allow_listed_by": lists},
        )
    # The received list holds no classifications: most files are seen copies, whose only
    # hits are there, and they need no read of the entries.
    entries = _entries(session, [h for h in verdict.hits if not _is_received(matcher, h.list_id)])
    labelled = [
        (hit, entries[hit.entry_id])
        for hit in verdict.hits
        if hit.entry_id in entries and entries[hit.entry_id].classification
    ]
    if not labelled:
        return None
    hit, entry = min(labelled, key=lambda pair: _closeness(pair[0]))
    details = {
        "list": entry.hash_list.name,
        "signal_type": hit.signal_type,
        "distance": hit.distance,
        "series": entry.series,
        "victim_identified": entry.victim_identified,
    }
    return FileOutcome(
        file.id, FileVerdict.KNOWN, entry.classification, entry.id, earlier_id, details
    )


def _unlabelled(file: IntakeFile, verdict: Verdict, earlier: IntakeFile | None) -> FileOutcome:
    details: dict[str, Any] = {}
    if earlier is None:
        return FileOutcome(file.id, FileVerdict.NEW, details=details)
    details["first_report_id"] = earlier.report_id
    return FileOutcome(file.id, FileVerdict.SEEN, matched_file_id=earlier.id, details=details)


def _closeness(hit: Hit) -> tuple[int, int]:
    """Exact digests first, then the nearest PDQ."""
    return (0 if hit.signal_type in _DIGEST_KINDS else 1, hit.distance or 0)


def _entries(session: Session, hits: Sequence[Hit]) -> dict[int, ListEntry]:
    if not hits:
        return {}
    rows = session.scalars(select(ListEntry).where(ListEntry.id.in_({h.entry_id for h in hits})))
    return {row.id: row for row in rows}


def _list_name(session: Session, list_id: int) -> str:
    return session.scalar(select(HashList.name).where(HashList.id == list_id)) or str(list_id)


def _received_entries(matcher: Matcher, verdict: Verdict) -> list[int]:
    """Received-list entries (PDQs of received files) the index found near this one."""
    return [
        h.entry_id
        for h in verdict.hits
        if h.signal_type == SignalType.PDQ.value and _is_received(matcher, h.list_id)
    ]


def _is_received(matcher: Matcher, list_id: int) -> bool:
    settings = matcher.live.lists.get(list_id)
    return settings is not None and settings.name == RECEIVED_LIST


def earliest_copy(
    session: Session,
    file: IntakeFile,
    near_pdqs: Sequence[str] = (),
    *,
    near_entries: Sequence[int] = (),
) -> IntakeFile | None:
    """The earliest file of another live report with the same SHA-256, the same PDQ, one
    of ``near_pdqs`` or the PDQ of one of the list entries ``near_entries``; None when
    there is none. The entries are read in the same query: one round trip, not two."""
    same = IntakeFile.sha256 == file.sha256
    pdqs = {*near_pdqs, *([file.pdq] if file.pdq else [])}
    if pdqs:
        same = same | IntakeFile.pdq.in_(pdqs)
    if near_entries:
        same = same | IntakeFile.pdq.in_(
            select(ListEntry.signal).where(ListEntry.id.in_(set(near_entries)))
        )
    query = (
        select(IntakeFile)
        .join(IntakeReport, IntakeReport.id == IntakeFile.report_id)
        .where(
            same,
            IntakeFile.id != file.id,
            IntakeFile.report_id != file.report_id,
            IntakeReport.state.not_in([IntakeState.RETRACTED, IntakeState.EXPIRED]),
        )
        .order_by(IntakeFile.id)
        .limit(1)
    )
    if file.id is not None:
        query = query.where(IntakeFile.id < file.id)
    return session.scalars(query).first()


def own_list(session: Session, name: str, *, actor: str, description: str) -> HashList:
    """The clearinghouse's list ``name``, created on first use (race-safe: a concurrent
    creator wins and this transaction uses its list)."""
    found = session.scalar(select(HashList).where(HashList.name == name))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return create_list(session, name, actor=actor, description=description)
    except (IntegrityError, DuplicateList):
        return session.scalars(select(HashList).where(HashList.name == name)).one()


def received_list(session: Session) -> HashList:
    return own_list(
        session,
        RECEIVED_LIST,
        actor=INTAKE_ACTOR,
        description="PDQ of every file the clearinghouse received",
    )


def remember_received(
    session: Session,
    file: IntakeFile,
    *,
    now: datetime | None = None,
    hash_list: HashList | None = None,
) -> None:
    """Add the file's PDQ to the received list (once per distinct PDQ)."""
    if not file.pdq:
        return
    hash_list = hash_list or received_list(session)
    exists = session.scalar(
        select(ListEntry.id).where(
            ListEntry.list_id == hash_list.id,
            ListEntry.signal_type == SignalType.PDQ,
            ListEntry.signal == file.pdq.lower(),
        )
    )
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                ListEntry(
                    hash_list=hash_list,
                    signal_type=SignalType.PDQ,
                    signal=file.pdq,
                    source=f"intake:{file.public_id}"[:500],
                    added_at=now or utcnow(),
                )
            )
            session.flush()
    except IntegrityError:
        pass  # a concurrent report added the same PDQ: it is in the list either way
