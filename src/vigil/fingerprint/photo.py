"""PDQ hashes of a still image: the reference-compatible hash and robust query variants."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from vigil.fingerprint import borders, decode, pdq

# Fall back to the exact path when more coefficients than this sit within
# AMBIGUITY_TOLERANCE grey levels of the median (the fast path's measured error
# is under one grey level). Symmetric and flat-textured images trip it.
AMBIGUITY_TOLERANCE = 1.0
AMBIGUITY_LIMIT = 32
TRIMMED = "trimmed"  # variant hashed on the picture without its frame
TRIMMED_NESTED = "trimmed_nested"  # ... and without a second frame inside it
QUALITY_MARGIN = 5


@dataclass(frozen=True, slots=True)
class VariantHash:
    variant: str
    pdq: str


@dataclass(frozen=True, slots=True)
class PhotoHashes:
    pdq: pdq.PdqHash
    variants: tuple[VariantHash, ...]
    exact: bool  # whether the reference's full decode was used
    width: int
    height: int


def hash_photo(source: decode.MediaSource, *, variants: bool = True,
               max_pixels: int = decode.DEFAULT_MAX_PIXELS) -> PhotoHashes:
    """Hash a still image, taking the fast path unless the result would be ambiguous."""
    with decode.open_image(source, max_pixels) as image:
        return hash_image(image, source, variants=variants, max_pixels=max_pixels)


def hash_image(image: Image.Image, source: decode.MediaSource, *, variants: bool,
               max_pixels: int) -> PhotoHashes:
    width, height = image.size
    luma = decode.fast_luma(image)
    digest, coefficients = _hash(luma)
    if _needs_exact(luma, digest, coefficients):
        with decode.open_image(source, max_pixels) as again:
            luma = decode.exact_luma(again)
        digest, coefficients = _hash(luma)
    extra = query_variants(luma, coefficients) if variants else ()
    return PhotoHashes(digest, extra, luma.exact, width, height)


def hash_pil(image: Image.Image, *, variants: bool = True) -> PhotoHashes:
    """Hash an already-decoded frame (video frames, animation frames): always exact."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    luma = decode.exact_luma(rgb)
    digest, coefficients = _hash(luma)
    extra = query_variants(luma, coefficients) if variants else ()
    return PhotoHashes(digest, extra, True, image.width, image.height)


def _hash(luma: decode.LumaImage) -> tuple[pdq.PdqHash, pdq.FloatArray]:
    return pdq.hash_luma(luma.luma, luma.row_block, luma.col_block, luma.full_shape)


def _needs_exact(luma: decode.LumaImage, digest: pdq.PdqHash,
                 coefficients: pdq.FloatArray) -> bool:
    # Weak hashes are ignored by matching, so their exactness is not worth a second
    # decode; the margin covers the fast path's own error in the quality score.
    if luma.exact or digest.quality < pdq.WEAK_QUALITY - QUALITY_MARGIN:
        return False
    return pdq.ambiguous_bits(coefficients, AMBIGUITY_TOLERANCE) > AMBIGUITY_LIMIT


def query_variants(luma: decode.LumaImage,
                   coefficients: pdq.FloatArray) -> tuple[VariantHash, ...]:
    """Extra hashes to query with; lists hold only the hash of the original."""
    return tuple(
        VariantHash(d.value, pdq.bits_to_hex(pdq.dihedral(coefficients, d)))
        for d in pdq.Dihedral
        if d is not pdq.Dihedral.ORIGINAL
    ) + _trimmed_variants(luma)


def _trimmed_variants(luma: decode.LumaImage) -> tuple[VariantHash, ...]:
    """The picture inside padding, letterbox bars or screenshot framing, if any.

    The outer trim also gets its dihedral variants: a turned picture re-shared
    inside a frame is found by neither the plain trim nor the plain rotations.
    """
    variants: list[VariantHash] = []
    for box in borders.content_boxes(luma.luma):
        cropped = luma.luma[box.top:box.bottom, box.left:box.right]
        full_shape = box.full_shape(luma.row_block, luma.col_block, luma.full_shape)
        digest, coefficients = pdq.hash_luma(cropped, luma.row_block, luma.col_block,
                                             full_shape)
        if variants:
            variants.append(VariantHash(TRIMMED_NESTED, digest.hex))
            continue
        variants.append(VariantHash(TRIMMED, digest.hex))
        variants.extend(
            VariantHash(f"{TRIMMED}_{d.value}", pdq.bits_to_hex(pdq.dihedral(coefficients, d)))
            for d in pdq.Dihedral
            if d is not pdq.Dihedral.ORIGINAL
        )
    return tuple(variants)
