"""A handcrafted reference descriptor: the low frequencies of the picture's colour layout.

The picture is shrunk to 32x32, split into luma and two colour-difference planes, and each
plane's 2-D DCT is read in zigzag order from its lowest frequency after the average: 35
luma and 14 + 14 colour coefficients, colour at half weight. Leaving the averages out is
what separates distinct pictures: with them, the overall brightness and tint dominate the
vector and 114 of the 1,176 pairs of distinct corpus pictures scored 0.9 or more; without,
5 (three are near-duplicates). The price: pictures without structure (one colour) all
get the same vector, so, as with PDQ's quality, screening should not match on them. It
survives re-encoding, resizing, greying and contrast; not crops, captions or rotations the
way a learned descriptor can (docs/benchmarks.md). It needs no model, so the plug
point, the index and the conformance test run without ONNX Runtime, and an operator without
a model still has a working second signal for re-encoded copies.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from vigil.fingerprint.descriptors.base import Vector, rgb, unit_vector

SIDE = 32
LUMA_COEFFICIENTS = 35
CHROMA_COEFFICIENTS = 14
CHROMA_WEIGHT = 0.5  # colour at full weight made grey copies fall below 0.9 (corpus: 94% -> 67%)
# A constant last component: a uniform picture has no other energy, and a unit vector
# cannot be made of zeros. Small, so it barely moves the similarity of real pictures.
FLOOR = 1e-3
DIMENSION = LUMA_COEFFICIENTS + 2 * CHROMA_COEFFICIENTS + 1
# ITU-R BT.601, as JPEG uses: rows give Y, Cb and Cr from RGB in 0..1.
_TO_YCBCR = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]],
    dtype=np.float64,
)


def _dct_matrix(size: int) -> np.ndarray:
    """The orthonormal DCT-II: ``m @ x @ m.T`` is the 2-D transform of ``x``."""
    k = np.arange(size)[:, np.newaxis]
    n = np.arange(size)[np.newaxis, :]
    matrix = np.sqrt(2 / size) * np.cos(np.pi * (2 * n + 1) * k / (2 * size))
    matrix[0] /= np.sqrt(2)
    return matrix


def _zigzag(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices from the lowest frequency outwards, diagonal by diagonal."""
    cells = sorted(
        ((i, j) for i in range(size) for j in range(size)),
        key=lambda cell: (cell[0] + cell[1], cell[0] if (cell[0] + cell[1]) % 2 else cell[1]),
    )
    rows, columns = zip(*cells, strict=True)
    return np.array(rows), np.array(columns)


_DCT = _dct_matrix(SIDE)
_ROWS, _COLUMNS = _zigzag(SIDE)


class ColourLayoutDescriptor:
    """Needs nothing but the picture; ``describe`` is thread-safe."""

    dimension = DIMENSION
    version = "colour_layout/2"  # change it with anything that changes the vectors

    def __init__(self, name: str = "colour-layout") -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ColourLayoutDescriptor(name={self.name!r})"

    def describe(self, image: Image.Image) -> Vector:
        # BOX averages every source pixel, so a 1-pixel line or a huge picture both work;
        # reducing_gap shrinks by whole factors first, which keeps huge pictures cheap.
        small = rgb(image, self.name).resize((SIDE, SIDE), Image.Resampling.BOX, reducing_gap=3.0)
        pixels = np.asarray(small, dtype=np.float64) / 255
        planes = np.einsum("hwc,pc->phw", pixels, _TO_YCBCR)
        layout = [
            self._low_frequencies(planes[0], LUMA_COEFFICIENTS),
            CHROMA_WEIGHT * self._low_frequencies(planes[1], CHROMA_COEFFICIENTS),
            CHROMA_WEIGHT * self._low_frequencies(planes[2], CHROMA_COEFFICIENTS),
            np.array([FLOOR]),
        ]
        return unit_vector(np.concatenate(layout), self.name, self.dimension)

    @staticmethod
    def _low_frequencies(plane: np.ndarray, count: int) -> np.ndarray:
        """``count`` coefficients from the lowest frequency after the average (the DC)."""
        coefficients = _DCT @ plane @ _DCT.T
        return coefficients[_ROWS[1 : count + 1], _COLUMNS[1 : count + 1]] / SIDE
