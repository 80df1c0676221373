"""Protective renderings of flagged media, made on the server. Pure: no web, no database.

A reviewer sees every picture and video frame protected by default; the unblurred bytes
leave the server only on an explicit, audited reveal, which is not this module's job.
Nothing here ever returns the original bytes, not even as a fallback.

API
---
``Protection`` (StrEnum)
    ``BLUR``, ``BLUR_STRONG``, ``GRAYSCALE_BLUR`` (the default: strongly blurred,
    grayscale, reduced), ``PIXELATE``, ``FINGERPRINT_ONLY`` (the PDQ hash as a grid).
``RenderOptions(protection=GRAYSCALE_BLUR, blur_radius=24, max_side=320, pixel_block=24,
max_pixels=100_000_000)`` (frozen)
    ``blur_radius`` and ``pixel_block`` are lengths on a picture whose longer side is 320
    pixels, scaled with the reduced picture so any input size is equally unrecognisable;
    the strong blurs use twice the radius. Out-of-range values raise ``ValueError``.
``render_protected(media: bytes, options) -> bytes``
    A still picture decoded with bounded work (``max_pixels``, JPEG DCT-scaled decoding),
    turned by its EXIF orientation, reduced to ``max_side`` first, then protected. JPEG,
    or PNG for ``PIXELATE``; always re-encoded from a bare image: no EXIF, GPS, ICC, XMP.
``fingerprint_image(pdq_hex: str, *, scale=16) -> bytes``
    A PNG of the 256-bit PDQ hash as a 16x16 grid of black and white cells; invalid hex
    raises ``ValueError``.
``contact_sheet(video: bytes, options, *, frames=9) -> bytes``
    Up to ``frames`` (at most 16) frames sampled evenly from a video (whitelisted demuxers,
    read from memory, audio never decoded, at most 1500 frames decoded) or an animated GIF,
    WebP or PNG, each protected as above, tiled in a grid (3x3 for nine) into one JPEG.
``render_for(media: bytes, media_type: str, options, *, pdq: str | None) -> RenderedMedia``
    Dispatches on ``media_type`` (``"photo"``, ``"video"`` or ``"animation"``); an animated
    photo becomes a contact sheet. ``FINGERPRINT_ONLY`` never decodes the media and needs
    ``pdq`` for a photo (``ValueError`` without it); a video or animation without one gets
    a plain grey tile (``no_fingerprint_image``), never a broken picture.
``RenderedMedia(content: bytes, content_type: str, width: int, height: int)``
``RenderError(ValueError)``
    Undecodable or oversized media; ``reason`` is a stable ``FailureReason`` code
    (``empty_file``, ``not_media``, ``corrupt_media``, ``too_many_pixels``,
    ``file_too_large``, ``no_frames``...).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from vigil.fingerprint import decode
from vigil.fingerprint.errors import FailureReason
from vigil.review.rendering.hashview import fingerprint_image, no_fingerprint_image
from vigil.review.rendering.options import Protection, RenderError, RenderOptions
from vigil.review.rendering.sheet import contact_sheet
from vigil.review.rendering.still import content_type, render_protected, rendering_failures

__all__ = [
    "Protection",
    "RenderError",
    "RenderOptions",
    "RenderedMedia",
    "contact_sheet",
    "fingerprint_image",
    "render_for",
    "render_protected",
]

MEDIA_TYPES = ("photo", "video", "animation")


@dataclass(frozen=True, slots=True)
class RenderedMedia:
    content: bytes
    content_type: str
    width: int
    height: int


def render_for(
    media: bytes, media_type: str, options: RenderOptions, *, pdq: str | None
) -> RenderedMedia:
    """The protected rendering a reviewer sees for one item."""
    if media_type not in MEDIA_TYPES:
        raise ValueError(f"media_type must be one of {', '.join(MEDIA_TYPES)}")
    if options.protection is Protection.FINGERPRINT_ONLY:
        if pdq is None and media_type != "photo":
            return described(no_fingerprint_image(), "image/png")
        if pdq is None:
            raise ValueError("FINGERPRINT_ONLY needs the media's PDQ hash")
        return described(fingerprint_image(pdq), "image/png")
    if not media:
        raise RenderError(FailureReason.EMPTY, "the media is empty")
    if media_type != "photo" or is_animated(media, options):
        return described(contact_sheet(media, options), "image/jpeg")
    return described(render_protected(media, options), content_type(options))


def is_animated(media: bytes, options: RenderOptions) -> bool:
    with rendering_failures(), decode.open_image(media, options.max_pixels) as image:
        return bool(getattr(image, "is_animated", False))


def described(content: bytes, kind: str) -> RenderedMedia:
    # Our own output, small and well-formed: reading its header back is cheap.
    with Image.open(io.BytesIO(content)) as image:
        width, height = image.size
    return RenderedMedia(content, kind, width, height)
