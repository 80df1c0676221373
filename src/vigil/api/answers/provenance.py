"""Where a listed entry came from, as the answers that show an entry say it: the exchange
that shared it (null for a file or manual entry), the exchange's kind, the member that
shared it and its tags, and the entry's source (a file name, "manual:<user>",
"exchange:<name>"). Declared once here; RecordHit and ListMatch inherit the fields.

Why three parts and not one model: an answer's JSON keys come out in its fields' order, and
Pydantic orders fields by the reversed method resolution order, so a base listed first
among an answer's bases puts its fields last. The match record's hit and the screening
match have sent these keys in different orders, and the models must not change a byte of
an answer (see vigil.api.answers); each answer therefore lists the parts in the order it
sends them, after a base holding its own fields. ``Provenance`` is the record hit's order.
"""

from __future__ import annotations

from vigil.api.answers import Answer


class ExchangeOrigin(Answer):
    exchange: str | None  # the exchange that shared the entry (null: a file or manual entry)
    exchange_kind: str | None


class MemberOrigin(Answer):
    member: str | None  # the exchange's member that shared it
    tags: list[str]


class EntrySource(Answer):
    source: str | None  # the entry's source: a file name, "manual:<user>", "exchange:<name>"


class Provenance(EntrySource, MemberOrigin, ExchangeOrigin):
    """All five, in the order exchange, exchange_kind, member, tags, source."""
