"""Region hashes of pictures Vigil holds: a second signal for captioned and watermarked copies.

PDQ hashes the whole picture, so a copy with a caption bar over its top or bottom, or a
site's translucent watermark over a part of it, is often out of reach of the original's
hash. Where Vigil has the picture (the clearinghouse's labelled files, a platform's
confirmed decisions, evidence) it can store more than that hash: the reference PDQ of a
few fixed regions of it (the top half, the top and bottom thirds, the centre). A query
hashes the same regions of itself and each is compared with the held region of the same
name, so the band an overlay covers is left out of both. Lists from outside hold only the
reference hash and keep working as before; nothing here changes it.

Crops are not reached this way: PDQ moves about 20 bits when the region is shifted by
0.5% of the picture, so only a crop with exactly a stored region's geometry would match
(measured, docs/benchmarks.md). The set of regions and the distance were chosen by
measurement (``benchmarks/bench_held_regions.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vigil.fingerprint import decode, pdq
from vigil.fingerprint.descriptors.base import Vector
from vigil.fingerprint.limits import DecodeBudget, process_limits

SIGNAL = "held_region"


@dataclass(frozen=True, slots=True)
class Region:
    """A part of the picture, as the fractions of its height and width cut from each edge."""

    name: str
    top: float = 0.0
    bottom: float = 0.0
    left: float = 0.0
    right: float = 0.0

    def __post_init__(self) -> None:
        if not (0 <= self.top + self.bottom < 1 and 0 <= self.left + self.right < 1):
            raise ValueError(f"region {self.name} leaves nothing of the picture")


@dataclass(frozen=True, slots=True)
class RegionHash:
    region: str
    pdq: pdq.PdqHash
    # A held window's colour layout (held_windows.py); None for a region, compared by PDQ.
    vector: Vector | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RegionMatch:
    """Which region of a held picture a query's same region came within reach of."""

    region: str
    distance: int


# Chosen by measurement (docs/benchmarks.md): each region is one more hash per held picture
# and one more chance of a false pair, so only those that lift recall are kept. A caption
# bar covers the top or bottom 10-14%, a site's watermark a corner or a band across the
# middle; each of these regions leaves one of them out of both the query and the held
# picture. Recall did not change between distance 16 and 31, nor did the false pairs:
# 20 leaves room for re-encoding without reaching further than needed.
HELD_REGIONS: tuple[Region, ...] = (
    Region("top_half", bottom=0.5),
    Region("top_third", bottom=0.67),
    Region("bottom_third", top=0.67),
    Region("centre_70", 0.15, 0.15, 0.15, 0.15),
)
HELD_REGION_DISTANCE = 20

# A region must keep enough of the picture for PDQ's 64x64 decimation to mean something;
# below this many luma pixels on a side it is skipped rather than hashed from a few pixels.
MIN_REGION_SIDE = 16


def held_region_hashes(
    source: decode.MediaSource,
    *,
    max_pixels: int = decode.DEFAULT_MAX_PIXELS,
    budget: DecodeBudget | None = None,
) -> tuple[RegionHash, ...]:
    """Region hashes of a picture Vigil keeps: from the reference's own luma when the decode
    budget allows (stored once, so worth the exact decode), block averages otherwise. An
    upload's own regions come with its fingerprint, from the luma its main hash used
    (photo.hash_image with ``regions``)."""
    with decode.open_image(source, max_pixels) as image:
        luma = decode.bounded_luma(image, budget or DecodeBudget(process_limits()))
    return region_hashes(luma)


def closest(
    query: Sequence[RegionHash],
    held: Sequence[RegionHash],
    limit: int = HELD_REGION_DISTANCE,
) -> RegionMatch | None:
    """The closest pair of same-named regions within ``limit``, or None.

    Regions are only compared by name: the query's picture without its top 15% against the
    held picture without its top 15%, so the band a caption bar or watermark covers is out
    of both. Weak hashes (flat regions) never match.
    """
    stored = {r.region: r.pdq.hex for r in held if not r.pdq.weak}
    best: RegionMatch | None = None
    for region in query:
        if region.pdq.weak or region.region not in stored:
            continue
        distance = pdq.hamming(region.pdq.hex, stored[region.region])
        if distance <= limit and (best is None or distance < best.distance):
            best = RegionMatch(region.region, distance)
    return best


def region_hashes(
    luma: decode.LumaImage, regions: tuple[Region, ...] = HELD_REGIONS
) -> tuple[RegionHash, ...]:
    """The reference PDQ of each region of the picture big enough to hash."""
    hashes = []
    for region in regions:
        digest = hash_region(luma, region)
        if digest is not None:
            hashes.append(RegionHash(region.name, digest))
    return tuple(hashes)


def hash_region(luma: decode.LumaImage, region: Region) -> pdq.PdqHash | None:
    """PDQ of one region, or None when the picture is too small to have it."""
    rows, cols = luma.luma.shape
    top, bottom = _span(rows, region.top, region.bottom)
    left, right = _span(cols, region.left, region.right)
    if bottom - top < MIN_REGION_SIDE or right - left < MIN_REGION_SIDE:
        return None
    part = luma.luma[top:bottom, left:right]
    full_rows, full_cols = luma.full_shape
    full_shape = (
        min(bottom * luma.row_block, full_rows) - top * luma.row_block,
        min(right * luma.col_block, full_cols) - left * luma.col_block,
    )
    digest, _ = pdq.hash_luma(part, luma.row_block, luma.col_block, full_shape)
    return digest


def _span(length: int, head: float, tail: float) -> tuple[int, int]:
    return round(length * head), length - round(length * tail)
