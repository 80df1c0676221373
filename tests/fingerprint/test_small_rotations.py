"""Small-rotation hypotheses: turned copies are found, distinct pictures are not.

Pictures are benign corpus photos, tiles of them and generated images; copies are turned
here the two ways benchmarks/bench_rotation_hypotheses.py turns them.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from tests.conftest import CORPUS
from tests.fingerprint.oracle import reference_pdq
from vigil.fingerprint import decode, pdq, photo, small_rotations

MATCH_DISTANCE = 31
PHOTO = "aitzgorri_by_aitzol_berasategi.jpg"
SIDE = 512


def original(name: str = PHOTO) -> Image.Image:
    with Image.open(CORPUS / name) as image:
        rgb = image.convert("RGB")
    rgb.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS)
    return rgb


def padded(image: Image.Image, degrees: float) -> Image.Image:
    """Turned on a grown canvas, the corners filled with one colour."""
    return image.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))


def clipped(image: Image.Image, degrees: float, fill: tuple[int, int, int]) -> Image.Image:
    """Turned on a canvas of its own size: corners cut off, the uncovered ones filled."""
    return image.rotate(degrees, Image.Resampling.BICUBIC, fillcolor=fill)


def straightened(image: Image.Image, degrees: float) -> Image.Image:
    """Turned and cut to the largest same-shaped rectangle inside (no corners)."""
    scale = small_rotations.inscribed_scale(image.width, image.height, degrees)
    width, height = round(image.width * scale), round(image.height * scale)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    rotated = image.rotate(degrees, Image.Resampling.BICUBIC)
    return rotated.crop((left, top, left + width, top + height))


def shared_luma(image: Image.Image) -> np.ndarray:
    """The luma Vigil hashes for the picture shared as a JPEG."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    with Image.open(io.BytesIO(buffer.getvalue())) as copy:
        return decode.fast_luma(copy).luma


def closest(luma: np.ndarray, target: str) -> tuple[str, int]:
    found = small_rotations.hypotheses(luma)
    assert found, "no hypotheses"
    return min(
        ((name, pdq.hamming(digest.hex, target)) for name, digest in found), key=lambda f: f[1]
    )


@pytest.mark.parametrize(
    ("degrees", "kind", "turn"),
    [
        (3.0, "padded", lambda p, d: padded(p, d)),
        (-3.0, "padded", lambda p, d: padded(p, d)),
        (3.0, "clipped", lambda p, d: clipped(p, d, (255, 255, 255))),
        (-3.0, "clipped", lambda p, d: clipped(p, d, (0, 0, 0))),
    ],
)
def test_a_copy_turned_three_degrees_with_filled_corners_is_found(
    degrees: float, kind: str, turn: Callable[[Image.Image, float], Image.Image]
) -> None:
    picture = original()
    reference, _ = reference_pdq(picture)
    copy = shared_luma(turn(picture, degrees))
    assert pdq.hamming(pdq.hash_luma(copy)[0].hex, reference) > MATCH_DISTANCE  # PDQ alone misses
    name, distance = closest(copy, reference)
    assert distance <= MATCH_DISTANCE
    assert name.startswith("rot_+" if degrees > 0 else "rot_-") and name.endswith(f"_{kind}")
    assert abs(float(name.split("_")[1]) - degrees) <= 0.5


@pytest.mark.parametrize("degrees", [3.0, -3.0])
def test_a_straightened_copy_turned_three_degrees_is_found(degrees: float) -> None:
    picture = original()
    reference, _ = reference_pdq(picture)
    copy = shared_luma(straightened(picture, degrees))
    assert pdq.hamming(pdq.hash_luma(copy)[0].hex, reference) > MATCH_DISTANCE
    name, distance = closest(copy, reference)
    assert distance <= MATCH_DISTANCE
    assert name == f"rot_{degrees:+g}_cropped"


def test_an_unturned_picture_is_not_taken_for_a_turned_copy(corpus_images: list) -> None:
    for path in corpus_images[::4]:
        copy = small_rotations.prepared(shared_luma(original(path.name)))
        assert copy is not None
        assert small_rotations.corner_turn(copy.grey) is None, path.name


def test_the_angle_and_the_canvas_are_read_off_the_corners() -> None:
    for degrees in (1.5, -2.5, 4.2, -5.0):
        for grown, turn in ((True, padded), (False, lambda p, d: clipped(p, d, (0, 0, 0)))):
            copy = small_rotations.prepared(shared_luma(turn(original(), degrees)))
            assert copy is not None
            found = small_rotations.corner_turn(copy.grey)
            assert found is not None, (degrees, grown)
            assert found.grown is grown and abs(found.degrees - degrees) <= 0.5, (degrees, found)


def tiles(image: Image.Image, side: int = 160) -> list[Image.Image]:
    return [
        image.crop((left, top, left + side, top + side))
        for top in range(0, image.height - side + 1, side)
        for left in range(0, image.width - side + 1, side)
    ]


