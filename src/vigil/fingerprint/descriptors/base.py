"""The plug point for copy-detection descriptors: a picture in, a unit vector out.

A descriptor maps a decoded picture to a float32 vector of fixed length whose cosine
similarity to another picture's vector says how likely one is a copy of the other (cropped,
re-encoded, overlaid). Every implementation passes the same conformance test
(tests/fingerprint/test_descriptor_conformance.py): deterministic, the declared dimension,
unit length, finite, and an answer or a DescriptorError for any picture, never a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from PIL import Image

Vector = npt.NDArray[np.float32]
MAX_DIMENSION = 4096  # longer vectors make an exact index slower than it is worth
# A vector this short cannot be normalised without amplifying rounding noise into meaning.
MIN_NORM = 1e-12


class DescriptorError(Exception):
    """The descriptor cannot describe this picture, or cannot be built as configured."""


@runtime_checkable
class CopyDescriptor(Protocol):
    name: str  # the configured name: says in a match which signal matched
    dimension: int
    # What makes two vectors comparable: vectors of different versions (another model
    # file, other input settings) are never compared; an index is rebuilt instead.
    version: str

    def describe(self, image: Image.Image) -> Vector:
        """The picture's unit-length float32 vector of ``dimension`` values; the picture
        is already decoded (and upright). Raises DescriptorError."""
        ...


def describe_all(descriptor: CopyDescriptor, images: Sequence[Image.Image]) -> Vector:
    """One row per picture: the descriptor's own batch method when it has one (a model
    runs a batch faster than its pictures one by one), else one call each."""
    batch = getattr(descriptor, "describe_batch", None)
    if callable(batch):
        rows = np.asarray(batch(images), dtype=np.float32)
    elif images:
        rows = np.stack([descriptor.describe(image) for image in images])
    else:
        rows = np.empty((0, descriptor.dimension), dtype=np.float32)
    if rows.shape != (len(images), descriptor.dimension):
        raise DescriptorError(
            f"descriptor {descriptor.name!r}: {rows.shape} vectors for {len(images)} pictures"
        )
    return rows


def unit_vector(raw: npt.ArrayLike, name: str, dimension: int) -> Vector:
    """``raw`` as a float32 vector of length 1, checked: finite, the right size, not zero."""
    values = np.asarray(raw, dtype=np.float64).ravel()
    if values.size != dimension:
        raise DescriptorError(
            f"descriptor {name!r}: gave {values.size} values; expected {dimension}"
        )
    if not np.all(np.isfinite(values)):
        raise DescriptorError(f"descriptor {name!r}: gave a value that is not finite")
    norm = float(np.linalg.norm(values))
    if norm < MIN_NORM:
        raise DescriptorError(f"descriptor {name!r}: gave a zero vector")
    return (values / norm).astype(np.float32)


def rgb(image: Image.Image, name: str) -> Image.Image:
    """The picture in RGB, whatever its mode. Transparency is dropped as Pillow does (the
    colour under it stays), 16-bit grey is scaled rather than clipped to white. A picture
    without pixels is a DescriptorError: it has nothing to describe."""
    if image.width < 1 or image.height < 1:
        raise DescriptorError(f"descriptor {name!r}: the picture has no pixels")
    if image.mode == "RGB":
        return image
    if image.mode.startswith("I;16"):
        grey = np.asarray(image, dtype=np.float32) / np.float32(257)
        return Image.fromarray(np.clip(grey + 0.5, 0, 255).astype(np.uint8), "L").convert("RGB")
    if image.mode == "La":  # premultiplied: Pillow converts it to LA only
        image = image.convert("LA")
    return image.convert("RGB")
