"""Vigil's own field set (CSV columns, JSON-lines keys) turned into a validated record."""

from __future__ import annotations

from collections.abc import Mapping

from vigil.lists.formats.fields import (
    MAX_LABEL_CHARS,
    MAX_NOTE_CHARS,
    FieldError,
    identifier,
    normalise_classification,
    optional_text,
    parse_flag,
)
from vigil.lists.formats.records import ListRecord, RecordError, Signal, SignalType, excerpt
from vigil.lists.formats.signals import SignalError, normalise_signal, signal_type_named

FIELD_NAMES = (
    "signal_type",
    "signal",
    "external_id",
    "classification",
    "series",
    "victim_identified",
    "note",
    "deleted",
)
REQUIRED_FIELDS = ("signal_type", "signal")


def record_from_fields(
    fields: Mapping[str, object], position: int, raw: str | bytes
) -> ListRecord | RecordError:
    """Validate one row or object; any bad field rejects the whole record."""
    try:
        deleted = parse_flag(fields.get("deleted"), "deleted") or False
        external_id = identifier(fields.get("external_id"))
        signal_type, signal = _signal(fields, deleted=deleted, external_id=external_id)
        return ListRecord(
            signal_type=signal_type,
            signal=signal,
            external_id=external_id,
            classification=normalise_classification(fields.get("classification")),
            series=optional_text(fields.get("series"), "series", MAX_LABEL_CHARS),
            victim_identified=parse_flag(fields.get("victim_identified"), "victim_identified"),
            note=optional_text(fields.get("note"), "note", MAX_NOTE_CHARS, multiline=True),
            deleted=deleted,
            position=position,
        )
    except (SignalError, FieldError) as exc:
        return RecordError(position, str(exc), excerpt(raw))


def _signal(
    fields: Mapping[str, object], *, deleted: bool, external_id: str | None
) -> tuple[SignalType | None, Signal | None]:
    type_name, value = fields.get("signal_type"), fields.get("signal")
    if _blank(type_name) and _blank(value):
        if deleted and external_id:
            return None, None  # a deletion by id alone, as NCMEC sends them
        raise SignalError("missing signal_type and signal")
    if _blank(type_name):
        raise SignalError("missing signal_type")
    if not isinstance(type_name, str):
        raise SignalError("signal_type must be text")
    if _blank(value):
        raise SignalError("missing signal")
    signal_type = signal_type_named(type_name)
    return signal_type, normalise_signal(signal_type, value)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
