"""PDQ hashes of a still image: the reference-compatible hash and robust query variants."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from vigil.fingerprint import borders, content_region, decode, held_regions, pdq, small_rotations
from vigil.fingerprint.limits import DecodeBudget, process_limits

# Fall back to the exact path when more coefficients than this sit within
# AMBIGUITY_TOLERANCE grey levels of the median (the fast path's measured error
# is under one grey level). Symmetric and flat-textured images trip it.
AMBIGUITY_TOLERANCE = 1.0
AMBIGUITY_LIMIT = 32
TRIMMED = "trimmed"  # variant hashed on the picture without its frame
TRIMMED_NESTED = "trimmed_nested"  # ... and without a second frame inside it
# Variants hashed on a picture found inside app chrome (content_region.py): "chrome_region",
# then "chrome_region_2" for a second picture on the same screen.
REGION = "chrome_region"
# A region within this many luma pixels of a trimmed box on every side hashes the same.
SAME_BOX_PIXELS = 2
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
    # Named region hashes for the held-content stage (held_regions.py), when asked for:
    # from the same luma as the main hash, so the upload is decoded once.
    regions: tuple[held_regions.RegionHash, ...] = ()


def hash_photo(
    source: decode.MediaSource,
    *,
    variants: bool = True,
    max_pixels: int = decode.DEFAULT_MAX_PIXELS,
    budget: DecodeBudget | None = None,
    regions: bool = False,
) -> PhotoHashes:
    """Hash a still image, taking the fast path unless the result would be ambiguous."""
    with decode.open_image(source, max_pixels) as image:
        return hash_image(
            image,
            source,
            variants=variants,
            max_pixels=max_pixels,
            budget=budget,
            regions=regions,
        )


def hash_image(
    image: Image.Image,
    source: decode.MediaSource,
    *,
    variants: bool,
    max_pixels: int,
    budget: DecodeBudget | None = None,
    regions: bool = False,
) -> PhotoHashes:
    """``regions``: also the held-region hashes (held_regions.region_hashes)."""
    budget = budget or DecodeBudget(process_limits())
    width, height = image.size
    luma = decode.fast_luma(image, budget)
    hashes = _hash(luma, variants)
    if _needs_exact(luma, *hashes[pdq.Dihedral.ORIGINAL]):
        luma, hashes = _exact_if_affordable(source, max_pixels, budget, luma, hashes, variants)
    extra = query_variants(luma, hashes) if variants else ()
    held = held_regions.region_hashes(luma) if regions else ()
    return PhotoHashes(hashes[pdq.Dihedral.ORIGINAL][0], extra, luma.exact, width, height, held)


def _exact_if_affordable(
    source: decode.MediaSource,
    max_pixels: int,
    budget: DecodeBudget,
    luma: decode.LumaImage,
    hashes: DihedralHashes,
    variants: bool,
) -> tuple[decode.LumaImage, DihedralHashes]:
    """The exact decode an ambiguous fast hash calls for, unless the budget cannot pay for
    it: then the fast hash stands (it is within a few bits of the exact one)."""
    with decode.open_image(source, max_pixels) as again:
        if not budget.fits_exact(again.width, again.height, again.mode):
            return luma, hashes
        budget.check_time()
        exact = decode.exact_luma(again, budget)
    return exact, _hash(exact, variants)


def hash_pil(image: Image.Image, *, variants: bool = True) -> PhotoHashes:
    """Hash an already-decoded frame (video frames, animation frames): always exact."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    luma = decode.exact_luma(rgb)
    return hash_luma_image(luma, image.width, image.height, variants=variants)


def hash_luma_image(
    luma: decode.LumaImage, width: int, height: int, *, variants: bool = True
) -> PhotoHashes:
    hashes = _hash(luma, variants)
    extra = query_variants(luma, hashes) if variants else ()
    return PhotoHashes(hashes[pdq.Dihedral.ORIGINAL][0], extra, luma.exact, width, height)


DihedralHashes = dict[pdq.Dihedral, tuple[pdq.PdqHash, pdq.FloatArray]]


