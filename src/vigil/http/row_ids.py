"""The one type of a stored row's number in a URL: every integer id a route takes is
validated here, before any route code or query runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# Rows are numbered in BIGINT columns: a larger number names nothing, and would overflow
# PostgreSQL's parameter (a 500) rather than be "not found".
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row's number")]

# The few older tables numbered in INTEGER (webhook endpoints, agencies): 32 bits.
MAX_NARROW_ROW_ID = 2**31 - 1

NarrowRowId = Annotated[int, Path(ge=1, le=MAX_NARROW_ROW_ID, description="a row's number")]
