"""Writers that print Fingerprints to stdout as JSON lines, CSV rows or a Rich table.

Every writer streams: a record is written as it arrives (the table in pages of
TABLE_PAGE_ROWS), so memory stays flat over millions of files.

File names are bytes on POSIX and need not be UTF-8. Python carries the odd bytes as
lone surrogates; JSON keeps them as ``\\udcXX`` escapes (``os.fsencode`` after
``json.loads`` gives the exact name back), CSV and the table show them as ``\\xXX``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from vigil.fingerprint.record import Fingerprint

TABLE_PAGE_ROWS = 500
WIDE_TABLE = 150  # terminal columns from which a whole PDQ hash gets its own line

CSV_COLUMNS = (
    "path",
    "media_type",
    "size",
    "width",
    "height",
    "duration",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "pdq_weak",
    "pdq_variants",
    "frame_count",
    "error_reason",
    "error",
)


class OutputFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    TABLE = "table"


class RecordWriter(Protocol):
    def write(self, record: Fingerprint) -> None: ...

    def close(self) -> None: ...


def open_writer(output_format: OutputFormat, stream: TextIO) -> RecordWriter:
    writers: dict[OutputFormat, Callable[[TextIO], RecordWriter]] = {
        OutputFormat.JSONL: JsonlWriter,
        OutputFormat.CSV: CsvWriter,
        OutputFormat.TABLE: TableWriter,
    }
    return writers[output_format](stream)


class JsonlWriter:
    """One JSON object per line: ``Fingerprint.to_dict()``, every field, nulls included."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, record: Fingerprint) -> None:
        # ensure_ascii keeps undecodable file names writable as \udcXX escapes.
        self._stream.write(json.dumps(record.to_dict(), ensure_ascii=True) + "\n")

    def close(self) -> None:
        self._stream.flush()


class CsvWriter:
    """One flat row per file.

    Variants go in as a compact JSON list (a few dozen short entries at most); video frames only
    as ``frame_count``, because a long video has thousands and would swell one cell past
    what spreadsheets accept. Use jsonl to get the frame hashes.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._csv = csv.writer(stream, lineterminator="\n")
        self._csv.writerow(CSV_COLUMNS)

    def write(self, record: Fingerprint) -> None:
        self._csv.writerow([_cell(value) for value in csv_row(record)])

    def close(self) -> None:
        self._stream.flush()


def csv_row(record: Fingerprint) -> tuple[Any, ...]:
    fields = record.to_dict()
    variants = json.dumps(fields["pdq_variants"], separators=(",", ":"))
    frames = None if record.frames is None else len(record.frames)
    flat = fields | {
        "pdq_variants": variants if record.pdq_variants else None,
        "frame_count": frames,
    }
    return tuple(flat[column] for column in CSV_COLUMNS)


class TableWriter:
    """A Rich table for people; printed in pages so a long run shows progress and stays small."""

    def __init__(self, stream: TextIO) -> None:
        self._console = Console(file=stream, highlight=False)
        self._pdq_width = 64 if self._console.width >= WIDE_TABLE else 16
        self._table = _new_table(self._pdq_width)

    def write(self, record: Fingerprint) -> None:
        self._table.add_row(*_table_cells(record), style=None if record.ok else "red")
        if self._table.row_count >= TABLE_PAGE_ROWS:
            self._flush()

    def close(self) -> None:
        if self._table.row_count:
            self._flush()

    def _flush(self) -> None:
        self._console.print(self._table)
        self._table = _new_table(self._pdq_width)


def _new_table(pdq_width: int) -> Table:
    table = Table(show_lines=False, header_style="bold")
    table.add_column("Path", overflow="fold")
    table.add_column("Type", no_wrap=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("PDQ", overflow="fold", min_width=pdq_width)
    table.add_column("Q", justify="right", no_wrap=True)
    table.add_column("Extra", no_wrap=True)
    table.add_column("Result", overflow="fold")
    return table


def _table_cells(record: Fingerprint) -> tuple[Text, ...]:
    return tuple(
        Text(_cell(value) or "")
        for value in (
            record.path,
            record.media_type or "-",
            _human_size(record.size),
            record.pdq or "-",
            "-" if record.pdq_quality is None else str(record.pdq_quality),
            _extra(record),
            "ok" if record.ok else f"{record.error_reason}: {record.error}",
        )
    )


def _extra(record: Fingerprint) -> str:
    if record.frames is not None:
        return f"{len(record.frames)} frames"
    if record.pdq_variants:
        return f"{len(record.pdq_variants)} variants"
    return "-"


def _human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value, unit = float(size), "B"
    for bigger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


def _cell(value: Any) -> Any:
    if isinstance(value, bool):  # spelt as in the JSON output
        return "true" if value else "false"
    # Lone surrogates (undecodable name bytes) cannot be encoded to UTF-8 output.
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return value
