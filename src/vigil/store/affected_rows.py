"""How many rows an UPDATE or DELETE run through the ORM session changed.

Session.execute is typed to return a Result whatever the statement; for a DML statement it
is a CursorResult, the one kind of result that carries the driver's row count.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase


def affected_rows(session: Session, statement: UpdateBase) -> int:
    """Execute ``statement`` and return how many rows it changed (0 when the driver
    cannot tell)."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)
