"""Hourly match counts per entry, the history the flood guard compares a surge against."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.store.affected_rows import affected_rows
from vigil.store.models import ListEntry, MatchStat

BUCKET = timedelta(hours=1)


def bucket_start(at: datetime) -> datetime:
    """The UTC hour containing ``at`` (an aware datetime)."""
    if at.tzinfo is None:
        raise ValueError("bucket_start needs an aware datetime")
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def record_matches(session: Session, entry_id: int, at: datetime, count: int = 1) -> None:
    """Add ``count`` matches of an entry at ``at`` to its hourly bucket and its total.

    A single upsert, so concurrent screeners never lose increments. Not a change-feed event:
    the match index does not care how often an entry matched.
    """
    if count < 1:
        raise ValueError("count must be positive")
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if on_postgresql else sqlite.insert
    statement = insert(MatchStat).values(
        entry_id=entry_id, bucket_start=bucket_start(at), match_count=count
    )
    statement = statement.on_conflict_do_update(
        index_elements=[MatchStat.entry_id, MatchStat.bucket_start],
        set_={"match_count": MatchStat.match_count + statement.excluded.match_count},
    )
    session.execute(statement)
    session.execute(
        update(ListEntry)
        .where(ListEntry.id == entry_id)
        .values(match_count=ListEntry.match_count + count)
        .execution_options(synchronize_session=False)
    )


def match_history(
    session: Session, entry_id: int, since: datetime, until: datetime | None = None
) -> list[tuple[datetime, int]]:
    """(bucket start, matches) of an entry for buckets in [since, until), oldest first;
    hours without matches are absent."""
    query = select(MatchStat.bucket_start, MatchStat.match_count).where(
        MatchStat.entry_id == entry_id, MatchStat.bucket_start >= bucket_start(since)
    )
    if until is not None:
        query = query.where(MatchStat.bucket_start < until)
    rows = session.execute(query.order_by(MatchStat.bucket_start)).all()
    return [(row.bucket_start, row.match_count) for row in rows]


def prune_match_stats(session: Session, before: datetime) -> int:
    """Delete buckets older than ``before``; returns how many went."""
    return affected_rows(session, delete(MatchStat).where(MatchStat.bucket_start < before))
