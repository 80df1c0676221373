"""Windows of held pictures (issue 19): a copy cropped by 5-10% of each side, which neither
the original's PDQ nor a fixed region reaches, matches one of the held windows by PDQ and
colour layout together; distinct pictures do not, each test alone is not enough, and weak
or hostile pictures are safe.

Pictures are benign corpus photos and images generated here.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from benchmarks import distinct
from tests.fingerprint.test_held_regions import PHOTOS, corpus_picture, jpeg, png
from vigil.fingerprint import held_windows, pdq, photo
from vigil.fingerprint.decode import DEFAULT_MAX_PIXELS
from vigil.fingerprint.errors import FingerprintError
from vigil.fingerprint.held_regions import RegionHash
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_bytes


def cropped(image: Image.Image, percent: float, x: float, y: float) -> Image.Image:
    """``percent`` of each side cut off, ``x`` and ``y`` of the cut on the left and top."""
    width, height = image.size
    cut_x, cut_y = width * percent / 100, height * percent / 100
    left, top = round(cut_x * x), round(cut_y * y)
    return image.crop((left, top, left + round(width - cut_x), top + round(height - cut_y)))


def query(data: bytes) -> tuple[pdq.PdqHash, np.ndarray]:
    return photo.hash_photo(data, variants=False).pdq, held_windows.query_vector(
        data, DEFAULT_MAX_PIXELS
    )


def any_window(data: bytes, held: tuple[RegionHash, ...]) -> RegionHash | None:
    digest, vector = query(data)
    return next((w for w in held if held_windows.matches(digest, vector, w)), None)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(("percent", "x", "y"), [(10, 0.3, 0.7), (8, 0.7, 0.25), (5, 0.5, 0.4)])
def test_a_cropped_copy_matches_a_held_window(
    name: str, percent: float, x: float, y: float
) -> None:
    original = corpus_picture(name)
    held = held_windows.held_window_hashes(png(original))
    copy = jpeg(cropped(original, percent, x, y))
    whole = photo.hash_photo(png(original), variants=False).pdq
    found = any_window(copy, held)
    assert found is not None and held_windows.is_window(found.region)
    if percent == 10:  # out of the whole-picture hash's reach
        assert pdq.hamming(whole.hex, query(copy)[0].hex) > 31


def test_distinct_pictures_match_no_window() -> None:
    held = {name: held_windows.held_window_hashes(png(corpus_picture(name))) for name in PHOTOS}
    for name in PHOTOS:
        for other in PHOTOS:
            if other != name:
                assert any_window(jpeg(corpus_picture(name)), held[other]) is None


def test_each_test_alone_is_not_a_match() -> None:
    """A window needs both: the PDQ within reach and the colour layout alike."""
    [window] = held_windows.window_hashes(corpus_picture(PHOTOS[0]))[:1]
    assert window.vector is not None
    near, far = window.pdq, pdq.PdqHash(_flipped(window.pdq.hex, 120), 100)
    opposite = -window.vector
    assert held_windows.matches(near, window.vector, window)
    assert not held_windows.matches(far, window.vector, window)  # alike, PDQ too far
    assert not held_windows.matches(near, opposite, window)  # PDQ same, layout unlike
    assert not held_windows.matches(pdq.PdqHash(near.hex, 10), window.vector, window)  # weak


def test_windows_lie_inside_the_picture_and_are_named_once() -> None:
    names = [window.name for window in held_windows.WINDOWS]
    assert len(set(names)) == len(names) == len(held_windows.WINDOWS)
    assert names[0] == "window_whole" and all(held_windows.is_window(n) for n in names)
    for width, height in ((33, 500), (640, 480), (4001, 3)):
        for window in held_windows.WINDOWS:
            left, top, right, bottom = window.box(width, height)
            assert 0 <= left < right <= width and 0 <= top < bottom <= height


def test_a_tiny_picture_has_no_windows_and_garbage_is_refused() -> None:
    assert held_windows.window_hashes(Image.new("RGB", (20, 400), (90, 10, 10))) == ()
    with pytest.raises(FingerprintError):
        held_windows.held_window_hashes(b"\xff\xd8\xff\xe0 not a jpeg at all")


def test_the_upload_carries_its_colour_layout_only_when_asked() -> None:
    data = jpeg(corpus_picture(PHOTOS[1]))
    plain = fingerprint_bytes(data)
    asked = fingerprint_bytes(data, FingerprintOptions(held_regions=True))
    assert plain.held_vector is None and asked.held_vector is not None
    assert np.allclose(asked.held_vector, held_windows.query_vector(data, DEFAULT_MAX_PIXELS))
    assert asked.pdq == plain.pdq  # the reference-compatible hash is untouched
    assert "held_vector" not in asked.to_dict()


def _flipped(hex_hash: str, bits: int) -> str:
    value = int(hex_hash, 16) ^ ((1 << bits) - 1)
    return f"{value:064x}"


def test_many_distinct_pictures_add_no_false_pair_through_the_windows(
    corpus_images: list,
) -> None:
    """Tiles of corpus pictures and synthetic pictures, each held: a query that reaches a
    held picture of another source through a window must be a pair plain PDQ reaches too
    (the corpus's near-duplicates), as on the benchmark's 2,329 pictures nearly always."""
    pictures = [
        (index, tile.image)
        for index, path in enumerate(corpus_images[::5])
        for tile in distinct.corpus_tiles(index, path)
        if tile.target
    ]
    pictures += [(1000 + seed, distinct.synthetic(1000 + seed, seed).image) for seed in range(60)]
    held = [held_windows.window_hashes(image) for _, image in pictures]
    queries = [query(jpeg(image)) for _, image in pictures]
    whole = [digest for digest, _ in queries]
    added = [
        (a, b)
        for a, (digest, vector) in enumerate(queries)
        for b, windows in enumerate(held)
        if pictures[a][0] != pictures[b][0]
        and not digest.weak
        and any(held_windows.matches(digest, vector, w) for w in windows)
        and pdq.hamming(digest.hex, whole[b].hex) > 31
    ]
    assert len(pictures) > 300
    assert added == []
