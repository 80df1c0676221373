"""The change-feed counter: the single row whose lock orders index changes by commit."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base

COUNTER_ROW_ID = 1


class ChangeCounter(Base):
    """Holds the last change sequence number handed out; see vigil.store.lists.change_feed.
    The first migration inserts its only row."""

    __tablename__ = "change_counter"
    __table_args__ = (CheckConstraint(f"id = {COUNTER_ROW_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
