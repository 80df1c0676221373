"""Region hashes of held pictures (issue 19): captioned and watermarked copies of a picture
Vigil holds are found through them, distinct pictures are not, hostile pictures are safe,
and the reference PDQ hash is untouched.

Pictures are benign corpus photos and images generated here.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.conftest import CORPUS
from vigil.fingerprint import decode, held_regions, pdq, photo
from vigil.fingerprint.errors import FingerprintError

PHOTOS = (
    "aitzgorri_by_aitzol_berasategi.jpg",
    "bridge_by_sander_klootwijk.jpg",
    "dragonfly_by_bolly.jpg",
)


def query_regions(data: bytes) -> tuple[held_regions.RegionHash, ...]:
    """An upload's region hashes as screening makes them: with its fingerprint."""
    return photo.hash_photo(data, variants=False, regions=True).regions


def corpus_picture(name: str, side: int = 512) -> Image.Image:
    with Image.open(CORPUS / name) as image:
        picture = image.convert("RGB")
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    return picture


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def captioned(image: Image.Image, *, top: bool, dark: bool) -> Image.Image:
    """A solid bar with a line of text over 12% of the picture, as apps and memes add."""
    image = image.copy()
    bar = round(image.height * 0.12)
    y = 0 if top else image.height - bar
    fill, ink = ((20, 20, 20), (245, 245, 245)) if dark else ((245, 245, 245), (20, 20, 20))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, y, image.width, y + bar), fill=fill)
    font = ImageFont.load_default(size=max(6, bar // 2))
    draw.text(
        (round(image.width * 0.04), y + bar // 4), "saved from the group", font=font, fill=ink
    )
    return image


def watermarked(image: Image.Image) -> Image.Image:
    """A site's translucent name in the bottom-right corner (45% opaque)."""
    base = image.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = round(min(image.size) * 0.07)
    font = ImageFont.load_default(size=size)
    text = "sharesite.example"
    x = image.width - draw.textlength(text, font=font) - size
    draw.text((x, image.height - 2 * size), text, font=font, fill=(255, 255, 255, 115))
    return Image.alpha_composite(base, layer).convert("RGB")


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(("top", "dark"), [(True, True), (False, False)])
def test_a_captioned_copy_matches_its_held_picture(name: str, top: bool, dark: bool) -> None:
    original = corpus_picture(name)
    held = held_regions.held_region_hashes(png(original))
    copy = jpeg(captioned(original, top=top, dark=dark))
    match = held_regions.closest(query_regions(copy), held)
    assert match is not None
    assert match.distance <= held_regions.HELD_REGION_DISTANCE
    assert match.region in {region.name for region in held_regions.HELD_REGIONS}


@pytest.mark.parametrize("name", PHOTOS)
def test_a_watermarked_copy_matches_its_held_picture(name: str) -> None:
    original = corpus_picture(name)
    held = held_regions.held_region_hashes(png(original))
    copy = jpeg(watermarked(original))
    assert held_regions.closest(query_regions(copy), held) is not None


def test_distinct_corpus_pictures_do_not_match(corpus_images: list[Path]) -> None:
    hashes = [
        held_regions.held_region_hashes(jpeg(corpus_picture(path.name, 256)))
        for path in corpus_images
    ]
    matched = [
        (corpus_images[i].name, corpus_images[j].name)
        for i in range(len(hashes))
        for j in range(len(hashes))
        if i != j
        and held_regions.closest(hashes[i], hashes[j]) is not None
        and not _known_near_duplicates(corpus_images[i].name, corpus_images[j].name)
    ]
    assert matched == []


def _known_near_duplicates(a: str, b: str) -> bool:
    """mamurk_a_1 and mamurk_a_2 are one paper texture in two colours: the same luma
    pattern, whose top halves are 6 bits apart (their whole pictures are further)."""
    return {a, b} == {"mamurk_a_1.jpg", "mamurk_a_2.jpg"}


def test_the_reference_hash_is_unchanged() -> None:
    original = corpus_picture(PHOTOS[0])
    data = png(original)
    before = photo.hash_photo(data)
    held_regions.held_region_hashes(data)
    after = photo.hash_photo(data)
    assert after.pdq == before.pdq
    luma = decode.exact_luma(original)
    reference, _ = pdq.hash_luma(luma.luma)
    assert before.pdq.hex == reference.hex
    assert reference.hex not in {r.pdq.hex for r in held_regions.region_hashes(luma)}


def test_a_region_is_the_pdq_of_that_part_of_the_picture() -> None:
    original = corpus_picture(PHOTOS[1])
    luma = decode.exact_luma(original)
    region = held_regions.Region("without_top", top=0.25)
    rows = luma.luma.shape[0]
    expected, _ = pdq.hash_luma(luma.luma[round(rows * 0.25) :])
    assert held_regions.hash_region(luma, region) == expected


def noise(width: int, height: int) -> bytes:
    rng = np.random.default_rng(width * 7 + height)
    return png(Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)))


@pytest.mark.parametrize("size", [(1, 1), (5, 5), (15, 15), (1, 4000), (4000, 1), (15, 3000)])
def test_pictures_too_small_for_any_region_give_none(size: tuple[int, int]) -> None:
    data = noise(*size)
    assert held_regions.held_region_hashes(data) == ()
    assert query_regions(data) == ()
    assert held_regions.closest((), ()) is None


def test_a_narrow_picture_keeps_only_the_regions_wide_enough_to_hash() -> None:
    # 20 pixels wide: the centre's 70% is 14 pixels, too few for a meaningful hash.
    hashes = held_regions.held_region_hashes(noise(20, 3000))
    assert {region.region for region in hashes} == {"top_half", "top_third", "bottom_third"}
    assert all(len(region.pdq.hex) == pdq.HEX_LENGTH for region in hashes)


def test_undecodable_bytes_fail_as_fingerprint_errors() -> None:
    with pytest.raises(FingerprintError):
        held_regions.held_region_hashes(b"not a picture at all")
    with pytest.raises(FingerprintError):
        query_regions(png(corpus_picture(PHOTOS[0]))[:200])


def test_flat_pictures_never_match_each_other() -> None:
    grey = held_regions.held_region_hashes(png(Image.new("RGB", (400, 300), (128, 128, 128))))
    white = held_regions.held_region_hashes(png(Image.new("RGB", (640, 480), (255, 255, 255))))
    assert all(region.pdq.weak for region in grey + white)
    assert held_regions.closest(grey, white) is None
    assert held_regions.closest(grey, grey) is None


def test_regions_that_leave_nothing_are_refused() -> None:
    with pytest.raises(ValueError, match="leaves nothing"):
        held_regions.Region("nothing", top=0.6, bottom=0.4)


def test_the_closest_region_is_named_with_its_distance() -> None:
    original = corpus_picture(PHOTOS[2])
    held = held_regions.held_region_hashes(png(original))
    match = held_regions.closest(held, held)
    assert match is not None
    assert match.distance == 0
    assert match.region in {region.name for region in held_regions.HELD_REGIONS}
