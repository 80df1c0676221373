"""Why a file could not be fingerprinted, as a stable code plus a sentence for people."""

from __future__ import annotations

from enum import StrEnum


class FailureReason(StrEnum):
    EMPTY = "empty_file"
    UNREADABLE = "unreadable"
    NOT_MEDIA = "not_media"
    CORRUPT = "corrupt_media"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_LARGE = "file_too_large"
    NO_FRAMES = "no_frames"
    TIMEOUT = "timeout"
    DECODE_BUDGET = "over_decode_budget"  # decoding would take more memory or work than allowed


class FingerprintError(Exception):
    """A per-file failure: the batch records it and goes on."""

    def __init__(self, reason: FailureReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class PixelsFailed(FingerprintError):
    """The header was read but decoding the pixels failed: a truncated file may still give
    part of them when decoded again with truncation tolerated (decode.truncation_tolerated)."""

    def __init__(self, detail: str) -> None:
        super().__init__(FailureReason.CORRUPT, detail)
