"""Plain text: one hash per line, ``#`` comments and blank lines skipped.

The type comes from, in order: the latest ``# signal_type: <name>`` directive line, the
caller's ``signal_type``, the hash length (32 = md5, 40 = sha1). 64 hex digits fit both
sha256 and pdq, so such a line without a stated type is reported, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from vigil.lists.formats.lines import MAX_LINE_BYTES, TextLine, text_lines
from vigil.lists.formats.records import ListRecord, ReadItem, RecordError, SignalType, excerpt
from vigil.lists.formats.signals import (
    SignalError,
    normalise_signal,
    signal_type_named,
    type_from_hex_length,
)

COMMENT = "#"
DIRECTIVE = re.compile(r"#\s*signal_type\s*:\s*(\S+)\s*", re.IGNORECASE)


def read_plain_text(
    stream: BinaryIO,
    *,
    signal_type: SignalType | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[ReadItem]:
    current = signal_type
    for line in text_lines(stream, max_line_bytes):
        if isinstance(line, RecordError):
            yield line
            continue
        text = line.text.strip()
        if directive := DIRECTIVE.fullmatch(text):
            try:
                current = signal_type_named(directive.group(1))
            except SignalError as exc:
                yield RecordError(line.number, str(exc), excerpt(line.text))
        elif text and not text.startswith(COMMENT):
            yield _record(line, text, current)


def _record(line: TextLine, text: str, signal_type: SignalType | None) -> ListRecord | RecordError:
    value = text.split(COMMENT, 1)[0].strip()
    try:
        if any(ch.isspace() for ch in value):
            raise SignalError("one hash per line: found more than one word")
        chosen = signal_type or type_from_hex_length(value)
        return ListRecord(chosen, normalise_signal(chosen, value), position=line.number)
    except SignalError as exc:
        return RecordError(line.number, str(exc), excerpt(line.text))
