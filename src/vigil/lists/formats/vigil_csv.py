"""Vigil's CSV list: a header naming ``signal_type`` and ``signal`` plus optional columns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from vigil.lists.formats.csv_rows import DataRow, data_rows
from vigil.lists.formats.lines import MAX_LINE_BYTES
from vigil.lists.formats.records import ReadItem
from vigil.lists.formats.rows import FIELD_NAMES, REQUIRED_FIELDS, record_from_fields


def read_csv(stream: BinaryIO, *, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[ReadItem]:
    """Records in file order; columns in any order, unknown columns ignored with a warning."""
    rows = data_rows(
        stream, required=REQUIRED_FIELDS, known=FIELD_NAMES, max_line_bytes=max_line_bytes
    )
    for row in rows:
        if isinstance(row, DataRow):
            yield record_from_fields(row.fields, row.number, row.raw)
        else:
            yield row
