"""Fingerprint one file, or one upload held in memory, end to end; every failure becomes a
per-item error, never a crash."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vigil.fingerprint import crypto, decode, held_windows, limits, media, photo, video
from vigil.fingerprint.descriptors.base import DescriptorError, Vector
from vigil.fingerprint.errors import FailureReason, FingerprintError, PixelsFailed
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
    limits: limits.DecodeLimits | None = None  # None: the process's (limits.process_limits)
    held_regions: bool = False  # also a photo's held-region hashes (Fingerprint.held_regions)


def fingerprint_path(path: Path, options: FingerprintOptions | None = None) -> Fingerprint:
    """Digests and perceptual hashes of one file; errors are recorded on the result."""
    options = options or FingerprintOptions()
    return _guarded(Fingerprint(path=str(path)), lambda record: _fill(record, path, options))


def fingerprint_bytes(
    data: bytes, options: FingerprintOptions | None = None, *, name: str = "upload"
) -> Fingerprint:
    """Like :func:`fingerprint_path` for content held in memory, e.g. an upload.

    Nothing is written to disk (videos are demuxed from memory), so a crash leaves no
    plaintext copy behind. ``name`` only labels the result (its ``path``). The digests are
    filled in even when the content is too large or cannot be decoded: they are cheap here,
    and a digest match needs nothing else.
    """
    options = options or FingerprintOptions()
    return _guarded(Fingerprint(path=name), lambda record: _fill_bytes(record, data, options))


def _guarded(record: Fingerprint, fill: Callable[[Fingerprint], None]) -> Fingerprint:
    try:
        fill(record)
    except FingerprintError as exc:
        return record.fail(exc)
    except limits.DecodersBusy:
        raise  # about this process, not the file: the caller answers "retry later"
    except Exception as exc:  # a decoder bug must not stop a batch of millions
        log.exception("unexpected failure hashing %s", record.path)
        return record.fail(FingerprintError(FailureReason.CORRUPT, f"decoder failed: {exc!r}"))
    return record


def _fill(record: Fingerprint, path: Path, options: FingerprintOptions) -> None:
    try:
        size = path.stat().st_size
        head = media.read_head(path)
        if size > options.max_bytes:
            raise FingerprintError(
                FailureReason.TOO_LARGE, f"{size} bytes exceeds {options.max_bytes}"
            )
        # Digests before deciding what the file is, as for uploads: a digest list can hold
        # any file, and one that is not media (or not decodable) still matches on them. An
        # empty file gets none: its digest would match every other empty file.
        if head:
            _fill_digests(record, crypto.digest_file(path))
    except OSError as exc:
        raise FingerprintError(FailureReason.UNREADABLE, str(exc)) from exc
    _fill_media(record, media.sniff_bytes(head), path, options)


def _fill_bytes(record: Fingerprint, data: bytes, options: FingerprintOptions) -> None:
    _fill_digests(record, crypto.digest_bytes(data))
    if len(data) > options.max_bytes:
        raise FingerprintError(
            FailureReason.TOO_LARGE, f"{len(data)} bytes exceeds {options.max_bytes}"
        )
    _fill_media(record, media.sniff_bytes(data[: media.SNIFF_BYTES]), data, options)


def _fill_digests(record: Fingerprint, digests: crypto.CryptoDigests) -> None:
    record.size, record.md5, record.sha1, record.sha256 = (
        digests.size,
        digests.md5,
        digests.sha1,
        digests.sha256,
    )


def _fill_media(
    record: Fingerprint,
    kind: media.MediaKind,
    source: decode.MediaSource,
    options: FingerprintOptions,
) -> None:
    """Decode within the limits, in one of the process's decode slots (waiting for one may
    raise DecodersBusy: that is the caller's to answer, not a property of the file)."""
    chosen = options.limits or limits.process_limits()
    with limits.slots_for(chosen).slot():
        budget = limits.DecodeBudget(chosen)
        try:
            _decode_media(record, kind, source, options, budget)
        finally:
            limits.release_memory(budget)


def _decode_media(
    record: Fingerprint,
    kind: media.MediaKind,
    source: decode.MediaSource,
    options: FingerprintOptions,
    budget: limits.DecodeBudget,
) -> None:
    if kind is media.MediaKind.VIDEO:
        stream = source if isinstance(source, Path) else io.BytesIO(source)
        _fill_video(
            record,
            video.hash_video(
                stream,
                fps=options.video_fps,
                dedupe_distance=options.dedupe_distance,
                max_pixels=options.max_pixels,
                budget=budget,
            ),
        )
        return
    try:
        _fill_image(record, source, options, budget)
    except PixelsFailed as failed:
        # A truncated file (an interrupted upload, or one cut on purpose: browsers still show
        # what arrived) is hashed on what decodes, and says so.
        with decode.truncation_tolerated():
            _fill_image(record, source, options, budget)
        record.mark_partial(f"{failed.reason.value}: {failed.detail}")


def _fill_image(
    record: Fingerprint,
    source: decode.MediaSource,
    options: FingerprintOptions,
    budget: limits.DecodeBudget,
) -> None:
    with decode.open_image(source, options.max_pixels) as image:
        if _is_animated(image):
            _fill_video(
                record,
                video.hash_animation(
                    image,
                    fps=options.video_fps,
                    dedupe_distance=options.dedupe_distance,
                    budget=budget,
                ),
            )
            return
        _fill_photo(
            record,
            photo.hash_image(
                image,
                source,
                variants=options.variants,
                max_pixels=options.max_pixels,
                budget=budget,
                regions=options.held_regions,
            ),
        )
    if options.held_regions:
        record.held_vector = _held_vector(source, options, budget)


def _held_vector(
    source: decode.MediaSource, options: FingerprintOptions, budget: limits.DecodeBudget
) -> Vector:
    """The photo's colour layout for the held windows (held_windows.py). A picture the
    descriptor refuses fails the fingerprint: the held stage is never skipped unsaid."""
    try:
        return held_windows.query_vector(source, options.max_pixels, budget)
    except DescriptorError as error:
        raise FingerprintError(
            FailureReason.CORRUPT, f"cannot describe the photo: {error}"
        ) from error


def _is_animated(image: Image.Image) -> bool:
    return image.format in ANIMATED_FORMATS and bool(getattr(image, "is_animated", False))


def _fill_photo(record: Fingerprint, hashes: photo.PhotoHashes) -> None:
    record.media_type = media.MediaKind.PHOTO.value
    record.pdq, record.pdq_quality, record.pdq_weak = (
        hashes.pdq.hex,
        hashes.pdq.quality,
        hashes.pdq.weak,
    )
    record.pdq_variants = list(hashes.variants)
    record.held_regions = hashes.regions
    record.width, record.height = hashes.width, hashes.height


def _fill_video(record: Fingerprint, hashes: video.VideoHashes) -> None:
    if not hashes.frames:
        raise FingerprintError(FailureReason.NO_FRAMES, "no decodable frames")
    record.media_type = media.MediaKind.VIDEO.value
    record.frames = list(hashes.frames)
    record.width, record.height, record.duration = hashes.width, hashes.height, hashes.duration
    if hashes.decode_errors:
        # Frames after the damage are missing: what is there matches, but it is not all.
        record.mark_partial(
            f"{FailureReason.CORRUPT.value}: {hashes.decode_errors} decode "
            f"errors, the last: {hashes.last_error}"
        )
