"""Where list entries came from: the exchange that feeds the entry's list (name and kind),
the exchange's entry id, member, classification and tags, or the file they were imported
from, read for a set of entries in one query.

An entry came from an exchange when its list is fed by that exchange (exchange_lists) and
the entry was stored by that exchange's fetch (its ``source`` is ``exchange:<name>``): an
entry imported from a file into a list an exchange also feeds is the file's, not the
exchange's. An entry whose exchange was removed keeps its ``source``, with no exchange.

Which exchange kinds take feedback is written here (``FEEDBACK_KINDS``), so that review can
queue verdicts without knowing the protocols; tests/exchanges check it against the clients'
capabilities (vigil.exchanges.protocol.Capability.FEEDBACK).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import and_, literal, select
from sqlalchemy.orm import Session

from vigil.store.models import Exchange, ExchangeList, ListEntry

EXCHANGE_SOURCE_PREFIX = "exchange:"  # vigil.exchanges.fetching stamps entries with it
FEEDBACK_KINDS = frozenset({"ncmec", "stopncii", "threatexchange"})


@dataclass(frozen=True, slots=True)
class EntryProvenance:
    """One entry's origin, as screening, match records, review and reports show it."""

    entry_id: int
    external_id: str | None
    classification: str | None
    member: str | None
    tags: tuple[str, ...]
    source: str | None  # a file name, "manual:<user>" or "exchange:<name>"
    exchange: str | None  # the feeding exchange's name; None for a file or manual entry
    exchange_kind: str | None
    signal_type: str
    signal: str
    feedback_enabled: bool = False  # the exchange's administrator setting

    @property
    def takes_feedback(self) -> bool:
        """Reviewers' verdicts on this entry may be queued for its exchange."""
        return self.exchange_kind in FEEDBACK_KINDS and self.feedback_enabled


def entry_provenance(session: Session, entry_ids: Collection[int]) -> dict[int, EntryProvenance]:
    """The provenance of each of ``entry_ids`` that exists, by entry id, in one query."""
    wanted = sorted(set(entry_ids))
    if not wanted:
        return {}
    fed_by = and_(
        Exchange.id == ExchangeList.exchange_id,
        ListEntry.source == literal(EXCHANGE_SOURCE_PREFIX) + Exchange.name,
    )
    rows = session.execute(
        select(
            ListEntry.id,
            ListEntry.external_id,
            ListEntry.classification,
            ListEntry.member,
            ListEntry.tags,
            ListEntry.source,
            ListEntry.signal_type,
            ListEntry.signal,
            Exchange.name,
            Exchange.kind,
            Exchange.feedback_enabled,
        )
        .outerjoin(ExchangeList, ExchangeList.list_id == ListEntry.list_id)
        .outerjoin(Exchange, fed_by)
        .where(ListEntry.id.in_(wanted))
        .order_by(ListEntry.id, Exchange.name)
    ).all()
    found: dict[int, EntryProvenance] = {}
    for row in rows:
        if row.id in found and (row.name is None or found[row.id].exchange is not None):
            continue  # a list fed by several exchanges: the one that stored the entry wins
        found[row.id] = EntryProvenance(
            entry_id=row.id,
            external_id=row.external_id,
            classification=row.classification,
            member=row.member,
            tags=_tags(row.tags),
            source=row.source,
            exchange=row.name,
            exchange_kind=row.kind,
            signal_type=str(row.signal_type),
            signal=row.signal,
            feedback_enabled=bool(row.feedback_enabled),
        )
    return found


def _tags(value: object) -> tuple[str, ...]:
    """Tags as stored (a JSON list); anything else stored there shows as none."""
    if not isinstance(value, list):
        return ()
    return tuple(str(tag) for tag in value if isinstance(tag, str))
