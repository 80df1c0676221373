"""PDQ perceptual hash (Meta's 256-bit image hash), vectorised with NumPy.

The reference pipeline is: float luminance, a two-pass Jarosz box filter, a
64x64 decimation, a 16x16 block of a 2-D DCT, and one bit per coefficient above
the median. Every step but the last is linear and separable, so the filter and
the decimation collapse into two small weight matrices (64 x rows, 64 x cols),
each non-zero only in a narrow band, so they are applied band by band; reversing them
filters the mirrored picture, which gives the rotation and mirror variants.
Applying them to a block-averaged image (the JPEG decoder's DCT-domain scaling
or Pillow's ``reduce``) approximates the reference closely at a fraction of the
cost; applying them to the full image reproduces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt

HASH_BITS = 256
HEX_LENGTH = HASH_BITS // 4
DOWNSAMPLE = 64
DCT_SIZE = 16
JAROSZ_PASSES = 2
WEAK_QUALITY = 50
MIN_SIDE = 5  # the reference returns an all-zero hash below this
ROW_CHUNK = 1024
BAND_ROWS = 4  # outputs per banded product: fewer calls vs. less wasted work
WEIGHT_DUST = 1e-9  # relative: weights below this are rounding residue

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A PDQ hash as its canonical 64-character hex string and its quality (0-100)."""

    hex: str
    quality: int

    @property
    def weak(self) -> bool:
        """Low-detail images hash unreliably; matching ignores them by default."""
        return self.quality < WEAK_QUALITY


class Dihedral(StrEnum):
    """The eight symmetries of the square, named as Pillow's ``Image.Transpose``.

    A variant's hash is the PDQ of the query picture so transformed: ``rotate90``
    turns it 90 degrees counter-clockwise, ``mirror`` swaps left and right.
    """

    ORIGINAL = "original"
    ROTATE_90 = "rotate90"
    ROTATE_180 = "rotate180"
    ROTATE_270 = "rotate270"
    MIRROR = "mirror"
    FLIP = "flip"
    TRANSPOSE = "transpose"
    TRANSVERSE = "transverse"


# Each symmetry as (reverse rows, reverse columns, then transpose). PDQ's box filter
# is not centred, so a turned picture's hash is not a turned hash: the variants are
# filtered with reversed weights instead of derived from the DCT block.
_DIHEDRAL_PARTS: dict[Dihedral, tuple[bool, bool, bool]] = {
    Dihedral.ORIGINAL: (False, False, False),
    Dihedral.FLIP: (True, False, False),
    Dihedral.MIRROR: (False, True, False),
    Dihedral.ROTATE_180: (True, True, False),
    Dihedral.TRANSPOSE: (False, False, True),
    Dihedral.ROTATE_90: (False, True, True),
    Dihedral.ROTATE_270: (True, False, True),
    Dihedral.TRANSVERSE: (True, True, True),
}


def jarosz_window(old_dimension: int, new_dimension: int = DOWNSAMPLE) -> int:
    """Box width the reference uses: ceil(old / (2 * new))."""
    return (old_dimension + 2 * new_dimension - 1) // (2 * new_dimension)


