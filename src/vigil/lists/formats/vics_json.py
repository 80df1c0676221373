"""Project VIC VICS JSON (1.x ``odata.metadata``, 2.0 ``@odata.context``), streamed.

Two shapes are read: a case export, ``value[*].Media[*]``, and a hash set whose media
items sit directly in ``value[*]``. Each item yields one record per hash (MD5, SHA1, and
md5/sha1/sha256/pdq entries of ``AlternativeHashes``). The file is parsed incrementally
with ijson's event parser, so memory is bounded by the largest item, not the file.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

import ijson

from vigil.lists.formats.bounded_input import CappedReader, InputTooLarge
from vigil.lists.formats.fields import (
    MAX_LABEL_CHARS,
    FieldError,
    identifier,
    optional_text,
    parse_flag,
    vics_classification,
)
from vigil.lists.formats.records import ListRecord, ReadItem, RecordError, SignalType, excerpt
from vigil.lists.formats.signals import SignalError, normalise_hex
from vigil.lists.formats.vics_events import ItemKind, VicsEventWalker, VicsStructureError

# The stream stops if the parser reads this much without producing an event: one huge
# string or number. Items themselves are bounded by VicsEventWalker's event count.
MAX_TOKEN_BYTES = 4 * 1024 * 1024
HASH_FIELDS: dict[str, SignalType] = {
    "md5": SignalType.MD5,
    "sha1": SignalType.SHA1,
    "sha256": SignalType.SHA256,
}
MAX_CATEGORY = 999
ALTERNATIVE_HASHES: dict[str, SignalType] = {**HASH_FIELDS, "pdq": SignalType.PDQ}


def read_vics_json(
    stream: BinaryIO, *, categories: Collection[int] | None = None
) -> Iterator[ReadItem]:
    """Records for every media item; ``categories`` keeps only items in those categories.

    Positions are 1-based media item numbers across the file. A JSON syntax error ends
    the import (JSON has no record boundary to resume at); items before it stand.
    """
    wanted = None if categories is None else frozenset(categories)
    source = CappedReader(stream, max_since_mark=MAX_TOKEN_BYTES, strip_bom=True)
    walker = VicsEventWalker()
    try:
        for event, value in ijson.basic_parse(source, use_float=True):
            source.mark()
            for kind, item in walker.feed(event, value):
                yield from _item_records(kind, item, walker.items_seen, wanted)
        walker.check_complete()
    except ijson.JSONError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "JSON error"
        yield RecordError(walker.items_seen + 1, f"malformed JSON: {excerpt(message)}")
    except (InputTooLarge, VicsStructureError) as exc:
        yield RecordError(walker.items_seen + 1, str(exc))


@dataclass(frozen=True, slots=True)
class _ItemMetadata:
    """What one media item says about all of its hashes."""

    external_id: str | None
    classification: str | None
    series: str | None
    victim_identified: bool | None
    position: int

    def record(self, signal_type: SignalType, signal: str) -> ListRecord:
        return ListRecord(
            signal_type,
            signal,
            self.external_id,
            self.classification,
            self.series,
            self.victim_identified,
            position=self.position,
        )


def _item_records(
    kind: ItemKind, item: object, position: int, wanted: frozenset[int] | None
) -> Iterator[ReadItem]:
    if kind is ItemKind.OVERSIZED:
        yield RecordError(position, "media item too large; skipped")
        return
    if kind is ItemKind.DUPLICATE_KEY:
        yield RecordError(position, "media item repeats a key", excerpt(repr(item)))
        return
    if not isinstance(item, dict):
        yield RecordError(position, "media item is not an object", excerpt(repr(item)))
        return
    fields = {str(key).lower(): value for key, value in item.items()}
    try:
        category = _category(fields.get("category"))
        metadata = _metadata(fields, category, position)
    except FieldError as exc:
        yield RecordError(position, str(exc), excerpt(repr(item)))
        return
    if wanted is not None and category not in wanted:
        return
    yield from _hash_records(fields, metadata)


def _metadata(fields: Mapping[str, object], category: int | None, position: int) -> _ItemMetadata:
    series = fields.get("series")
    if isinstance(series, int) and not isinstance(series, bool):
        series = str(series)
    return _ItemMetadata(
        external_id=identifier(fields.get("mediaid"), "MediaID"),
        classification=None if category is None else vics_classification(category),
        series=optional_text(series, "Series", MAX_LABEL_CHARS),
        victim_identified=parse_flag(fields.get("victimidentified"), "VictimIdentified"),
        position=position,
    )


def _hash_records(fields: Mapping[str, object], metadata: _ItemMetadata) -> Iterator[ReadItem]:
    seen: set[tuple[SignalType, str]] = set()
    for signal_type, value in _hash_values(fields):
        try:
            signal = normalise_hex(signal_type, value)
        except SignalError as exc:
            yield RecordError(metadata.position, str(exc), excerpt(value))
            continue
        if (signal_type, signal) not in seen:
            seen.add((signal_type, signal))
            yield metadata.record(signal_type, signal)
    if not seen:
        yield RecordError(metadata.position, "media item has no usable MD5 or SHA1")


def _hash_values(fields: Mapping[str, object]) -> Iterator[tuple[SignalType, str]]:
    for name, signal_type in HASH_FIELDS.items():
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            yield signal_type, value
    yield from _alternative_hashes(fields.get("alternativehashes"))


def _alternative_hashes(entries: object) -> Iterator[tuple[SignalType, str]]:
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        keyed = {str(key).lower(): value for key, value in entry.items()}
        name, value = keyed.get("hashname"), keyed.get("hashvalue")
        if not isinstance(name, str) or not isinstance(value, str) or not value.strip():
            continue
        signal_type = ALTERNATIVE_HASHES.get(name.strip().lower())
        if signal_type is not None:  # PhotoDNA and other kinds are not ours to match
            yield signal_type, value


def _category(value: object) -> int | None:
    """A VICS category number; its meaning depends on the file's data model (US, UK, ...)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.isascii() and text.isdigit() and len(text) <= 3:
            return int(text)
    elif isinstance(value, float) and value.is_integer() and 0 <= value <= MAX_CATEGORY:
        return int(value)
    elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_CATEGORY:
        return value
    raise FieldError(f"Category is not a whole number from 0 to {MAX_CATEGORY}")
