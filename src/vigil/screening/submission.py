"""What a platform submits for screening, validated: its ids, the upload context, and hashes it
computed itself. Everything here comes from outside; every field is bounded and checked, and
each ``from_mapping`` rejects unknown keys so a typo never silently drops data.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from vigil.fingerprint.record import Fingerprint
from vigil.fingerprint.video import FrameHash

MAX_ID = 255
MAX_EMAIL = 254  # RFC 5321 path limit
MAX_FRAMES = 3600  # default bound on submitted video frames (screening.max_frames_per_video)
MAX_FRAME_SECONDS = 7 * 24 * 3600.0
VISIBILITIES = frozenset({"public", "private"})
HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
_HEX = frozenset("0123456789abcdef")


class SubmissionInvalid(ValueError):
    """A submitted field is malformed; the message names the field (never echoes the value,
    which may be personal data)."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


@dataclass(frozen=True, slots=True)
class UploadContext:
    """Where an upload came from, as the platform saw it; all optional."""

    ip_address: str | None = None
    port: int | None = None
    ip_seen_at: datetime | None = None
    uploaded_at: datetime | None = None
    email: str | None = None
    screen_name: str | None = None
    conversation_id: str | None = None
    visibility: str | None = None

    def __post_init__(self) -> None:
        if self.ip_address is not None:
            object.__setattr__(self, "ip_address", _ip(self.ip_address))
        if self.port is not None:
            _bounded_int("context.port", self.port, 0, 65535)
        _aware("context.ip_seen_at", self.ip_seen_at)
        _aware("context.uploaded_at", self.uploaded_at)
        if self.email is not None:
            _text("context.email", self.email, MAX_EMAIL)
            if "@" not in self.email:
                raise SubmissionInvalid("context.email", "must contain @")
        _optional_text("context.screen_name", self.screen_name, MAX_ID)
        _optional_text("context.conversation_id", self.conversation_id, MAX_ID)
        if self.visibility is not None and self.visibility not in VISIBILITIES:
            raise SubmissionInvalid("context.visibility", f"must be one of {sorted(VISIBILITIES)}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> UploadContext:
        if data is None:
            return cls()
        values = _known_keys("context", data, cls.__dataclass_fields__)
        for name in ("ip_seen_at", "uploaded_at"):
            if values.get(name) is not None:
                values[name] = _datetime(f"context.{name}", values[name])
        for name in ("ip_address", "email", "screen_name", "conversation_id", "visibility"):
            _string_or_none(f"context.{name}", values.get(name))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, without the fields left empty."""
        data = asdict(self)
        for name in ("ip_seen_at", "uploaded_at"):
            if data[name] is not None:
                data[name] = data[name].isoformat()
        return {name: value for name, value in data.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Submission:
    """One item: the platform's content id (required), its account id and upload context."""

    content_id: str
    account_id: str | None = None
    context: UploadContext = field(default_factory=UploadContext)

    def __post_init__(self) -> None:
        _text("content_id", self.content_id, MAX_ID)
        _optional_text("account_id", self.account_id, MAX_ID)
        if not isinstance(self.context, UploadContext):
            raise SubmissionInvalid("context", "must be an upload context")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Submission:
        values = _known_keys("submission", data, cls.__dataclass_fields__)
        if "content_id" not in values:
            raise SubmissionInvalid("content_id", "is required")
        _string_or_none("content_id", values["content_id"])
        _string_or_none("account_id", values.get("account_id"))
        context = values.get("context")
        if context is not None and not isinstance(context, Mapping):
            raise SubmissionInvalid("context", "must be an object")
        values["context"] = UploadContext.from_mapping(context)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class SubmittedHashes:
    """Hashes the platform computed itself: at least one; hex normalised to lower case.
    ``frames`` are a video's (PDQ hex, seconds from the start) pairs."""

    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    frames: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        for name, length in HEX_LENGTHS.items():
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _hex(name, value, length))
        if self.pdq_quality is not None:
            _bounded_int("pdq_quality", self.pdq_quality, 0, 100)
            if self.pdq is None:
                raise SubmissionInvalid("pdq_quality", "given without a pdq hash")
        object.__setattr__(self, "frames", _frames(self.frames))
        if not (any(getattr(self, name) for name in HEX_LENGTHS) or self.frames):
            raise SubmissionInvalid("hashes", "at least one hash is required")

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, max_frames: int = MAX_FRAMES
    ) -> SubmittedHashes:
        values = _known_keys("hashes", data, cls.__dataclass_fields__)
        for name in HEX_LENGTHS:
            _string_or_none(name, values.get(name))
        frames = values.get("frames")
        if frames is not None:
            if not isinstance(frames, list | tuple):
                raise SubmissionInvalid("frames", "must be a list of [pdq, seconds] pairs")
            if len(frames) > max_frames:
                raise SubmissionInvalid("frames", f"at most {max_frames} frames")
            values["frames"] = tuple(_frame_pair(i, f) for i, f in enumerate(frames))
        else:
            values.pop("frames", None)
        return cls(**values)

    def to_fingerprint(self, name: str = "submitted hashes") -> Fingerprint:
        """A fingerprint the matcher can screen. A hash without a quality score counts as
        full quality: the platform vouches for it, and each list's min_quality still applies
        to hashes that carry their score."""
        frames = [FrameHash(round(t, 6), pdq, 100) for pdq, t in self.frames] or None
        return Fingerprint(
            path=name,
            media_type="video" if frames else ("photo" if self.pdq else None),
            md5=self.md5,
            sha1=self.sha1,
            sha256=self.sha256,
            pdq=self.pdq,
            pdq_quality=(self.pdq_quality if self.pdq_quality is not None else 100)
            if self.pdq
            else None,
            frames=frames,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in HEX_LENGTHS}
        data["pdq_quality"] = self.pdq_quality
        data["frames"] = [list(pair) for pair in self.frames]
        return data


