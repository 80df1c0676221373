"""Walking the chain from the genesis value and naming the first record that breaks it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.audit.chain import record_hash
from vigil.store.models.audit import CHAIN_HEAD_ROW_ID, GENESIS_HASH, AuditChainHead, AuditRecord

_BATCH = 1000


@dataclass(frozen=True)
class ChainBreak:
    seq: int  # the first sequence number whose record is wrong, missing or unexpected
    reason: str


@dataclass(frozen=True)
class ChainReport:
    records: int  # records checked before the break (all of them when intact)
    last_seq: int
    last_hash: str
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(session: Session, *, anchors: Mapping[int, str] | None = None) -> ChainReport:
    """Recompute every hash in seq order, then compare the end with the chain head.

    ``anchors`` maps sequence numbers to hashes kept outside the database (e.g. published);
    only they reveal a chain rewritten from some point on by someone who recomputed hashes.
    Pass a session that has not run a statement yet: on PostgreSQL its transaction is made
    REPEATABLE READ, so the records and the head come from one snapshot and a concurrent
    append is not mistaken for tampering (a SQLite read transaction is a snapshot already).
    """
    _use_one_snapshot(session)
    anchors = dict(anchors or {})
    seq, last_hash = 0, GENESIS_HASH
    table = AuditRecord.__table__
    rows = session.execute(select(table).order_by(table.c.seq).execution_options(yield_per=_BATCH))
    for row in rows:
        fields: dict[str, Any] = dict(row._mapping)
        problem = _record_problem(fields, seq + 1, last_hash, anchors)
        if problem is not None:
            return ChainReport(seq, seq, last_hash, problem)
        seq, last_hash = fields["seq"], fields["hash"]
    broken = _end_problem(session, seq, last_hash, anchors)
    return ChainReport(seq, seq, last_hash, broken)


def _use_one_snapshot(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _record_problem(
    fields: Mapping[str, Any],
    expected_seq: int,
    prev_hash: str,
    anchors: Mapping[int, str],
) -> ChainBreak | None:
    if fields["seq"] != expected_seq:
        return ChainBreak(
            expected_seq, f"record {expected_seq} is missing (the next record is {fields['seq']})"
        )
    if fields["prev_hash"] != prev_hash:
        return ChainBreak(
            expected_seq,
            "does not follow the previous record (a record was removed, inserted or reordered)",
        )
    if record_hash(fields) != fields["hash"]:
        return ChainBreak(expected_seq, "its contents do not match its hash (edited)")
    if anchors.get(expected_seq, fields["hash"]) != fields["hash"]:
        return ChainBreak(expected_seq, "does not match the anchor hash given for it")
    return None


def _end_problem(
    session: Session,
    last_seq: int,
    last_hash: str,
    anchors: Mapping[int, str],
) -> ChainBreak | None:
    beyond = [seq for seq in anchors if seq > last_seq]
    if beyond:
        return ChainBreak(
            last_seq + 1,
            f"the chain ends at {last_seq} but an anchor names "
            f"record {min(beyond)} (records were removed)",
        )
    head = session.get(AuditChainHead, CHAIN_HEAD_ROW_ID, populate_existing=True)
    if head is None:
        if last_seq == 0:
            return None  # nothing was ever appended
        return ChainBreak(
            last_seq,
            "the chain head is missing, so removal of records from the end cannot be ruled out",
        )
    if head.last_seq > last_seq:
        return ChainBreak(
            last_seq + 1,
            f"records {last_seq + 1}..{head.last_seq} are missing (the end of the log was removed)",
        )
    if head.last_seq < last_seq:
        return ChainBreak(
            head.last_seq + 1, "record is beyond the chain head (appended without the audit log)"
        )
    if head.last_hash != last_hash:
        return ChainBreak(last_seq, "the last record does not match the chain head")
    return None
