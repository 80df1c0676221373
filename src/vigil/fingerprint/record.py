"""The fingerprint of one file as Vigil stores, prints and matches it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from vigil.fingerprint.descriptors.base import Vector
from vigil.fingerprint.errors import FingerprintError
from vigil.fingerprint.held_regions import RegionHash
from vigil.fingerprint.photo import VariantHash
from vigil.fingerprint.video import FrameHash


@dataclass(slots=True)
class Fingerprint:
    """Everything known about one file; ``error`` set means hashing stopped early."""

    path: str
    media_type: str | None = None  # "photo" or "video"
    size: int | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    pdq_weak: bool | None = None
    pdq_variants: list[VariantHash] = field(default_factory=list)
    frames: list[FrameHash] | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    error: str | None = None
    error_reason: str | None = None
    # Hashed on part of the content only (a truncated file, frames lost to damage); the
    # hashes stand, and ``partial_reason`` says what was missing.
    partial: bool = False
    partial_reason: str | None = None
    # A photo's held-region hashes, only when the caller asked (FingerprintOptions): the
    # query side of the held-content stage, never stored or printed with the rest.
    held_regions: tuple[RegionHash, ...] = field(default=(), repr=False)
    held_vector: Vector | None = field(default=None, repr=False)  # for held windows

    @property
    def ok(self) -> bool:
        return self.error is None

    def matchable(self) -> Fingerprint:
        """What of this file may be matched: everything once hashing finished; after a
        failure (a file that cannot be decoded, too many pixels) only its exact digests,
        which are complete whenever its bytes were read (None otherwise), never a perceptual
        hash that hashing did not finish."""
        if self.ok:
            return self
        return Fingerprint(
            path=self.path, size=self.size, md5=self.md5, sha1=self.sha1, sha256=self.sha256
        )

    def mark_partial(self, reason: str) -> None:
        self.partial, self.partial_reason = True, reason[:300]

    def fail(self, exc: FingerprintError) -> Fingerprint:
        self.error, self.error_reason = exc.detail, exc.reason.value
        return self

    def to_dict(self) -> dict[str, Any]:
        as_dict = asdict(self)
        del as_dict["held_regions"], as_dict["held_vector"]
        return as_dict
