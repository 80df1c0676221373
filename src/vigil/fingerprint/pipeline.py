"""Fingerprint one file end to end; every failure becomes a per-file error, never a crash."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vigil.fingerprint import crypto, decode, media, photo, video
from vigil.fingerprint.errors import FailureReason, FingerprintError
from vigil.fingerprint.record import Fingerprint

log = logging.getLogger(__name__)

ANIMATED_FORMATS = {"GIF", "WEBP", "PNG"}


@dataclass(frozen=True, slots=True)
class FingerprintOptions:
    variants: bool = True
    max_pixels: int = decode.DEFAULT_MAX_PIXELS
    max_bytes: int = 16 << 30
    video_fps: float = video.DEFAULT_FPS
    dedupe_distance: int = video.DEFAULT_DEDUPE_DISTANCE


def fingerprint_path(path: Path, options: FingerprintOptions | None = None) -> Fingerprint:
    """Digests and perceptual hashes of one file; errors are recorded on the result."""
    options = options or FingerprintOptions()
    record = Fingerprint(path=str(path))
    try:
        _fill(record, path, options)
    except FingerprintError as exc:
        return record.fail(exc)
    except Exception as exc:  # a decoder bug must not stop a batch of millions
        log.exception("unexpected failure hashing %s", path)
        return record.fail(FingerprintError(FailureReason.CORRUPT, f"decoder failed: {exc!r}"))
    return record


def _fill(record: Fingerprint, path: Path, options: FingerprintOptions) -> None:
    try:
        size = path.stat().st_size
        kind = media.sniff_file(path)
    except OSError as exc:
        raise FingerprintError(FailureReason.UNREADABLE, str(exc)) from exc
    if size > options.max_bytes:
        raise FingerprintError(FailureReason.TOO_LARGE, f"{size} bytes exceeds {options.max_bytes}")
    digests = crypto.digest_file(path)
    record.size, record.md5, record.sha1, record.sha256 = (
        digests.size, digests.md5, digests.sha1, digests.sha256)
    if kind is media.MediaKind.VIDEO:
        _fill_video(record, video.hash_video(
            path, fps=options.video_fps, dedupe_distance=options.dedupe_distance,
            max_pixels=options.max_pixels))
        return
    with decode.open_image(path, options.max_pixels) as image:
        if _is_animated(image):
            _fill_video(record, video.hash_animation(
                image, fps=options.video_fps, dedupe_distance=options.dedupe_distance))
            return
        _fill_photo(record, photo.hash_image(
            image, path, variants=options.variants, max_pixels=options.max_pixels))


def _is_animated(image: Image.Image) -> bool:
    return image.format in ANIMATED_FORMATS and bool(getattr(image, "is_animated", False))


def _fill_photo(record: Fingerprint, hashes: photo.PhotoHashes) -> None:
    record.media_type = media.MediaKind.PHOTO.value
    record.pdq, record.pdq_quality, record.pdq_weak = (
        hashes.pdq.hex, hashes.pdq.quality, hashes.pdq.weak)
    record.pdq_variants = list(hashes.variants)
    record.width, record.height = hashes.width, hashes.height


def _fill_video(record: Fingerprint, hashes: video.VideoHashes) -> None:
    if not hashes.frames:
        raise FingerprintError(FailureReason.NO_FRAMES, "no decodable frames")
    record.media_type = media.MediaKind.VIDEO.value
    record.frames = list(hashes.frames)
    record.width, record.height, record.duration = hashes.width, hashes.height, hashes.duration
