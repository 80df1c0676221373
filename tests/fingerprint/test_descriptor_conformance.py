"""What every copy descriptor must do, run on each implementation: the built-in colour
layout (no model) and the ONNX adapter on tiny models built here (grey with a fixed batch of
one, RGB with a dynamic batch). A new implementation joins by adding itself to DESCRIPTORS.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.fingerprint.descriptor_models import projection_model
from tests.media_factory import gradient, noise, text_card
from vigil.fingerprint.descriptors import (
    ColourLayoutDescriptor,
    CopyDescriptor,
    DescriptorError,
    OnnxDescriptor,
    describe_all,
)

Build = Callable[[Path], CopyDescriptor]
DESCRIPTORS: dict[str, Build] = {
    "colour-layout": lambda _: ColourLayoutDescriptor(),
    "onnx-grey": lambda tmp: OnnxDescriptor(
        "onnx-grey", projection_model(tmp / "grey.onnx"), mean=(0.5,), std=(0.25,)
    ),
    "onnx-rgb-batched": lambda tmp: OnnxDescriptor(
        "onnx-rgb",
        projection_model(tmp / "rgb.onnx", channels=3, batch="n", dimension=48),
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
    ),
}


@pytest.fixture(params=sorted(DESCRIPTORS))
def descriptor(request: pytest.FixtureRequest, tmp_path: Path) -> CopyDescriptor:
    return DESCRIPTORS[request.param](tmp_path)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a.astype(np.float64), b.astype(np.float64)))


def reencoded(image: Image.Image, quality: int = 70, scale: float = 0.6) -> Image.Image:
    """A copy as it recirculates: smaller, and JPEG-compressed again."""
    size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
    buffer = io.BytesIO()
    image.resize(size, Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


@functools.cache  # made once: describing never changes a picture
def hostile_pictures() -> dict[str, Image.Image]:
    wide = gradient(4000, 2, seed=1)
    nan_float = Image.fromarray(np.full((8, 8), np.nan, dtype=np.float32))
    huge_values = Image.fromarray(np.full((8, 8), 1e30, dtype=np.float32))
    deep = Image.fromarray((np.arange(64, dtype=np.uint16) * 1000).reshape(8, 8))
    return {
        "one-pixel": Image.new("RGB", (1, 1), (200, 10, 10)),
        "one-pixel-black": Image.new("RGB", (1, 1)),
        "line-wide": wide,
        "line-tall": wide.transpose(Image.Transpose.ROTATE_90),
        "two-by-three": noise(2, 3, seed=2),
        "uniform-black": Image.new("RGB", (64, 64), (0, 0, 0)),
        "uniform-white": Image.new("RGB", (64, 64), (255, 255, 255)),
        "uniform-grey": Image.new("RGB", (64, 64), (128, 128, 128)),
        "large": gradient(3000, 2000, seed=3),
        "bilevel": noise(40, 30, seed=4).convert("1"),
        "grey": gradient(40, 30, seed=5).convert("L"),
        "grey-alpha": gradient(40, 30, seed=5).convert("LA"),
        "palette": gradient(40, 30, seed=6).convert("P"),
        "transparent": Image.new("RGBA", (40, 30), (0, 0, 0, 0)),
        "premultiplied-grey": Image.new("La", (40, 30)),
        "premultiplied": gradient(40, 30, seed=7).convert("RGBa"),
        "cmyk": gradient(40, 30, seed=8).convert("CMYK"),
        "ycbcr": gradient(40, 30, seed=9).convert("YCbCr"),
        "hsv": gradient(40, 30, seed=10).convert("HSV"),
        "int32": Image.new("I", (40, 30), 1 << 30),
        "sixteen-bit": deep,
        "float-nan": nan_float,
        "float-huge": huge_values,
    }


def check_vector(descriptor: CopyDescriptor, vector: np.ndarray) -> None:
    assert vector.dtype == np.float32
    assert vector.shape == (descriptor.dimension,)
    assert np.all(np.isfinite(vector))
    assert np.linalg.norm(vector.astype(np.float64)) == pytest.approx(1.0, abs=1e-5)


def test_implements_the_plug_point(descriptor: CopyDescriptor) -> None:
    assert isinstance(descriptor, CopyDescriptor)
    assert descriptor.name
    assert 0 < descriptor.dimension <= 4096
    assert descriptor.version and len(descriptor.version.encode()) <= 200


def test_vectors_have_the_dimension_unit_length_and_are_finite(
    descriptor: CopyDescriptor,
) -> None:
    for seed in range(4):
        check_vector(descriptor, descriptor.describe(gradient(120, 90, seed=seed)))
        check_vector(descriptor, descriptor.describe(noise(64, 64, seed=seed)))


def test_is_deterministic(descriptor: CopyDescriptor) -> None:
    picture = text_card(200, 120, seed=11)
    first = descriptor.describe(picture)
    assert np.array_equal(first, descriptor.describe(picture))
    assert np.array_equal(first, descriptor.describe(picture.copy()))


def test_the_same_in_parallel_as_alone(descriptor: CopyDescriptor) -> None:
    pictures = [gradient(80, 60, seed=seed) for seed in range(12)]
    alone = [descriptor.describe(picture) for picture in pictures]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(descriptor.describe, pictures))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))


def test_a_batch_equals_one_by_one(descriptor: CopyDescriptor) -> None:
    pictures = [gradient(50, 70, seed=seed) for seed in range(5)]
    rows = describe_all(descriptor, pictures)
    assert rows.shape == (5, descriptor.dimension)
    for row, picture in zip(rows, pictures, strict=True):
        np.testing.assert_allclose(row, descriptor.describe(picture), atol=1e-5)
    assert describe_all(descriptor, []).shape == (0, descriptor.dimension)


def test_a_reencoded_copy_is_closer_than_a_different_picture(
    descriptor: CopyDescriptor,
) -> None:
    for seed in range(5):
        original = gradient(400, 300, seed=seed)
        other = gradient(400, 300, seed=seed + 100)
        vector = descriptor.describe(original)
        copy_score = cosine(vector, descriptor.describe(reencoded(original)))
        other_score = cosine(vector, descriptor.describe(other))
        assert copy_score > 0.95, seed
        assert copy_score > other_score, seed


@pytest.mark.parametrize("case", sorted(hostile_pictures()))
def test_any_picture_gives_a_unit_vector_or_a_descriptor_error(
    descriptor: CopyDescriptor, case: str
) -> None:
    picture = hostile_pictures()[case]
    try:
        vector = descriptor.describe(picture)
    except DescriptorError:
        return
    check_vector(descriptor, vector)
    assert np.array_equal(vector, descriptor.describe(picture))


def test_a_picture_without_pixels_is_a_descriptor_error(descriptor: CopyDescriptor) -> None:
    with pytest.raises(DescriptorError, match="no pixels"):
        descriptor.describe(Image.new("RGB", (0, 0)))
    with pytest.raises(DescriptorError, match="no pixels"):
        descriptor.describe(Image.new("L", (10, 0)))


@pytest.mark.parametrize("case", ["one-pixel", "line-wide", "line-tall", "uniform-grey"])
def test_tiny_thin_and_uniform_pictures_are_described(
    descriptor: CopyDescriptor, case: str
) -> None:
    """Not an error: screenshots of a thin banner or a blank frame are ordinary uploads."""
    check_vector(descriptor, descriptor.describe(hostile_pictures()[case]))


def test_grey_and_palette_copies_match_their_rgb_original(descriptor: CopyDescriptor) -> None:
    original = gradient(90, 60, seed=12).convert("L").convert("RGB")
    vector = descriptor.describe(original)
    for mode in ("L", "P", "RGBA", "LA"):
        assert cosine(vector, descriptor.describe(original.convert(mode))) > 0.99, mode
