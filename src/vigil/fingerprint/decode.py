"""Decode images to luminance, doing only the work PDQ needs.

The fast path asks the JPEG decoder for the luma channel at a reduced scale
(DCT-domain downscaling); other formats, and images whose hash would be
ambiguous, take the exact path: the reference's ``convert('RGB')`` and float luma.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageFile, UnidentifiedImageError

from vigil.fingerprint import pdq
from vigil.fingerprint.errors import FailureReason, FingerprintError, PixelsFailed
from vigil.fingerprint.limits import DecodeBudget, process_limits

pillow_heif.register_heif_opener()

DEFAULT_MAX_PIXELS = 100_000_000
# Scale so each Jarosz box still spans at least this many decoded pixels. Measured on
# the corpus (docs/benchmarks.md): 2 keeps quality>=80 hashes within 4 bits of the
# reference; 4 halves that error but costs 15% of the speed.
PIXELS_PER_WINDOW = 2
MIN_WINDOW_TO_SCALE = 12
MAX_SCALE = 8  # the JPEG decoder's coarsest DCT scaling
EXACT_STRIP_PIXELS = 1 << 22  # strip size: bounds float memory for huge images (16 MB)

MediaSource = Path | bytes
_PILLOW_LIMIT_LOCK = threading.Lock()
_TOLERATE_TRUNCATION: ContextVar[bool] = ContextVar("vigil_tolerate_truncation", default=False)


class _TruncationSwitch:
    """Stands in for Pillow's process-wide ``ImageFile.LOAD_TRUNCATED_IMAGES``: false, as
    Pillow's default, except inside :func:`truncation_tolerated` in the same thread or task.
    Setting the real switch would make every concurrent decode accept truncated files
    silently; this way only the decode that asked does, and it says so (partial)."""

    def __bool__(self) -> bool:
        return _TOLERATE_TRUNCATION.get()


if ImageFile.LOAD_TRUNCATED_IMAGES is False:  # an application that chose True keeps it
    ImageFile.LOAD_TRUNCATED_IMAGES = _TruncationSwitch()  # type: ignore[assignment]


@contextmanager
def truncation_tolerated() -> Iterator[None]:
    """Decode what a truncated file holds instead of failing (the rest stays black)."""
    token = _TOLERATE_TRUNCATION.set(True)
    try:
        yield
    finally:
        _TOLERATE_TRUNCATION.reset(token)


@dataclass(frozen=True, slots=True)
class LumaImage:
    """Luminance, possibly averaged over blocks of the full-resolution image."""

    luma: np.ndarray  # uint8 from the decoder's Y channel, or float32 reference luma
    row_block: int
    col_block: int
    full_shape: tuple[int, int]  # rows, cols at full resolution
    exact: bool  # True when this is the reference's own luma at full resolution


def open_image(source: MediaSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open (header only) and refuse anything whose pixel count could exhaust memory."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    allow_in_pillow(max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's limit is at least ours (allow_in_pillow), so ours is exceeded too; say so
        # in Vigil's terms rather than with Pillow's process-wide number.
        raise FingerprintError(
            FailureReason.TOO_MANY_PIXELS, f"the image exceeds the limit of {max_pixels} pixels"
        ) from exc
    except UnidentifiedImageError as exc:
        raise FingerprintError(FailureReason.CORRUPT, "the image header cannot be read") from exc
    except OSError as exc:
        raise FingerprintError(FailureReason.UNREADABLE, str(exc)) from exc
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise FingerprintError(
            FailureReason.TOO_MANY_PIXELS,
            f"{width}x{height} exceeds the limit of {max_pixels} pixels",
        )
    if width < 1 or height < 1:
        raise FingerprintError(FailureReason.CORRUPT, f"invalid dimensions {width}x{height}")
    return image


def allow_in_pillow(max_pixels: int) -> None:
    """Make room for ``max_pixels`` under Pillow's own decompression-bomb limit.

    Pillow refuses images over its process-wide ``MAX_IMAGE_PIXELS`` (89.5 MP) before
    :func:`open_image` sees their size, so a configured limit above it could not take effect.
    Vigil's check after the header is the one that applies; Pillow's stays as a backstop (for
    animation frames that grow while seeking) and is only ever raised, so one caller's smaller
    limit never refuses what another's larger one allows.
    """
    with _PILLOW_LIMIT_LOCK:
        current = Image.MAX_IMAGE_PIXELS
        if current is not None and current < max_pixels:
            Image.MAX_IMAGE_PIXELS = max_pixels


def choose_scale(width: int, height: int) -> int:
    """Largest power-of-two reduction that keeps PIXELS_PER_WINDOW pixels per Jarosz box.

    Images whose box is narrower than MIN_WINDOW_TO_SCALE are decoded whole: for
    them a reduced decode saves little and costs accuracy.
    """
    window = pdq.jarosz_window(min(width, height))
    if window < MIN_WINDOW_TO_SCALE:
        return 1
    scale = 1
    while scale * 2 <= MAX_SCALE and scale * 2 * PIXELS_PER_WINDOW <= window:
        scale *= 2
    return scale


def fast_luma(image: Image.Image, budget: DecodeBudget | None = None) -> LumaImage:
    """Luma for a JPEG straight from the decoder's Y channel at reduced scale; other
    formats get :func:`bounded_luma`."""
    budget = budget or DecodeBudget(process_limits())
    if image.format != "JPEG" or image.mode not in ("RGB", "L"):
        return bounded_luma(image, budget)
    width, height = image.size
    scale = choose_scale(width, height)
    # Pillow picks the scale by floor division, so ask for floor sizes.
    image.draft("L", (max(1, width // scale), max(1, height // scale)))
    budget.admit_still(image.width, image.height, image.mode)
    luma = np.asarray(_load(image, "L"), dtype=np.uint8)
    rows, cols = luma.shape
    return LumaImage(luma, -(-height // rows), -(-width // cols), (height, width), exact=False)


def bounded_luma(image: Image.Image, budget: DecodeBudget) -> LumaImage:
    """The reference's exact luma when it fits the decode budget beside the decoded pixels;
    block averages otherwise (as the JPEG fast path: within a few bits of the exact hash).
    Refuses (``over_decode_budget``) a picture whose decoded pixels alone do not fit."""
    width, height = image.size
    if budget.admit_still(width, height, image.mode):
        return exact_luma(image, budget)
    return reduced_luma(image, max(2, choose_scale(width, height)), budget)


def exact_luma(image: Image.Image, budget: DecodeBudget | None = None) -> LumaImage:
    """The reference's luma: decode fully, ``convert('RGB')``, 0.299 R + 0.587 G + 0.114 B.

    Pillow's RGB-to-F conversion computes exactly the reference's float32 luma. Both
    conversions are per pixel, so they run in strips of the decoded picture: a huge image
    never holds an RGB or a second float copy of itself beside its float luma.
    """
    width, height = image.size
    decoded = _load(image, None)
    luma = np.empty((height, width), dtype=np.float32)
    for top, strip in _strips(decoded, max(1, EXACT_STRIP_PIXELS // width), budget):
        _copy_float(_convert(_convert(strip, "RGB"), "F"), luma[top : top + strip.height])
    return LumaImage(luma, 1, 1, (height, width), exact=True)


def reduced_luma(image: Image.Image, scale: int, budget: DecodeBudget | None = None) -> LumaImage:
    """Luma averaged over ``scale`` x ``scale`` blocks (the last ones partial), computed strip
    by strip from the reference's float luma: memory for the decoded pixels and a small
    float image only."""
    width, height = image.size
    decoded = _load(image, None)
    rows, cols = -(-height // scale), -(-width // scale)
    luma = np.empty((rows, cols), dtype=np.float32)
    strip_rows = scale * max(1, EXACT_STRIP_PIXELS // (width * scale))
    starts = np.arange(0, width, scale)
    widths = np.diff(np.append(starts, width)).astype(np.float32)
    for top, strip in _strips(decoded, strip_rows, budget):
        exact = np.asarray(_convert(_convert(strip, "RGB"), "F"), dtype=np.float32)
        row_starts = np.arange(0, exact.shape[0], scale)
        heights = np.diff(np.append(row_starts, exact.shape[0])).astype(np.float32)
        sums = np.add.reduceat(np.add.reduceat(exact, row_starts, axis=0), starts, axis=1)
        first = top // scale
        luma[first : first + len(row_starts)] = sums / heights[:, None] / widths[None, :]
    return LumaImage(luma, scale, scale, (height, width), exact=False)


def _strips(
    image: Image.Image, strip_rows: int, budget: DecodeBudget | None
) -> Iterator[tuple[int, Image.Image]]:
    """(top row, strip) over the picture; the deadline is checked before each strip."""
    width, height = image.size
    for top in range(0, height, strip_rows):
        if budget is not None:
            budget.check_time()
        yield (
            top,
            image
            if height <= strip_rows
            else image.crop((0, top, width, min(height, top + strip_rows))),
        )


def _copy_float(source: Image.Image, target: np.ndarray) -> None:
    """Copy a mode F image into a float32 array of its shape.

    ``np.asarray`` goes through ``tobytes``, which for 4-byte pixels costs ten times the
    conversion itself (11 ms for 1080p). Pillow maps a C-contiguous buffer as an RGBA
    image in place, and RGBA and F share the pixel size, so a paste of the F pixels is a
    plain copy into the array.
    """
    height, width = target.shape
    target[-1, -1] = np.nan  # luma is never NaN: tells whether the paste reached the array
    try:
        mapped = Image.frombuffer("RGBA", (width, height), target, "raw", "RGBA", 0, 1)
        mapped.im.paste(source.im, (0, 0, width, height))
        if target[-1, -1] == source.getpixel((width - 1, height - 1)):
            return
    except (AttributeError, ValueError, TypeError):
        pass
    target[...] = np.asarray(source)


def _load(image: Image.Image, mode: str | None) -> Image.Image:
    """Decode the pixels, converted to ``mode`` unless None; decoder failures become
    per-file errors."""
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        # Pillow reports truncated and malformed data through all of these.
        raise PixelsFailed(f"cannot decode image: {exc}") from exc
    except MemoryError as exc:
        raise FingerprintError(FailureReason.TOO_MANY_PIXELS, "image too large to decode") from exc
    return image if mode is None else _convert(image, mode)


def _convert(image: Image.Image, mode: str) -> Image.Image:
    if image.mode == mode:
        return image
    try:
        return image.convert(mode)
    except (OSError, ValueError) as exc:
        raise FingerprintError(
            FailureReason.CORRUPT, f"cannot convert {image.mode} pixels: {exc}"
        ) from exc
    except MemoryError as exc:
        raise FingerprintError(FailureReason.TOO_MANY_PIXELS, "image too large to decode") from exc
