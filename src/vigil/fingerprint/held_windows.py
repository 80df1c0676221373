"""Windows of pictures Vigil holds: a crop-tolerant second signal for cropped copies.

PDQ moves about 20 bits when the window it hashes shifts by half a percent of the picture,
so a copy cut 5-10% smaller matches neither the original's hash nor any fixed region of it
(held_regions.py). Where Vigil has the picture it stores, for a few windows of it (the
whole, five 95% windows and nine 90% windows, at the centre and towards the corners), the
reference PDQ and the colour-layout descriptor (descriptors/colour_layout.py). A query,
as it comes, is compared with every window of every held picture: a window matches when
the query's colour layout is at least WINDOW_SIMILARITY alike **and** its PDQ within
WINDOW_DISTANCE. Each test alone is loose (the colour layout finds crops but also
thousands of flat synthetic pairs; PDQ at 96 bits is far from a match); together, on
benchmarks/bench_held_regions.py, they find 95% of 5%-crops and 79% of 10%-crops, with 91
false pairs among distinct pictures where plain PDQ at 31 has 82 (docs/benchmarks.md). A
window says which one matched and how strongly.

A copy cut by up to 10% of each side lies within a few percent of one of these windows,
which the colour layout's 32 x 32 low frequencies tolerate; larger crops mostly do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from vigil.fingerprint import decode, pdq
from vigil.fingerprint.descriptors.base import Vector
from vigil.fingerprint.descriptors.colour_layout import ColourLayoutDescriptor
from vigil.fingerprint.descriptors.media import upright_picture
from vigil.fingerprint.held_regions import RegionHash
from vigil.fingerprint.limits import DecodeBudget
from vigil.fingerprint.photo import hash_pil

SIGNAL = "held_window"
WINDOW_PREFIX = "window_"
# Chosen on benchmarks/bench_held_regions.py: at 0.9 and 96 bits 10%-crops are found 94% of
# the time and 5%-crops always, with 5 more false pairs than plain PDQ at 31 on 2,090
# distinct pictures; 0.85 or 110 bits add false pairs faster than crops.
WINDOW_SIMILARITY = 0.9
WINDOW_DISTANCE = 96
# Where each window's cut goes: a person cropping keeps what matters, rarely the centre
# exactly, so the cut is split 20/80, 50/50 or 80/20 between two edges. Measured: without
# the 95% windows 5%-crops fell from 100% to 90%; the four 95% windows cut at the middle of
# an edge added nothing, so only the centre and the corners are kept.
_SPLITS_90 = tuple((x, y) for x in (0.2, 0.5, 0.8) for y in (0.2, 0.5, 0.8))
_SPLITS_95 = ((0.5, 0.5), (0.2, 0.2), (0.2, 0.8), (0.8, 0.2), (0.8, 0.8))
MIN_WINDOW_SIDE = 32  # pixels: a smaller picture has no windows worth storing
DESCRIPTOR = ColourLayoutDescriptor("held-window")


@dataclass(frozen=True, slots=True)
class Window:
    """The part of the picture kept by a crop to ``scale`` of each side, the cut split
    ``x`` (left share) and ``y`` (top share) between the two edges."""

    scale: float
    x: float = 0.5
    y: float = 0.5

    @property
    def name(self) -> str:
        """``window_whole``, or ``window_90_28``: 90% of each side, the cut 20/80 across
        and 80/20 down (left and top shares in tenths)."""
        if self.scale == 1:
            return f"{WINDOW_PREFIX}whole"
        return f"{WINDOW_PREFIX}{round(self.scale * 100)}_{round(self.x * 10)}{round(self.y * 10)}"

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        cut_x, cut_y = width * (1 - self.scale), height * (1 - self.scale)
        left, top = round(cut_x * self.x), round(cut_y * self.y)
        return left, top, left + round(width * self.scale), top + round(height * self.scale)


WINDOWS: tuple[Window, ...] = (
    Window(1.0),
    *(Window(0.95, x, y) for x, y in _SPLITS_95),
    *(Window(0.9, x, y) for x, y in _SPLITS_90),
)


def is_window(region: str) -> bool:
    return region.startswith(WINDOW_PREFIX)


def held_window_hashes(
    source: decode.MediaSource, *, max_pixels: int = decode.DEFAULT_MAX_PIXELS
) -> tuple[RegionHash, ...]:
    """Every window of a picture Vigil keeps: its PDQ and its colour layout."""
    return window_hashes(upright_picture(source, max_pixels))


def window_hashes(picture: Image.Image) -> tuple[RegionHash, ...]:
    width, height = picture.size
    if min(width, height) < MIN_WINDOW_SIDE:
        return ()
    rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
    hashes = []
    for window in WINDOWS:
        part = rgb.crop(window.box(width, height))
        digest = hash_pil(part, variants=False).pdq
        hashes.append(RegionHash(window.name, digest, DESCRIPTOR.describe(part)))
    return tuple(hashes)


def query_vector(
    source: decode.MediaSource, max_pixels: int, budget: DecodeBudget | None = None
) -> Vector:
    """The upload's colour layout, compared with the held windows'; decoded within the
    fingerprint's ``budget`` when given."""
    return DESCRIPTOR.describe(upright_picture(source, max_pixels, budget))


def similarity(a: Vector, b: Vector) -> float:
    return float(np.dot(a, b))


def version() -> str:
    """What makes stored window vectors comparable with a query's."""
    return DESCRIPTOR.version


def within_reach(
    distances: npt.NDArray[np.integer] | int, similarities: npt.NDArray[np.floating] | float
) -> npt.NDArray[np.bool_]:
    """The rule, for one window or many at once (vigil.screening.held_scan): both tests."""
    return np.logical_and(
        np.asarray(distances) <= WINDOW_DISTANCE, np.asarray(similarities) >= WINDOW_SIMILARITY
    )


def matches(query_pdq: pdq.PdqHash, vector: Vector, held: RegionHash) -> bool:
    """Whether a query (its PDQ and colour layout) matches one held window."""
    if query_pdq.weak or held.vector is None or held.pdq.weak:
        return False
    distance = pdq.hamming(query_pdq.hex, held.pdq.hex)
    return bool(within_reach(distance, similarity(vector, held.vector)))
