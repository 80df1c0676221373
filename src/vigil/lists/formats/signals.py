"""Signal types by name and hash validation: the one place that decides what a valid hash is."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from vigil.lists.formats.records import Signal, SignalType, VideoFrame

HEX_LENGTH: dict[SignalType, int] = {
    SignalType.MD5: 32,
    SignalType.SHA1: 40,
    SignalType.SHA256: 64,
    SignalType.PDQ: 64,
}
MAX_VIDEO_FRAMES = 20_000
MAX_TIMESTAMP_SECONDS = 10_000_000.0  # ~115 days: anything longer is corrupt input
FRAME_SEPARATOR = ";"
TIMESTAMP_SEPARATOR = ":"

_NAMES: dict[str, SignalType] = {
    "md5": SignalType.MD5,
    "sha1": SignalType.SHA1,
    "sha-1": SignalType.SHA1,
    "sha256": SignalType.SHA256,
    "sha-256": SignalType.SHA256,
    "pdq": SignalType.PDQ,
    "video_pdq": SignalType.VIDEO_PDQ,
    "video-pdq": SignalType.VIDEO_PDQ,
    "vpdq": SignalType.VIDEO_PDQ,
}
# A list entry holding the digest of zero bytes would flag every empty file as a match.
_EMPTY_INPUT_DIGEST: dict[SignalType, str] = {
    SignalType.MD5: hashlib.md5(b"").hexdigest(),
    SignalType.SHA1: hashlib.sha1(b"").hexdigest(),
    SignalType.SHA256: hashlib.sha256(b"").hexdigest(),
}
_HEX = re.compile(r"[0-9a-f]+")
# repr(float) may write an exponent (1e-05); nan, inf and underscores stay refused.
_TIMESTAMP = re.compile(r"\d{1,17}(?:\.\d{0,24})?(?:[eE][+-]?\d{1,3})?")
_FRAME_KEYS = frozenset({"pdq", "timestamp"})


class SignalError(ValueError):
    """The signal or its type is not acceptable; the message says why."""


def signal_type_named(name: str) -> SignalType:
    found = _NAMES.get(name.strip().lower())
    if found is None:
        raise SignalError(f"unknown signal type {name.strip()[:40]!r}")
    return found


def type_from_hex_length(text: str) -> SignalType:
    """The type a bare hash implies by its length; 64 digits is refused as ambiguous."""
    length = len(text.strip())
    if length == HEX_LENGTH[SignalType.MD5]:
        return SignalType.MD5
    if length == HEX_LENGTH[SignalType.SHA1]:
        return SignalType.SHA1
    if length == HEX_LENGTH[SignalType.SHA256]:
        raise SignalError("64 hex digits may be sha256 or pdq: give the signal type")
    raise SignalError(f"{length} characters is not the length of any known hash")


def normalise_hex(signal_type: SignalType, text: str) -> str:
    value = text.strip().lower()
    expected = HEX_LENGTH[signal_type]
    if len(value) != expected:
        raise SignalError(f"{signal_type} needs {expected} hex digits, got {len(value)}")
    if not _HEX.fullmatch(value):
        raise SignalError(f"{signal_type} contains characters that are not hex digits")
    if signal_type is SignalType.PDQ and value.count("0") == expected:
        # The reference PDQ emits all zeros for images too small to hash.
        raise SignalError("all-zero pdq is the reference's 'too small to hash' value")
    if _EMPTY_INPUT_DIGEST.get(signal_type) == value:
        raise SignalError(f"{signal_type} of empty input would match every empty file")
    return value


def normalise_signal(signal_type: SignalType, value: object) -> Signal:
    """A hex string for hash types; for video_pdq a frame string or a JSON frame list."""
    if signal_type is SignalType.VIDEO_PDQ:
        if isinstance(value, str):
            return frames_from_text(value)
        if isinstance(value, list):
            return frames_from_json(value)
        raise SignalError("video_pdq signal must be a frame string or a list of frames")
    if not isinstance(value, str):
        raise SignalError(f"{signal_type} signal must be a string")
    return normalise_hex(signal_type, value)


def frames_from_text(text: str) -> tuple[VideoFrame, ...]:
    """Parse ``[seconds:]hex;[seconds:]hex;...`` (the form ``signal_text`` writes)."""
    parts = [part for part in text.strip().split(FRAME_SEPARATOR) if part.strip()]
    _check_frame_count(len(parts))
    return tuple(_frame_from_text(part) for part in parts)


def frames_from_json(items: list[object]) -> tuple[VideoFrame, ...]:
    _check_frame_count(len(items))
    return tuple(_frame_from_json(item) for item in items)


def signal_text(signal: Signal) -> str:
    """The canonical one-line text form used by the CSV and plain-text writers."""
    if isinstance(signal, str):
        return signal
    return FRAME_SEPARATOR.join(_frame_text(frame) for frame in signal)


def _check_frame_count(count: int) -> None:
    if count == 0:
        raise SignalError("video_pdq signal has no frames")
    if count > MAX_VIDEO_FRAMES:
        raise SignalError(f"video_pdq signal has {count} frames; the limit is {MAX_VIDEO_FRAMES}")


def _frame_from_text(part: str) -> VideoFrame:
    stamp, separator, digest = part.strip().rpartition(TIMESTAMP_SEPARATOR)
    if not separator:
        return VideoFrame(normalise_hex(SignalType.PDQ, digest))
    if not _TIMESTAMP.fullmatch(stamp.strip()):
        raise SignalError(f"frame timestamp {stamp.strip()[:20]!r} is not decimal seconds")
    return VideoFrame(normalise_hex(SignalType.PDQ, digest), _timestamp(float(stamp)))


def _frame_from_json(item: object) -> VideoFrame:
    if isinstance(item, str):
        return _frame_from_text(item)
    if not isinstance(item, Mapping) or not set(item) <= _FRAME_KEYS or "pdq" not in item:
        raise SignalError('a video frame must be a string or {"pdq": ..., "timestamp": ...}')
    digest, stamp = item["pdq"], item.get("timestamp")
    if not isinstance(digest, str):
        raise SignalError("frame pdq must be a string")
    if stamp is None:
        return VideoFrame(normalise_hex(SignalType.PDQ, digest))
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        raise SignalError("frame timestamp must be a number of seconds")
    return VideoFrame(normalise_hex(SignalType.PDQ, digest), _timestamp(float(stamp)))


def _timestamp(seconds: float) -> float:
    # NaN fails both comparisons, so it is refused here too.
    if not 0.0 <= seconds <= MAX_TIMESTAMP_SECONDS:
        raise SignalError(f"frame timestamp {seconds!r} is out of range")
    return seconds


def _frame_text(frame: VideoFrame) -> str:
    if frame.timestamp is None:
        return frame.pdq
    return f"{frame.timestamp!r}{TIMESTAMP_SEPARATOR}{frame.pdq}"