def _known_keys(where: str, data: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise SubmissionInvalid(where, "must be an object")
    unknown = sorted(str(key)[:40] for key in data if key not in fields)
    if unknown:
        raise SubmissionInvalid(where, f"unknown fields {unknown}")
    return dict(data)


def _string_or_none(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise SubmissionInvalid(name, "must be a string")


def _text(name: str, value: object, limit: int) -> None:
    if not isinstance(value, str):
        raise SubmissionInvalid(name, "must be a string")
    if not 1 <= len(value) <= limit:
        raise SubmissionInvalid(name, f"must be 1 to {limit} characters")
    if not value.isprintable():
        # Control characters (newlines, NUL, escapes) forge log lines and break exports.
        raise SubmissionInvalid(name, "must not contain control characters")


def _optional_text(name: str, value: object, limit: int) -> None:
    if value is not None:
        _text(name, value, limit)


def _bounded_int(name: str, value: object, low: int, high: int) -> None:
    # bool is an int in Python; true as a port is a client bug, not port 1.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SubmissionInvalid(name, f"must be an integer from {low} to {high}")


def _ip(value: object) -> str:
    if not isinstance(value, str) or len(value) > 64:
        raise SubmissionInvalid("context.ip_address", "must be an IPv4 or IPv6 address")
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise SubmissionInvalid("context.ip_address", "must be an IPv4 or IPv6 address") from None


def _aware(name: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise SubmissionInvalid(name, "must be a date and time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise SubmissionInvalid(name, "must include a time zone (e.g. Z or +02:00)")


def _datetime(name: str, value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) > 64:
        raise SubmissionInvalid(name, "must be an ISO 8601 date and time")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise SubmissionInvalid(name, "must be an ISO 8601 date and time") from None


def _hex(name: str, value: object, length: int) -> str:
    if not isinstance(value, str):
        raise SubmissionInvalid(name, "must be a hex string")
    lowered = value.lower()
    if len(lowered) != length or not _HEX.issuperset(lowered):
        raise SubmissionInvalid(name, f"must be {length} hex digits")
    return lowered


def _frame_pair(index: int, value: object) -> tuple[str, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise SubmissionInvalid(f"frames[{index}]", "must be a [pdq, seconds] pair")
    pdq, seconds = value
    if not isinstance(pdq, str):
        raise SubmissionInvalid(f"frames[{index}]", "pdq must be a hex string")
    return pdq, seconds


def _frames(frames: object) -> tuple[tuple[str, float], ...]:
    if not isinstance(frames, tuple):
        raise SubmissionInvalid("frames", "must be a tuple of (pdq, seconds) pairs")
    if len(frames) > MAX_FRAMES * 10:  # an absolute bound; from_mapping applies the setting
        raise SubmissionInvalid("frames", "too many frames")
    checked = []
    for index, pair in enumerate(frames):
        pdq, seconds = _frame_pair(index, pair)
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not (0 <= seconds <= MAX_FRAME_SECONDS)
        ):
            raise SubmissionInvalid(
                f"frames[{index}]", f"seconds must be a number from 0 to {MAX_FRAME_SECONDS:g}"
            )
        checked.append((_hex(f"frames[{index}]", pdq, 64), float(seconds)))
    return tuple(checked)
