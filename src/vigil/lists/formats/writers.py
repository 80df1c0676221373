"""Exports in Vigil's CSV, JSON lines and plain text; each reads back to equal records.

Writers take a text stream: open files with ``encoding="utf-8", newline=""``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO

from vigil.lists.formats.records import ListRecord, Signal, SignalType
from vigil.lists.formats.rows import FIELD_NAMES
from vigil.lists.formats.signals import signal_text


def write_csv(records: Iterable[ListRecord], out: IO[str]) -> int:
    """Header plus one row per record; returns the number of records written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELD_NAMES)
    count = 0
    for record in records:
        writer.writerow(_csv_row(record))
        count += 1
    return count


def write_json_lines(records: Iterable[ListRecord], out: IO[str]) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(_json_object(record), separators=(",", ":")) + "\n")
        count += 1
    return count


def write_plain_text(records: Iterable[ListRecord], out: IO[str]) -> int:
    """Hashes only; metadata is dropped. A ``# signal_type:`` line precedes each change of
    type, so 64-digit sha256 and pdq hashes stay distinguishable when read back."""
    current: SignalType | None = None
    count = 0
    for record in records:
        if record.signal_type is None or record.signal is None or record.deleted:
            raise ValueError("plain text holds hashes only: it cannot express a deletion")
        if record.signal_type is not current:
            current = record.signal_type
            out.write(f"# signal_type: {current}\n")
        out.write(signal_text(record.signal) + "\n")
        count += 1
    return count


def _csv_row(record: ListRecord) -> list[str]:
    return [
        "" if record.signal_type is None else str(record.signal_type),
        "" if record.signal is None else signal_text(record.signal),
        record.external_id or "",
        record.classification or "",
        record.series or "",
        _flag_text(record.victim_identified),
        record.note or "",
        "true" if record.deleted else "",
    ]


def _json_object(record: ListRecord) -> dict[str, object]:
    values: dict[str, object] = {
        "signal_type": None if record.signal_type is None else str(record.signal_type),
        "signal": None if record.signal is None else _json_signal(record.signal),
        "external_id": record.external_id,
        "classification": record.classification,
        "series": record.series,
        "victim_identified": record.victim_identified,
        "note": record.note,
        "deleted": record.deleted or None,
    }
    return {key: value for key, value in values.items() if value is not None}


def _json_signal(signal: Signal) -> object:
    if isinstance(signal, str):
        return signal
    return [
        {"pdq": frame.pdq}
        if frame.timestamp is None
        else {"pdq": frame.pdq, "timestamp": frame.timestamp}
        for frame in signal
    ]


def _flag_text(value: bool | None) -> str:
    return "" if value is None else str(value).lower()
