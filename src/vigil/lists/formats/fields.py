"""Metadata fields shared by every format: classification schemes, yes/no flags, bounded text."""

from __future__ import annotations

import re

MAX_ID_CHARS = 256
MAX_LABEL_CHARS = 256
MAX_NOTE_CHARS = 4000

# C0/C1 controls and bidi overrides: they can hide or reorder text where an operator reads it.
_SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MULTI_LINE_FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)

_INDUSTRY = re.compile(r"([AB])\s*([12])", re.IGNORECASE)
_UK = re.compile(
    r"(?P<uk>uk[\s_:-]*)?(?P<cat>cat(?:egory)?[\s_:-]*)?(?P<letter>[ABC])", re.IGNORECASE
)
_MAX_SCHEME_LABEL = 40  # longer text cannot be a scheme label; skip the patterns
_VICS = re.compile(r"vics[\s_:-]*(?:cat(?:egory)?[\s_:-]*)?(\d{1,3})", re.IGNORECASE)

_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})
_UNKNOWN = frozenset({"", "unknown", "null", "none", "n/a"})


class FieldError(ValueError):
    """A metadata field is not acceptable; the message names the field."""


def optional_text(value: object, name: str, limit: int, *, multiline: bool = False) -> str | None:
    """Stripped text, ``None`` when blank; refuses non-strings, overlong text and controls."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"{name} must be text")
    text = value.strip()
    if not text:
        return None
    if multiline:
        # CSV rows come back with LF line breaks whatever was written: store them so.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > limit:
        raise FieldError(f"{name} is {len(text)} characters; the limit is {limit}")
    forbidden = _MULTI_LINE_FORBIDDEN if multiline else _SINGLE_LINE_FORBIDDEN
    if forbidden.search(text):
        raise FieldError(f"{name} contains control characters")
    return text


def identifier(value: object, name: str = "external_id") -> str | None:
    """A source's id: text, or a whole number as JSON sources often send."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return optional_text(value, name, MAX_ID_CHARS)


def normalise_classification(value: object) -> str | None:
    """Known schemes get one spelling (A1, UK-A, VICS-1); anything else is kept as given."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = optional_text(value, "classification", MAX_LABEL_CHARS)
    if text is None:
        return None
    return known_classification(text) or text


def known_classification(text: str) -> str | None:
    """The canonical label when ``text`` is in the industry, UK or VICS scheme, else None."""
    if len(text) > _MAX_SCHEME_LABEL:
        return None
    if industry := _INDUSTRY.fullmatch(text):
        return (industry.group(1) + industry.group(2)).upper()
    uk = _UK.fullmatch(text)
    # A bare "A" or "B" could be the industry letter without its age digit: not UK.
    if uk and (uk.group("uk") or uk.group("cat")):
        return f"UK-{uk.group('letter').upper()}"
    if vics := _VICS.fullmatch(text):
        return vics_classification(int(vics.group(1)))
    return None


def vics_classification(category: int) -> str:
    return f"VICS-{category}"


def parse_flag(value: object, name: str) -> bool | None:
    """A yes/no field in the spellings lists use; blank or 'unknown' is ``None``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        if word in _UNKNOWN:
            return None
    raise FieldError(f"{name} is not a yes/no value: {str(value)[:20]!r}")
