"""Which list format a file is in, judged from its first bytes only."""

from __future__ import annotations

import csv
import json
import re
from enum import StrEnum

from vigil.lists.formats.lines import UTF8_BOM, UTF16_BOMS
from vigil.lists.formats.rows import FIELD_NAMES

DETECTION_BYTES = 64 * 1024  # how much of the head callers should pass
_VICS_MARKERS = ("odata.metadata", "@odata.context", "projectvic", "vicsdatamodel")
_NCMEC_MARKERS = ("queryresult", "hashsharing")
# A hash, or video frames "[seconds:]hex;...": hex digits and frame punctuation only.
_PLAIN_HASH_LINE = re.compile(r"[0-9a-fA-F.:;+-]{32,}")


class ListFormat(StrEnum):
    CSV = "csv"
    PLAIN_TEXT = "text"
    JSON_LINES = "jsonl"
    NCMEC_XML = "ncmec-xml"
    VICS_JSON = "vics-json"
    THREATEXCHANGE_CSV = "threatexchange-csv"


class FormatNotRecognised(ValueError):
    """The head matches no supported format; the message says what it looked like."""


def detect_format(head: bytes) -> ListFormat:
    """The format of a file starting with ``head`` (ideally its first DETECTION_BYTES)."""
    if head.startswith(UTF16_BOMS):
        raise FormatNotRecognised("UTF-16 is not supported: convert the file to UTF-8")
    text = head.removeprefix(UTF8_BOM).decode("utf-8", "replace").lstrip()
    if not text:
        raise FormatNotRecognised("the file is empty")
    if text.startswith("<"):
        return _xml_format(text)
    if text.startswith("{"):
        return _json_format(text)
    return _text_format(text)


def _xml_format(text: str) -> ListFormat:
    if any(marker in text[:DETECTION_BYTES].lower() for marker in _NCMEC_MARKERS):
        return ListFormat.NCMEC_XML
    raise FormatNotRecognised("XML, but not an NCMEC hash-sharing queryResult page")


def _json_format(text: str) -> ListFormat:
    # JSON lines first: a note or id may quote a VICS marker, a VICS header never
    # parses as a one-line object holding Vigil's field names.
    first = _first_line_object(text)
    if first is not None and first.keys() & set(FIELD_NAMES) and "value" not in first:
        return ListFormat.JSON_LINES
    if any(marker in text.lower() for marker in _VICS_MARKERS) or '"value"' in text:
        return ListFormat.VICS_JSON
    raise FormatNotRecognised("JSON, but neither Vigil JSON lines nor a VICS file")


def _first_line_object(text: str) -> dict[str, object] | None:
    try:
        first = json.loads(text.split("\n", 1)[0])
    except (ValueError, RecursionError):
        return None
    return first if isinstance(first, dict) else None


def _text_format(text: str) -> ListFormat:
    lines = [line.strip() for line in text.splitlines()]
    content = [line for line in lines if line and not line.startswith("#")]
    if not content:
        return ListFormat.PLAIN_TEXT  # comments only: an empty hash list
    first = content[0]
    if _PLAIN_HASH_LINE.fullmatch(first.split("#", 1)[0].strip()):
        return ListFormat.PLAIN_TEXT
    try:
        columns = {name.strip().lower() for name in next(csv.reader([first]))}
    except csv.Error:
        columns = set()
    if {"signal_type", "signal_str"} <= columns:
        return ListFormat.THREATEXCHANGE_CSV
    if {"signal_type", "signal"} <= columns:
        return ListFormat.CSV
    raise FormatNotRecognised("text, but neither a hash per line nor a known CSV header")
