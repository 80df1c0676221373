"""Reviewers' verdicts on matched entries, queued for the exchanges that shared them, and
what became of that feedback, as shown beside each entry.

Review calls ``queue_verdicts`` in the decision's transaction, so the decision and its
feedback commit or roll back together; the queue (feedback_queue) audits each item. Only
entries an exchange stored are concerned, and only when that exchange's kind takes feedback
(``FEEDBACK_KINDS``) and its administrator left feedback on: a file's entry has no one to
tell, and an exchange that takes none would only fail the item later.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.exchanges.feedback_queue import enqueue_feedback
from vigil.store.exchanges.provenance import entry_provenance
from vigil.store.models import ExchangeFeedback, FeedbackState, FeedbackVerdict


@dataclass(frozen=True, slots=True)
class FeedbackLine:
    """One queued verdict on an entry, for the screens that show the entry."""

    entry_id: int
    verdict: str
    state: str  # pending, sent, failed
    reason: str | None  # why it failed, else the reviewer's reason (negative feedback)

    @property
    def text(self) -> str:
        """E.g. "negative feedback: failed (refused: unknown entry)"."""
        said = f"{self.verdict} feedback: {self.state}"
        return f"{said} ({self.reason})" if self.reason else said


def queue_verdicts(
    session: Session,
    entry_ids: Collection[int],
    verdict: FeedbackVerdict,
    *,
    actor: str,
    reason: str | None = None,
) -> list[int]:
    """Queue ``verdict`` on each of ``entry_ids`` that an exchange taking feedback shared;
    returns the ids of the queued feedback items (none for file or manual entries)."""
    queued = []
    for origin in entry_provenance(session, entry_ids).values():
        if not origin.takes_feedback or origin.exchange is None or not origin.external_id:
            continue
        item = enqueue_feedback(
            session,
            origin.exchange,
            external_id=origin.external_id,
            signal_type=origin.signal_type,
            signal=origin.signal,
            verdict=verdict,
            actor=actor,
            reason=reason if verdict is FeedbackVerdict.NEGATIVE else None,
            entry_id=origin.entry_id,
        )
        if item is not None:
            queued.append(item.id)
    return queued


def feedback_lines(session: Session, entry_ids: Collection[int]) -> dict[int, list[FeedbackLine]]:
    """The feedback queued on each of ``entry_ids``, oldest first, by entry id."""
    wanted = sorted(set(entry_ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(ExchangeFeedback)
        .where(ExchangeFeedback.entry_id.in_(wanted))
        .order_by(ExchangeFeedback.id)
    )
    lines: dict[int, list[FeedbackLine]] = {}
    for row in rows:
        assert row.entry_id is not None  # selected by entry id
        why = row.last_error if row.state is FeedbackState.FAILED else row.reason
        lines.setdefault(row.entry_id, []).append(
            FeedbackLine(row.entry_id, str(row.verdict), str(row.state), why)
        )
    return lines
