"""What every list reader yields: a record, a per-record error, or a file-level warning."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

EXCERPT_CHARS = 120


class SignalType(StrEnum):
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    PDQ = "pdq"
    VIDEO_PDQ = "video_pdq"


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One PDQ hash of a video frame; ``timestamp`` in seconds when the source gave one."""

    pdq: str
    timestamp: float | None = None


Signal = str | tuple[VideoFrame, ...]


@dataclass(frozen=True, slots=True)
class ListRecord:
    """One hash from a list, normalised.

    ``signal`` is lowercase hex, or a tuple of frames for ``video_pdq``. A deletion record
    (``deleted``) may carry only ``external_id``: sources such as NCMEC delete by entry id
    and send no hashes. ``position`` (line number or item index) is for messages only and
    takes no part in equality, so a record read back from an export equals the original.
    ``member`` and ``tags`` are provenance from a hash exchange (the member that shared the
    entry, the exchange's labels); list files leave them empty.
    """

    signal_type: SignalType | None
    signal: Signal | None
    external_id: str | None = None
    classification: str | None = None
    series: str | None = None
    victim_identified: bool | None = None
    note: str | None = None
    deleted: bool = False
    position: int = field(default=0, compare=False)
    member: str | None = None
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Readers only build valid records; this guards callers that build their own
        # before handing them to a writer or the store.
        if (self.signal_type is None) != (self.signal is None):
            raise ValueError("signal_type and signal must be given together")
        if self.signal is None and not (self.deleted and self.external_id):
            raise ValueError("only a deletion with an external_id may omit the signal")
        is_frames = isinstance(self.signal, tuple)
        if self.signal is not None and is_frames != (self.signal_type is SignalType.VIDEO_PDQ):
            raise ValueError("video_pdq signals are frame tuples; others are hex strings")


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record that was not imported: where, why, and the start of the offending input."""

    position: int
    message: str
    raw_excerpt: str = ""


@dataclass(frozen=True, slots=True)
class FormatWarning:
    """Something the operator should know that skipped no record (e.g. an ignored column)."""

    position: int
    message: str


ReadItem = ListRecord | RecordError | FormatWarning


def excerpt(raw: str | bytes) -> str:
    """A short, printable prefix of hostile input, safe to put in logs and web pages."""
    text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw
    clipped = text[: EXCERPT_CHARS + 1]
    # Control characters (terminal escapes, bidi overrides) could spoof log or UI output.
    printable = "".join(ch if ch.isprintable() else _escape(ch) for ch in clipped)
    if len(text) > EXCERPT_CHARS:
        return printable[:EXCERPT_CHARS] + "..."
    return printable


def _escape(ch: str) -> str:
    return ch.encode("unicode_escape").decode("ascii")
