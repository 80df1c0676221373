"""CSV records (quoted fields may span lines) and header checks, shared by the CSV formats."""

from __future__ import annotations

import csv
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from vigil.lists.formats.lines import MAX_LINE_BYTES, TextLine, text_lines
from vigil.lists.formats.records import FormatWarning, RecordError, excerpt


@dataclass(frozen=True, slots=True)
class CsvRow:
    number: int  # the line the record starts on
    fields: list[str]
    raw: str


@dataclass(frozen=True, slots=True)
class DataRow:
    number: int
    fields: dict[str, str]  # column name -> value, for the columns the header named
    raw: str


def data_rows(
    stream: BinaryIO,
    *,
    required: Iterable[str],
    known: Iterable[str],
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[DataRow | RecordError | FormatWarning]:
    """Rows after the header, keyed by column name; a bad header ends the file."""
    required = tuple(required)
    names: tuple[str, ...] | None = None
    empty = True
    for row in csv_rows(stream, max_line_bytes):
        empty = False
        if isinstance(row, RecordError):
            yield row
        elif names is None:
            header = _header(row, required, known)
            if isinstance(header, RecordError):
                yield header
                return  # without a header no row can be read safely
            names, warnings = header
            yield from warnings
        else:
            yield _data_row(names, row)
    if empty:
        yield RecordError(0, f"empty file: expected a header naming {', '.join(required)}")


def csv_rows(
    stream: BinaryIO, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[CsvRow | RecordError]:
    """Parsed records; blank lines are skipped, unreadable lines become errors."""
    return _RecordAssembler(text_lines(stream, max_line_bytes), max_line_bytes).rows()


def _header(
    row: CsvRow, required: Iterable[str], known: Iterable[str]
) -> tuple[tuple[str, ...], list[FormatWarning]] | RecordError:
    """The column names, and a warning for each one that is not a known column."""
    names = tuple(field.strip().lower() for field in row.fields)
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        message = f"duplicate columns: {', '.join(duplicates)}"
        return RecordError(row.number, message, excerpt(row.raw))
    missing = [name for name in required if name not in names]
    if missing:
        message = f"header lacks required columns: {', '.join(missing)}"
        return RecordError(row.number, message, excerpt(row.raw))
    known_names = set(known)
    unknown = [name for name in names if name not in known_names]
    if not unknown:
        return names, []
    # One warning however many columns: a hostile header must not flood the caller.
    message = f"unknown columns ignored: {excerpt(', '.join(unknown))}"
    return names, [FormatWarning(row.number, message)]


def _data_row(names: tuple[str, ...], row: CsvRow) -> DataRow | RecordError:
    if len(row.fields) != len(names):
        message = f"{len(row.fields)} fields where the header has {len(names)}"
        return RecordError(row.number, message, excerpt(row.raw))
    return DataRow(row.number, dict(zip(names, row.fields, strict=True)), row.raw)


class _RecordAssembler:
    """Joins lines into records: a quoted field may hold line breaks (a multi-line note).

    An unbalanced quote must not swallow the rest of the file, so when a record outgrows
    the byte limit, or the file ends inside it, only its first line is reported and the
    lines after it are read again as records of their own.
    """

    def __init__(self, lines: Iterator[TextLine | RecordError], max_bytes: int) -> None:
        self._lines = lines
        self._max_bytes = max_bytes
        self._replay: deque[TextLine | RecordError] = deque()
        self._pending: list[TextLine] = []
        self._quotes = 0
        self._size = 0

    def rows(self) -> Iterator[CsvRow | RecordError]:
        while (item := self._next()) is not None or self._pending:
            if isinstance(item, TextLine):
                yield from self._add(item)
            elif self._pending:
                reason = "the file ends" if item is None else "an unreadable line comes"
                yield self._give_up(f"{reason} inside a quoted field", item)
            elif item is not None:
                yield item

    def _next(self) -> TextLine | RecordError | None:
        return self._replay.popleft() if self._replay else next(self._lines, None)

    def _add(self, line: TextLine) -> Iterator[CsvRow | RecordError]:
        if not self._pending and not line.text.strip():
            return
        self._pending.append(line)
        self._quotes += line.text.count('"')
        self._size += len(line.text) + 1
        if self._quotes % 2 == 0:  # every quoted field is closed: the record is complete
            row = _parse(self._pending[0].number, "\n".join(p.text for p in self._pending))
            if isinstance(row, RecordError) and len(self._pending) > 1:
                # A stray quote joined good lines to a bad one: keep only the bad one.
                yield self._give_up(row.message, None)
            else:
                self._reset()
                yield row
        elif self._size > self._max_bytes:
            yield self._give_up("unterminated quoted field", None)

    def _give_up(self, message: str, interruption: RecordError | None) -> RecordError:
        first, rest = self._pending[0], self._pending[1:]
        self._replay.extendleft(reversed([*rest, *([interruption] if interruption else [])]))
        self._reset()
        return RecordError(first.number, message, excerpt(first.text))

    def _reset(self) -> None:
        self._pending, self._quotes, self._size = [], 0, 0


def _parse(number: int, text: str) -> CsvRow | RecordError:
    try:
        fields = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        return RecordError(number, f"bad CSV: {exc}", excerpt(text))
    return CsvRow(number, fields, text)