def _hash(luma: decode.LumaImage, variants: bool) -> DihedralHashes:
    return pdq.hash_dihedral(
        luma.luma, luma.row_block, luma.col_block, luma.full_shape, variants=variants
    )


def _needs_exact(luma: decode.LumaImage, digest: pdq.PdqHash, coefficients: pdq.FloatArray) -> bool:
    # Weak hashes are ignored by matching, so their exactness is not worth a second
    # decode; the margin covers the fast path's own error in the quality score.
    if luma.exact or digest.quality < pdq.WEAK_QUALITY - QUALITY_MARGIN:
        return False
    return pdq.ambiguous_bits(coefficients, AMBIGUITY_TOLERANCE) > AMBIGUITY_LIMIT


def query_variants(luma: decode.LumaImage, hashes: DihedralHashes) -> tuple[VariantHash, ...]:
    """Extra hashes to query with; lists hold only the hash of the original."""
    trimmed = borders.content_boxes(luma.luma)
    return (
        _named(hashes)
        + _trimmed_variants(luma, trimmed)
        + _region_variants(luma, trimmed)
        + _turned_back(luma)
    )


def _turned_back(luma: decode.LumaImage) -> tuple[VariantHash, ...]:
    """The picture turned back by a few degrees (rot_<angle>_<kind>, small_rotations.py)."""
    return tuple(
        VariantHash(name, digest.hex) for name, digest in small_rotations.hypotheses(luma.luma)
    )


def _named(hashes: DihedralHashes, prefix: str = "") -> tuple[VariantHash, ...]:
    return tuple(
        VariantHash(f"{prefix}{variant.value}", digest.hex)
        for variant, (digest, _) in hashes.items()
        if variant is not pdq.Dihedral.ORIGINAL
    )


def _trimmed_variants(
    luma: decode.LumaImage, boxes: tuple[borders.ContentBox, ...]
) -> tuple[VariantHash, ...]:
    """The picture inside padding, letterbox bars or screenshot framing, if any.

    The outer trim also gets its dihedral variants: a turned picture re-shared
    inside a frame is found by neither the plain trim nor the plain rotations.
    """
    variants: list[VariantHash] = []
    for box in boxes:
        cropped = luma.luma[box.top : box.bottom, box.left : box.right]
        full_shape = box.full_shape(luma.row_block, luma.col_block, luma.full_shape)
        if variants:
            digest, _ = pdq.hash_luma(cropped, luma.row_block, luma.col_block, full_shape)
            variants.append(VariantHash(TRIMMED_NESTED, digest.hex))
            continue
        hashes = pdq.hash_dihedral(cropped, luma.row_block, luma.col_block, full_shape)
        variants.append(VariantHash(TRIMMED, hashes[pdq.Dihedral.ORIGINAL][0].hex))
        variants.extend(_named(hashes, prefix=f"{TRIMMED}_"))
    return tuple(variants)


def _region_variants(
    luma: decode.LumaImage, trimmed: tuple[borders.ContentBox, ...]
) -> tuple[VariantHash, ...]:
    """The picture inside app chrome (status and tool bars, text, a message bubble).

    Only the plain hash of each region: its rotations would cost as much again and
    double its chances of a false match, for screenshots of turned pictures, which
    are rare. A region the border trim already found is not hashed twice.
    """
    variants: list[VariantHash] = []
    for box in content_region.content_regions(luma.luma):
        if any(_same_box(box, other) for other in trimmed):
            continue
        cropped = luma.luma[box.top : box.bottom, box.left : box.right]
        full_shape = box.full_shape(luma.row_block, luma.col_block, luma.full_shape)
        digest, _ = pdq.hash_luma(cropped, luma.row_block, luma.col_block, full_shape)
        name = REGION if not variants else f"{REGION}_{len(variants) + 1}"
        variants.append(VariantHash(name, digest.hex))
    return tuple(variants)


def _same_box(a: borders.ContentBox, b: borders.ContentBox) -> bool:
    return all(
        abs(x - y) <= SAME_BOX_PIXELS
        for x, y in ((a.top, b.top), (a.left, b.left), (a.bottom, b.bottom), (a.right, b.right))
    )
