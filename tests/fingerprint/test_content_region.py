"""Pictures inside app chrome: status bars with text, toolbars, captions, message bubbles.

Screens are drawn here with known picture boxes (light and dark, text in the bars),
or by the robustness benchmark's ``chrome_*`` transforms for the end-to-end match.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from benchmarks import transforms
from tests.conftest import CORPUS
from vigil.fingerprint import content_region, decode, pdq, photo
from vigil.fingerprint.borders import ContentBox

GOLDEN = json.loads((Path(__file__).parent / "golden_pdq.json").read_text())
PHOTO = "aitzgorri_by_aitzol_berasategi.jpg"
SCREEN = (720, 1480)
EDGE_SLACK = 4  # luma pixels

Colour = tuple[int, int, int]
Box = tuple[int, int, int, int]  # left, top, right, bottom, like PIL

LIGHT = {"background": (250, 250, 250), "bar": (236, 236, 240), "ink": (25, 25, 30)}
DARK = {"background": (14, 14, 16), "bar": (34, 35, 38), "ink": (235, 235, 235)}


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    with Image.open(CORPUS / PHOTO) as image:
        return image.convert("RGB").resize((480, 320), Image.Resampling.LANCZOS)


def text_bar(draw: ImageDraw.ImageDraw, box: Box, fill: Colour, ink: Colour, text: str) -> None:
    draw.rectangle(box, fill=fill)
    size = max(8, (box[3] - box[1]) // 2)
    draw.text(
        (box[0] + 24, box[1] + size // 2), text, font=ImageFont.load_default(size=size), fill=ink
    )


def app_screen(
    picture: Image.Image, theme: dict[str, Colour], layout: str, top: int
) -> tuple[Image.Image, Box]:
    """A screen with ``picture`` at row ``top``; returns it and where the picture is."""
    width, height = SCREEN
    screen = Image.new("RGB", SCREEN, theme["background"])
    draw = ImageDraw.Draw(screen)
    text_bar(draw, (0, 0, width, 48), theme["bar"], theme["ink"], "12:34   4G   87%")
    text_bar(draw, (0, 48, width, 140), (0, 128, 105), (255, 255, 255), "Holiday album")
    if layout == "bubble":
        left = 150
        draw.rounded_rectangle(
            (left - 12, top - 12, left + picture.width + 12, top + picture.height + 48),
            24,
            fill=(220, 248, 198),
        )
        draw.text(
            (left + picture.width - 80, top + picture.height + 8),
            "21:07",
            font=ImageFont.load_default(size=22),
            fill=theme["ink"],
        )
    else:
        left = (width - picture.width) // 2
    screen.paste(picture, (left, top))
    caption = top + picture.height + 70
    for line in range(3):
        draw.text(
            (32, caption + 40 * line),
            "what a view from the top of the hill",
            font=ImageFont.load_default(size=28),
            fill=theme["ink"],
        )
    text_bar(
        draw, (0, height - 120, width, height), theme["bar"], theme["ink"], "Home  Search  You"
    )
    return screen, (left, top, left + picture.width, top + picture.height)


def jpeg_luma(image: Image.Image, quality: int = 90) -> decode.LumaImage:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    with Image.open(io.BytesIO(buffer.getvalue())) as copy:
        return decode.fast_luma(copy)


def assert_found(regions: tuple[ContentBox, ...], expected: Box, scale: float = 1.0) -> None:
    assert regions, "no region found"
    found = regions[0]
    got = np.array((found.left, found.top, found.right, found.bottom)) * scale
    assert np.abs(got - np.array(expected)).max() <= EDGE_SLACK * scale, (found, expected)


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
@pytest.mark.parametrize("layout", ["centred", "bubble"])
def test_picture_is_found_in_app_chrome(
    picture: Image.Image, theme: dict[str, Colour], layout: str
) -> None:
    screen, box = app_screen(picture, theme, layout, top=260)
    exact = decode.exact_luma(screen)
    assert_found(content_region.content_regions(exact.luma), box)
    assert_found(content_region.content_regions(np.rint(exact.luma).astype(np.uint8)), box)
    shared = jpeg_luma(screen)
    assert_found(content_region.content_regions(shared.luma), box, scale=shared.row_block)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    top=st.integers(170, 600),
    dark=st.booleans(),
    layout=st.sampled_from(["centred", "bubble"]),
    # Pictures narrower than about half the screen leave rows mostly chrome: out of reach.
    size=st.tuples(st.integers(420, 540), st.integers(200, 420)),
)
def test_picture_is_found_wherever_it_sits(
    picture: Image.Image, top: int, dark: bool, layout: str, size: tuple[int, int]
) -> None:
    resized = picture.resize(size, Image.Resampling.LANCZOS)
    screen, box = app_screen(resized, DARK if dark else LIGHT, layout, top=top)
    assert_found(content_region.content_regions(decode.exact_luma(screen).luma), box)


def test_plain_corpus_pictures_have_no_region(corpus_images: list[Path]) -> None:
    found = []
    for path in corpus_images:
        with Image.open(path) as image:
            full = decode.fast_luma(image)
        with Image.open(path) as image:
            small = image.convert("RGB")
            small.thumbnail((512, 512))
        if content_region.content_regions(full.luma) or content_region.content_regions(
            jpeg_luma(small).luma
        ):
            found.append(path.name)
    # logo_emerald's black title bar with small white text is, to any detector, app chrome.
    assert set(found) <= {"logo_emerald.jpg"}


def all_text() -> np.ndarray:
    page = Image.new("L", (400, 600), 255)
    draw = ImageDraw.Draw(page)
    for row in range(0, 600, 30):
        draw.text(
            (10, row),
            "lorem ipsum dolor sit amet " * 2,
            font=ImageFont.load_default(size=22),
            fill=0,
        )
    return np.asarray(page)


@pytest.mark.parametrize(
    "luma",
    [
        np.zeros((0, 0), dtype=np.uint8),
        np.zeros((5, 5), dtype=np.uint8),
        np.zeros((1, 500), dtype=np.uint8),
        np.zeros((500, 1), dtype=np.uint8),
        np.full((300, 400), 77, dtype=np.uint8),
        np.full((300, 400), 0.25, dtype=np.float32),
        np.random.default_rng(0).random((400, 300)) * 255,
        np.random.default_rng(1).integers(0, 256, (40, 6000)).astype(np.uint8),
        np.random.default_rng(2).integers(0, 256, (6000, 40)).astype(np.uint8),
        np.random.default_rng(3).integers(-500, 500, (120, 90)).astype(np.int16),
        np.full((200, 200), np.nan, dtype=np.float32),
        np.ones((50, 60), dtype=bool),
        np.zeros((20, 30, 3), dtype=np.uint8),
        all_text(),
    ],
    ids=[
        "empty",
        "tiny",
        "1xN",
        "Nx1",
        "constant-u8",
        "constant-f32",
        "noise",
        "40x6000",
        "6000x40",
        "int16",
        "nan",
        "bool",
        "3-D",
        "all-text",
    ],
)
def test_hostile_input_gives_no_region(luma: np.ndarray) -> None:
    assert content_region.content_regions(luma) == ()


def test_text_around_a_noise_strip_of_extreme_aspect_is_not_a_picture() -> None:
    strip = np.full((60, 3000), 250, dtype=np.uint8)
    strip[20:40, 200:2800] = np.random.default_rng(5).integers(0, 256, (20, 2600))
    assert content_region.content_regions(strip) == ()


@pytest.mark.parametrize("name", ["chrome_feed_light", "chrome_browser_dark", "chrome_chat_light"])
def test_screenshot_in_chrome_matches_the_original_through_the_region(name: str) -> None:
    transform = next(t for t in transforms.TRANSFORMS if t.name == name)
    with Image.open(CORPUS / PHOTO) as image:
        original = image.convert("RGB")
    screenshot = transform.edit(original, np.random.default_rng(7))
    hashes = photo.hash_photo(transform.encode(screenshot))
    reference = GOLDEN[PHOTO]["pdq"]
    by_name = {v.variant: v.pdq for v in hashes.variants}
    assert pdq.hamming(hashes.pdq.hex, reference) > 31  # the whole screen misses it
    assert pdq.hamming(by_name[photo.REGION], reference) <= 31


def test_main_hash_is_unchanged_and_plain_pictures_get_no_region_variant() -> None:
    with Image.open(CORPUS / PHOTO) as image:
        data = io.BytesIO()
        image.save(data, format="PNG")
    hashes = photo.hash_photo(data.getvalue())
    assert hashes.pdq.hex == GOLDEN[PHOTO]["pdq"]
    assert not any(v.variant.startswith(photo.REGION) for v in hashes.variants)
