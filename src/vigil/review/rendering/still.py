"""Protective renderings of still pictures: reduce first, then blur, grayscale or pixelate.

Reducing comes first because it is cheap (JPEGs decode at a reduced DCT scale) and is
itself protective; every output is a new image, re-encoded, with no metadata.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageFilter, ImageOps

from vigil.fingerprint import decode
from vigil.fingerprint.errors import FailureReason, FingerprintError
from vigil.review.rendering.options import REFERENCE_SIDE, Protection, RenderError, RenderOptions

STRONG_FACTOR = 2  # BLUR_STRONG and GRAYSCALE_BLUR blur this much more than BLUR
JPEG_QUALITY = 80  # blurred pictures hold no detail worth more bytes
MATTE = (128, 128, 128)  # transparent areas are shown over neutral grey, never their hidden RGB
_PLAIN_MODES = ("RGB", "L")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


@contextmanager
def rendering_failures() -> Iterator[None]:
    """Turn decoding failures into RenderErrors with the fingerprinting's stable reasons."""
    try:
        yield
    except FingerprintError as exc:
        raise RenderError(exc.reason, exc.detail) from exc
    except MemoryError as exc:
        raise RenderError(FailureReason.TOO_MANY_PIXELS, "media too large to decode") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        # Pillow reports truncated and malformed data through all of these.
        raise RenderError(FailureReason.CORRUPT, f"cannot decode media: {exc}") from exc


def render_protected(media: bytes, options: RenderOptions) -> bytes:
    """The protected rendering of a still picture, as JPEG (PNG for pixelation)."""
    if options.protection is Protection.FINGERPRINT_ONLY:
        raise ValueError("FINGERPRINT_ONLY renders the hash: use fingerprint_image or render_for")
    if not media:
        raise RenderError(FailureReason.EMPTY, "the media is empty")
    return encode(protected_still(media, options), options)


def protected_still(media: bytes, options: RenderOptions) -> Image.Image:
    with rendering_failures(), decode.open_image(media, options.max_pixels) as image:
        # The JPEG decoder scales in the DCT domain; at least the target size is decoded.
        image.draft(None, fitted_size(image.size, options.max_side))
        image.load()
        upright = oriented(image)
        return protect(upright, options)


def oriented(image: Image.Image) -> Image.Image:
    """The picture turned as its EXIF orientation says, as a viewer would show it."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        # Pillow's EXIF parser fails in many ways on junk; orientation is cosmetic, so a
        # broken tag must not block review.
        return image


def protect(image: Image.Image, options: RenderOptions) -> Image.Image:
    """Reduce to ``max_side``, then apply the protection; also used for video frames."""
    small = reduced(normalised(image), options.max_side)
    kind = options.protection
    if kind is Protection.PIXELATE:
        return pixelated(small, options.pixel_block)
    strength = 1 if kind is Protection.BLUR else STRONG_FACTOR
    if kind is Protection.GRAYSCALE_BLUR:
        small = small.convert("L")
    return blurred(small, options.blur_radius * strength)


def normalised(image: Image.Image) -> Image.Image:
    """RGB or L; transparency flattened so hidden colour under alpha never shows."""
    if image.mode in _PLAIN_MODES:
        return image
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        matte = Image.new("RGBA", rgba.size, (*MATTE, 255))
        return Image.alpha_composite(matte, rgba).convert("RGB")
    return image.convert("RGB")


def fitted_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def reduced(image: Image.Image, max_side: int) -> Image.Image:
    target = fitted_size(image.size, max_side)
    if target == image.size:
        return image.copy()
    # reducing_gap: a fast integer box reduction first, then an exact resample.
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def scaled(length: float, image: Image.Image) -> float:
    """A length given at REFERENCE_SIDE, for this picture's longer side."""
    return length * max(image.size) / REFERENCE_SIDE


def blurred(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(scaled(radius, image)))


def pixelated(image: Image.Image, block: int) -> Image.Image:
    side = max(1.0, scaled(block, image))
    width, height = image.size
    blocks = (max(1, round(width / side)), max(1, round(height / side)))
    coarse = image.resize(blocks, Image.Resampling.BOX)
    return coarse.resize(image.size, Image.Resampling.NEAREST)


def encode(image: Image.Image, options: RenderOptions) -> bytes:
    """Re-encode a bare copy: no EXIF, ICC, XMP or text chunk can ride along."""
    bare = Image.new(image.mode, image.size)
    bare.paste(image)
    buffer = io.BytesIO()
    if options.protection is Protection.PIXELATE:
        bare.save(buffer, format="PNG", optimize=True)
    else:
        bare.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def content_type(options: RenderOptions) -> str:
    return "image/png" if options.protection is Protection.PIXELATE else "image/jpeg"
