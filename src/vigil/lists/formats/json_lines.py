"""JSON lines: one object per line with the CSV's field names; blank lines skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from vigil.lists.formats.lines import MAX_LINE_BYTES, TextLine, text_lines
from vigil.lists.formats.records import FormatWarning, ReadItem, RecordError, excerpt
from vigil.lists.formats.rows import FIELD_NAMES, record_from_fields


class _DuplicateKey(ValueError):
    pass


def read_json_lines(
    stream: BinaryIO, *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[ReadItem]:
    """Records in file order; each unknown key is warned about once, where first seen."""
    warned: set[str] = set()
    for line in text_lines(stream, max_line_bytes):
        if isinstance(line, RecordError):
            yield line
        elif line.text.strip():
            parsed = _object(line)
            if isinstance(parsed, RecordError):
                yield parsed
                continue
            yield from _unknown_keys(parsed, line.number, warned)
            yield record_from_fields(parsed, line.number, line.text)


def _object(line: TextLine) -> dict[str, object] | RecordError:
    try:
        value = json.loads(line.text, object_pairs_hook=_unique_keys)
    except RecursionError:
        return RecordError(line.number, "JSON nested too deeply", excerpt(line.text))
    except _DuplicateKey as exc:
        return RecordError(line.number, str(exc), excerpt(line.text))
    except ValueError as exc:  # JSONDecodeError, and ints past Python's digit limit
        return RecordError(line.number, f"bad JSON: {exc}", excerpt(line.text))
    if not isinstance(value, dict):
        return RecordError(line.number, "each line must be a JSON object", excerpt(line.text))
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Two "signal" keys would let a reviewer see one hash while the import takes the other.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey("duplicate key in JSON object")
    return result


def _unknown_keys(
    fields: dict[str, object], number: int, warned: set[str]
) -> Iterator[FormatWarning]:
    for key in sorted(fields.keys() - set(FIELD_NAMES) - warned):
        if len(warned) < len(FIELD_NAMES) * 4:  # a hostile file must not grow this set
            warned.add(key)
            yield FormatWarning(number, f"unknown key {excerpt(key)!r} ignored")
