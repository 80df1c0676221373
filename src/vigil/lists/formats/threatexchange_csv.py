"""The CSV that python-threatexchange's ``threatexchange dataset -P --csv`` prints.

Columns (any order): signal_type, signal_str, collab, category, tags. Only hash types that
fingerprint a media file are taken; a negative or unconfirmed opinion is reported, not
imported, unless the caller widens ``accept_categories``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import BinaryIO

from vigil.lists.formats.csv_rows import DataRow, data_rows
from vigil.lists.formats.fields import (
    MAX_NOTE_CHARS,
    FieldError,
    known_classification,
    optional_text,
)
from vigil.lists.formats.lines import MAX_LINE_BYTES
from vigil.lists.formats.records import ListRecord, ReadItem, RecordError, SignalType, excerpt
from vigil.lists.formats.signals import SignalError, normalise_hex

COLUMNS = ("signal_type", "signal_str", "collab", "category", "tags")
REQUIRED_COLUMNS = ("signal_type", "signal_str")
# Opinion categories over the library's history; only confirmed positives are list entries.
POSITIVE_CATEGORIES = frozenset({"POSITIVE_CLASS", "TRUE_POSITIVE"})
KNOWN_CATEGORIES = POSITIVE_CATEGORIES | {
    "NEGATIVE_CLASS",
    "FALSE_POSITIVE",
    "INVESTIGATION_SEED",
    "WORTH_INVESTIGATING",
}
# photo_/video_ variants hash the file bytes, so they are the same signal as ours.
SIGNAL_TYPES: Mapping[str, SignalType] = {
    "pdq": SignalType.PDQ,
    "md5": SignalType.MD5,
    "photo_md5": SignalType.MD5,
    "video_md5": SignalType.MD5,
    "sha1": SignalType.SHA1,
    "sha256": SignalType.SHA256,
    "photo_sha256": SignalType.SHA256,
    "video_sha256": SignalType.SHA256,
}
# Same hex shapes as file hashes but of other things: taking them would cause false matches.
NOT_MEDIA_HASHES = frozenset({"url_md5", "text_md5", "raw_text", "url", "trend_query"})


def read_threatexchange_csv(
    stream: BinaryIO,
    *,
    accept_categories: Collection[str] = POSITIVE_CATEGORIES,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[ReadItem]:
    """Records in file order; rows whose opinion is not in ``accept_categories`` are
    reported as errors rather than imported."""
    accepted = frozenset(category.upper() for category in accept_categories)
    rows = data_rows(
        stream, required=REQUIRED_COLUMNS, known=COLUMNS, max_line_bytes=max_line_bytes
    )
    for row in rows:
        yield _row_record(row, accepted) if isinstance(row, DataRow) else row


def _row_record(row: DataRow, accepted: frozenset[str]) -> ListRecord | RecordError:
    fields = row.fields
    try:
        _check_category(fields.get("category", ""), accepted)
        signal_type = _signal_type(fields["signal_type"])
        return ListRecord(
            signal_type=signal_type,
            signal=normalise_hex(signal_type, fields["signal_str"]),
            classification=_classification(fields.get("tags", "")),
            note=_note(fields.get("collab", ""), fields.get("tags", "")),
            position=row.number,
        )
    except (SignalError, FieldError) as exc:
        return RecordError(row.number, str(exc), excerpt(row.raw))


def _signal_type(name: str) -> SignalType:
    key = name.strip().lower()
    if key in NOT_MEDIA_HASHES:
        raise SignalError(f"{key} does not hash a media file; not imported")
    if key not in SIGNAL_TYPES:
        raise SignalError(f"unsupported threatexchange signal type {excerpt(key)!r}")
    return SIGNAL_TYPES[key]


def _check_category(value: str, accepted: frozenset[str]) -> None:
    category = value.strip().upper()
    if not category:
        return  # older dumps and hand-made files carry no opinion column
    if category not in KNOWN_CATEGORIES:
        raise FieldError(f"unknown opinion category {excerpt(category)!r}")
    if category not in accepted:
        raise FieldError(f"opinion {category} is not a confirmed positive; not imported")


def _classification(tags: str) -> str | None:
    """The first tag in a known scheme: the NCMEC collab tags its entries A1, B2, ..."""
    labels = (known_classification(tag) for tag in tags.split())
    return next((label for label in labels if label), None)


def _note(collab: str, tags: str) -> str | None:
    parts = [f"collab: {collab.strip()}"] if collab.strip() else []
    parts += [f"tags: {tags.strip()}"] if tags.strip() else []
    return optional_text("; ".join(parts), "note", MAX_NOTE_CHARS)
