"""Describe a photo file with several descriptors, decoding it once and within the same
limits as the fingerprint: a decompression bomb is refused here as it is for PDQ."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageOps

from vigil.fingerprint.decode import DEFAULT_MAX_PIXELS, MediaSource, open_image
from vigil.fingerprint.descriptors.base import CopyDescriptor, Vector
from vigil.fingerprint.errors import FailureReason, FingerprintError
from vigil.fingerprint.limits import DecodeBudget, process_limits

# JPEG only: decode at a reduced scale no smaller than this. Copy-detection models take
# inputs of a few hundred pixels; decoding a 12-megapixel photo in full would cost more
# than describing it.
DRAFT_SIDE = 1024
# Pillow reports truncated and malformed data through all of these.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, MemoryError)


def describe_photo(
    descriptors: Sequence[CopyDescriptor],
    source: MediaSource,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> dict[str, Vector]:
    """Each descriptor's vector of the upright picture, by descriptor name. Raises
    FingerprintError for a picture that cannot be decoded within the limits, and the
    descriptors' own DescriptorError."""
    picture = upright_picture(source, max_pixels)
    return {descriptor.name: descriptor.describe(picture) for descriptor in descriptors}


def upright_picture(
    source: MediaSource,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    budget: DecodeBudget | None = None,
) -> Image.Image:
    """The picture decoded, turned as its EXIF orientation says (as people see it); each
    descriptor converts its mode as it needs (vigil.fingerprint.descriptors.base.rgb).
    ``budget``: the caller's decode budget (the fingerprint's, with the service's limits);
    the process's limits otherwise."""
    image = open_image(source, max_pixels)
    try:
        image.draft("RGB", (DRAFT_SIDE, DRAFT_SIDE))
        budget = budget or DecodeBudget(process_limits())
        budget.admit_still(image.width, image.height, image.mode)
        upright = ImageOps.exif_transpose(image)
        upright.load()  # decoded here, inside the budget, not lazily by the first descriptor
        return upright
    except DECODE_ERRORS as exc:
        raise FingerprintError(FailureReason.CORRUPT, f"cannot decode the photo: {exc}") from exc
    finally:
        image.close()
