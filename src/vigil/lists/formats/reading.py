"""One entry point for imports: detect the format when not given, read it, cap the errors."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from vigil.lists.formats.detect import (
    DETECTION_BYTES,
    FormatNotRecognised,
    ListFormat,
    detect_format,
)
from vigil.lists.formats.json_lines import read_json_lines
from vigil.lists.formats.ncmec_xml import read_ncmec_xml
from vigil.lists.formats.plain_text import read_plain_text
from vigil.lists.formats.records import ReadItem, RecordError, SignalType
from vigil.lists.formats.threatexchange_csv import read_threatexchange_csv
from vigil.lists.formats.vics_json import read_vics_json
from vigil.lists.formats.vigil_csv import read_csv

# Past this many bad records a file is more likely the wrong format than a few typos.
DEFAULT_MAX_ERRORS = 1000


def read_list(
    stream: BinaryIO,
    list_format: ListFormat | None = None,
    *,
    signal_type: SignalType | None = None,
    max_errors: int | None = DEFAULT_MAX_ERRORS,
) -> Iterator[ReadItem]:
    """Read any supported list; ``signal_type`` is the default type for plain text.

    After ``max_errors`` record errors one more error says so and reading stops
    (``None``: never stop). An unrecognised format is one error at position 0.
    """
    if signal_type is not None and list_format not in (None, ListFormat.PLAIN_TEXT):
        raise ValueError("signal_type applies to plain text lists only")
    if list_format is None:
        head, stream = _peek(stream, DETECTION_BYTES)
        try:
            list_format = detect_format(head)
        except FormatNotRecognised as exc:
            yield RecordError(0, f"format not recognised: {exc}")
            return
    yield from cap_errors(_reader(stream, list_format, signal_type), max_errors)


def _reader(
    stream: BinaryIO, list_format: ListFormat, signal_type: SignalType | None
) -> Iterator[ReadItem]:
    match list_format:
        case ListFormat.CSV:
            return read_csv(stream)
        case ListFormat.PLAIN_TEXT:
            return read_plain_text(stream, signal_type=signal_type)
        case ListFormat.JSON_LINES:
            return read_json_lines(stream)
        case ListFormat.NCMEC_XML:
            return read_ncmec_xml(stream)
        case ListFormat.VICS_JSON:
            return read_vics_json(stream)
        case ListFormat.THREATEXCHANGE_CSV:
            return read_threatexchange_csv(stream)
    raise ValueError(f"no reader for {list_format!r}")


def cap_errors(items: Iterator[ReadItem], max_errors: int | None) -> Iterator[ReadItem]:
    """Stop a reader after ``max_errors`` rejected records, saying so as a last error."""
    errors = 0
    for item in items:
        yield item
        if isinstance(item, RecordError):
            errors += 1
            if max_errors is not None and errors >= max_errors:
                yield RecordError(item.position, f"stopped after {errors} errors")
                return


def _peek(stream: BinaryIO, size: int) -> tuple[bytes, BinaryIO]:
    """The first ``size`` bytes, and a stream that still starts at the beginning."""
    if stream.seekable():
        start = stream.tell()
        head = stream.read(size)
        stream.seek(start)
        return head, stream
    head = b""
    while len(head) < size and (chunk := stream.read(size - len(head))):
        head += chunk
    return head, io.BufferedReader(_Replayed(head, stream))


class _Replayed(io.RawIOBase):
    """Serves bytes already read for detection, then the rest of a one-way stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