def test_hypotheses_of_distinct_pictures_add_no_false_pairs(corpus_images: list) -> None:
    """Corpus photos and tiles of them: any pair a hypothesis brings within reach must be
    one plain PDQ already had (near-duplicate pictures in the corpus)."""
    pictures = [original(path.name) for path in corpus_images]
    pictures += [tile for picture in pictures[::3] for tile in tiles(picture)]
    references = [reference_pdq(picture)[0] for picture in pictures]
    added = []
    for a, picture in enumerate(pictures):
        hashes = [digest.hex for _, digest in small_rotations.hypotheses(shared_luma(picture))]
        for b, target in enumerate(references):
            if a == b or pdq.hamming(references[a], target) <= MATCH_DISTANCE:
                continue
            if any(pdq.hamming(h, target) <= MATCH_DISTANCE for h in hashes):
                added.append((a, b))
    assert len(pictures) > 100
    assert added == []


@pytest.mark.parametrize(
    "luma",
    [
        np.zeros((1, 1), dtype=np.uint8),
        np.zeros((0, 0), dtype=np.uint8),
        np.zeros((4, 7), dtype=np.uint8),
        np.full((300, 400), 128, dtype=np.uint8),
        np.full((300, 400), np.nan, dtype=np.float32),
        np.full((300, 400), 1e30, dtype=np.float32),
        np.random.default_rng(1).integers(0, 256, (2, 3000), dtype=np.uint8),
        np.random.default_rng(2).integers(0, 256, (3000, 40), dtype=np.uint8),
        np.random.default_rng(3).integers(0, 256, (30, 5), dtype=np.uint8),
        np.random.default_rng(4).integers(0, 256, (3, 4, 5), dtype=np.uint8),
        np.zeros(10, dtype=np.uint8),
    ],
    ids=["1px", "empty", "tiny", "uniform", "nan", "huge", "wide", "tall", "narrow", "3d", "1d"],
)
def test_hostile_luma_gives_no_or_safe_hypotheses(luma: np.ndarray) -> None:
    found = small_rotations.hypotheses(luma)
    assert len(found) <= max_hypotheses()
    for name, digest in found:
        assert name.startswith("rot_") and len(digest.hex) == pdq.HEX_LENGTH


def test_uniform_and_extreme_pictures_give_none() -> None:
    assert small_rotations.hypotheses(np.full((300, 400), 128, dtype=np.uint8)) == ()
    assert small_rotations.hypotheses(np.zeros((1, 1), dtype=np.uint8)) == ()
    wide = np.random.default_rng(5).integers(0, 256, (40, 1000), dtype=np.uint8)
    assert small_rotations.hypotheses(wide) == ()


def max_hypotheses() -> int:
    return max(1, len(small_rotations.CROPPED_ANGLES) + len(small_rotations.CLIPPED_ANGLES))


def test_the_number_of_hypotheses_is_bounded(corpus_images: list) -> None:
    counts = [
        len(small_rotations.hypotheses(shared_luma(transform(original(path.name)))))
        for path, transform in itertools.product(
            corpus_images[::6], (lambda p: p, lambda p: padded(p, 2.0))
        )
    ]
    assert max(counts) <= max_hypotheses() <= 8  # each is an index lookup per upload
    names = {
        name
        for path in corpus_images[::6]
        for name, _ in small_rotations.hypotheses(shared_luma(original(path.name)))
    }
    assert len(max(names, key=len, default="")) <= 32  # the matches table's variant column


def test_a_turned_copy_s_photo_hashes_carry_the_named_hypothesis() -> None:
    """What screening queries with: photo.hash_photo's variants, names and all."""
    picture = original()
    reference, _ = reference_pdq(picture)
    buffer = io.BytesIO()
    clipped(picture, 3.0, (255, 255, 255)).save(buffer, format="JPEG", quality=90)
    hashes = photo.hash_photo(buffer.getvalue())
    assert pdq.hamming(hashes.pdq.hex, reference) > MATCH_DISTANCE
    found = {v.variant: v.pdq for v in hashes.variants if v.variant.startswith("rot_")}
    assert [name for name in found if name.endswith("_clipped")], found
    assert min(pdq.hamming(value, reference) for value in found.values()) <= MATCH_DISTANCE


def test_a_copy_turned_one_degree_is_found_by_a_blind_clipped_hypothesis() -> None:
    """At one degree a clipped copy's corner triangles are too thin to read, so the blind
    clipped angles (CLIPPED_ANGLES) are what finds it."""
    picture = original()
    reference, _ = reference_pdq(picture)
    found = 0
    for degrees, fill in ((1.0, (255, 255, 255)), (-1.0, (0, 0, 0))):
        copy = shared_luma(clipped(picture, degrees, fill))
        hypotheses = dict(small_rotations.hypotheses(copy))
        name = f"rot_{degrees:+g}_clipped"
        assert name in hypotheses
        found += pdq.hamming(hypotheses[name].hex, reference) <= MATCH_DISTANCE
    assert found == 2
