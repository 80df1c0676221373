"""What links one clearinghouse report to others: a shared normalised entity, the same new or
seen file, or (optionally) a near copy of one. The clearinghouse shows these links, triage
counts them and the agency side lists them, so the definition lives once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, literal, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from vigil.store.models import (
    FileVerdict,
    IntakeEntity,
    IntakeEntityLink,
    IntakeFile,
    IntakeReport,
    IntakeState,
)

LIVE_STATES = (IntakeState.OPEN, IntakeState.FINISHED)
LINKING_VERDICTS = (FileVerdict.NEW, FileVerdict.SEEN)  # known files link nothing: viral
MAX_LINKED_ROWS = 5000  # rows read per kind of link for one report (hub entities fan out)


@dataclass(frozen=True, slots=True)
class Shared:
    kind: str  # an entity kind, "file" (same SHA-256) or "near_copy" (PDQ through matching)
    value: str


def shared_with(
    session: Session, report_id: int, *, near_copies: bool = True, limit: int = MAX_LINKED_ROWS
) -> dict[int, dict[Shared, None]]:
    """Other live reports linked to ``report_id``, each with what it shares (in order, without
    repeats), by ascending report id; at most ``limit`` rows of each kind of link are read."""
    params = {"report_id": report_id, "limit": max(1, limit)}
    shared: dict[int, dict[Shared, None]] = {}
    for statement in (
        (_BY_ENTITY, _BY_FILE, _BY_NEAR_COPY) if near_copies else (_BY_ENTITY, _BY_FILE)
    ):
        for other, kind, value in session.execute(statement, params):
            shared.setdefault(other, {}).setdefault(Shared(kind, value), None)
    return dict(sorted(shared.items()))


# Built once: composing aliased joins costs more than running them (triage reads these for
# every report it scores).


def _by_entity() -> Any:
    mine, theirs = aliased(IntakeEntityLink), aliased(IntakeEntityLink)
    other = aliased(IntakeReport)
    report_id: BindParameter[int] = bindparam("report_id")
    return (
        select(theirs.report_id, IntakeEntity.kind, IntakeEntity.value)
        .select_from(mine)
        .join(theirs, theirs.entity_id == mine.entity_id)
        .join(IntakeEntity, IntakeEntity.id == mine.entity_id)
        .join(other, other.id == theirs.report_id)
        .where(
            mine.report_id == report_id, theirs.report_id != report_id, other.state.in_(LIVE_STATES)
        )
        .order_by(theirs.report_id)
        .limit(bindparam("limit"))
    )


def _by_file(near: bool) -> Any:
    mine, theirs, other = aliased(IntakeFile), aliased(IntakeFile), aliased(IntakeReport)
    report_id: BindParameter[int] = bindparam("report_id")
    joined: ColumnElement[bool]
    extra: tuple[ColumnElement[bool], ...]
    if near:  # the earliest copy one of them matched, under another SHA-256
        joined = (theirs.id == mine.matched_file_id) | (theirs.matched_file_id == mine.id)
        kind, value, extra = "near_copy", theirs.sha256, (theirs.sha256 != mine.sha256,)
    else:
        joined, kind, value, extra = theirs.sha256 == mine.sha256, "file", mine.sha256, ()
    return (
        select(theirs.report_id, literal(kind), value)
        .select_from(mine)
        .join(theirs, joined)
        .join(other, other.id == theirs.report_id)
        .where(
            mine.report_id == report_id,
            mine.verdict.in_(LINKING_VERDICTS),
            theirs.report_id != report_id,
            other.state.in_(LIVE_STATES),
            *extra,
        )
        .order_by(theirs.report_id)
        .limit(bindparam("limit"))
    )


_BY_ENTITY = _by_entity()
_BY_FILE = _by_file(near=False)
_BY_NEAR_COPY = _by_file(near=True)