def _box_bounds(length: int, window: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Inclusive input range of each output of the reference's clipped box filter.

    Output k averages inputs [k - (window - half), k + half - 1] clipped to the
    vector, where half = (window + 2) // 2: the reference's window is not centred.
    """
    half = (window + 2) // 2
    k = np.arange(length)
    return np.clip(k - (window - half), 0, length - 1), np.clip(k + half - 1, 0, length - 1)


def _sample_positions(length: int) -> npt.NDArray[np.int64]:
    return ((np.arange(DOWNSAMPLE) + 0.5) * length / DOWNSAMPLE).astype(np.int64)


@lru_cache(maxsize=256)
def _full_weights(length: int) -> FloatArray:
    """Rows of the two-pass box filter at the 64 decimation points (64 x length).

    The second pass averages first-pass outputs, each itself a box average; the
    weights are accumulated as a difference array so no dense operator is built.
    """
    lo, hi = _box_bounds(length, jarosz_window(length))
    counts = (hi - lo + 1).astype(np.float64)
    diff = np.zeros((DOWNSAMPLE, length + 1))
    for row, centre in enumerate(_sample_positions(length)):
        inner = np.arange(lo[centre], hi[centre] + 1)
        share = 1.0 / (counts[centre] * counts[inner])
        np.add.at(diff[row], lo[inner], share)
        np.add.at(diff[row], hi[inner] + 1, -share)
    return np.cumsum(diff, axis=1)[:, :length]


@lru_cache(maxsize=1024)
def block_weights(
    length: int, block: int, reduced_length: int, reverse: bool = False
) -> FloatArray:
    """Weights for an axis whose pixels are means of ``block`` full-resolution pixels.

    Summing the full-resolution weights over each block is exact when a block is
    uniform, and a close approximation otherwise. ``reverse`` gives the weights that
    filter the axis as if the picture were mirrored along it.
    """
    full = _full_weights(length)
    if reverse:
        full = full[:, ::-1]
    if block == 1 and reduced_length == length:
        return full
    padded = np.zeros((DOWNSAMPLE, reduced_length * block))
    usable = min(length, reduced_length * block)
    padded[:, :usable] = full[:, :usable]
    return padded.reshape(DOWNSAMPLE, reduced_length, block).sum(axis=2)


@lru_cache(maxsize=1)
def dct_matrix() -> FloatArray:
    """The reference's 16x64 DCT-II basis, skipping the DC row."""
    i = np.arange(1, DCT_SIZE + 1)[:, None]
    j = np.arange(DOWNSAMPLE)[None, :]
    return np.sqrt(2.0 / DOWNSAMPLE) * np.cos(np.pi / 2 / DOWNSAMPLE * i * (2 * j + 1))


@dataclass(frozen=True, slots=True)
class _Band:
    """A few consecutive output rows of an axis's weights and the input span they read."""

    rows: slice
    first: int  # first input index with a non-zero weight in any of the rows
    last: int  # one past the last
    weights: npt.NDArray[np.float32]  # (rows, last - first), C-contiguous


@lru_cache(maxsize=1024)
def _bands(length: int, block: int, reduced_length: int, reverse: bool) -> tuple[_Band, ...]:
    """``block_weights`` cut into bands: each output reads a window of about two Jarosz
    boxes, so multiplying only those inputs does a few percent of the dense product's work.
    Groups of BAND_ROWS outputs keep the number of (small) matrix products low."""
    weights = block_weights(length, block, reduced_length, reverse)
    # The cumulative sums leave ~1e-17 dust outside each box; it never reaches a hash.
    used = np.abs(weights) > WEIGHT_DUST * np.abs(weights).max(axis=1, keepdims=True)
    firsts = used.argmax(axis=1)
    lasts = reduced_length - used[:, ::-1].argmax(axis=1)
    bands = []
    for top in range(0, DOWNSAMPLE, BAND_ROWS):
        rows = slice(top, top + BAND_ROWS)
        first, last = int(firsts[rows].min()), int(lasts[rows].max())
        block_w = np.ascontiguousarray(weights[rows, first:last], dtype=np.float32)
        bands.append(_Band(rows, first, last, block_w))
    return tuple(bands)


def _banded_product(
    bands: tuple[_Band, ...], data: npt.NDArray[np.float32], offset: int = 0
) -> npt.NDArray[np.float32]:
    """``weights[:, offset:offset + len(data)] @ data`` from the bands (rows outside the
    slice of the input contribute nothing)."""
    out = np.zeros((DOWNSAMPLE, data.shape[1]), dtype=np.float32)
    end = offset + data.shape[0]
    for band in bands:
        first, last = max(band.first, offset), min(band.last, end)
        if first < last:
            out[band.rows] += (
                band.weights[:, first - band.first : last - band.first]
                @ data[first - offset : last - offset]
            )
    return out


def downsample(
    luma: npt.NDArray[np.floating],
    row_block: int = 1,
    col_block: int = 1,
    full_shape: tuple[int, int] | None = None,
    mirrored: bool = False,
) -> dict[tuple[bool, bool], FloatArray]:
    """The 64x64 images the reference computes, from a full or block-averaged luma image.

    Keyed by (rows reversed, columns reversed); with ``mirrored`` all four are made
    in one pass over the image, otherwise only the original. Rows are filtered first
    and in chunks, so a large float32 image is never upcast whole.
    """
    rows, cols = full_shape or luma.shape
    sides = (False, True) if mirrored else (False,)
    row_bands = {r: _bands(rows, row_block, luma.shape[0], r) for r in sides}
    col_bands = {c: _bands(cols, col_block, luma.shape[1], c) for c in sides}
    filtered = {r: np.zeros((DOWNSAMPLE, luma.shape[1]), dtype=np.float32) for r in sides}
    for start in range(0, luma.shape[0], ROW_CHUNK):
        # float32 like the reference; the sums are short enough not to drift.
        chunk = np.asarray(luma[start : start + ROW_CHUNK], dtype=np.float32)
        for r in sides:
            filtered[r] += _banded_product(row_bands[r], chunk, start)
    return {
        (r, c): _banded_product(col_bands[c], np.ascontiguousarray(filtered[r].T)).T.astype(
            np.float64
        )
        for r in sides
        for c in sides
    }


def quality(small: FloatArray) -> int:
    """The reference's gradient-sum quality metric on the 64x64 image."""
    vertical = np.trunc((small[:-1, :] - small[1:, :]) * 100 / 255)
    horizontal = np.trunc((small[:, :-1] - small[:, 1:]) * 100 / 255)
    total = int(np.abs(vertical).sum() + np.abs(horizontal).sum())
    return min(100, total // 90)


def dct16(small: FloatArray) -> FloatArray:
    basis = dct_matrix()
    return basis @ small @ basis.T


def bits_to_hex(coefficients: FloatArray) -> str:
    """Threshold at the median and format as the reference's hex string.

    The reference sets bit (16 i + j) for coefficient [i][j] and prints bit 255 first.
    """
    flat = coefficients.reshape(-1)
    bits = flat > np.median(flat)
    return np.packbits(bits[::-1]).tobytes().hex()


def hash_luma(
    luma: npt.NDArray[np.floating],
    row_block: int = 1,
    col_block: int = 1,
    full_shape: tuple[int, int] | None = None,
) -> tuple[PdqHash, FloatArray]:
    """PDQ hash of a luminance image, with its DCT block."""
    return hash_dihedral(luma, row_block, col_block, full_shape, variants=False)[Dihedral.ORIGINAL]


def hash_dihedral(
    luma: npt.NDArray[np.floating],
    row_block: int = 1,
    col_block: int = 1,
    full_shape: tuple[int, int] | None = None,
    *,
    variants: bool = True,
) -> dict[Dihedral, tuple[PdqHash, FloatArray]]:
    """PDQ of the picture and, with ``variants``, of its seven rotations and mirrors."""
    rows, cols = full_shape or luma.shape
    wanted = list(Dihedral) if variants else [Dihedral.ORIGINAL]
    if rows < MIN_SIDE or cols < MIN_SIDE:
        empty = (PdqHash("0" * HEX_LENGTH, 0), np.zeros((DCT_SIZE, DCT_SIZE)))
        return dict.fromkeys(wanted, empty)
    smalls = downsample(luma, row_block, col_block, full_shape, mirrored=variants)
    hashes = {}
    for variant in wanted:
        reverse_rows, reverse_cols, transpose = _DIHEDRAL_PARTS[variant]
        small = smalls[(reverse_rows, reverse_cols)]
        small = small.T if transpose else small
        coefficients = dct16(small)
        hashes[variant] = (PdqHash(bits_to_hex(coefficients), quality(small)), coefficients)
    return hashes


def ambiguous_bits(coefficients: FloatArray, tolerance: float) -> int:
    """Coefficients within ``tolerance`` grey levels of the median: bits an error could flip."""
    flat = coefficients.reshape(-1)
    return int(np.count_nonzero(np.abs(flat - np.median(flat)) < tolerance))


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes of equal length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


LUMA_WEIGHTS = (np.float32(0.299), np.float32(0.587), np.float32(0.114))


def rgb_to_luma(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """The reference's luminance: 0.299 R + 0.587 G + 0.114 B, in float32."""
    r, g, b = LUMA_WEIGHTS
    return rgb[..., 0] * r + rgb[..., 1] * g + rgb[..., 2] * b
