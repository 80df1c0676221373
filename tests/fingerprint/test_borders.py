"""Frame detection: solid padding, letterbox and pillarbox bars, phone-screenshot framing.

Pictures are benign corpus photos and generated images; frames are drawn here or by
the robustness benchmark's transforms, so the tests and the benchmark agree on what
a screenshot looks like.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from benchmarks import transforms
from tests.conftest import CORPUS
from vigil.fingerprint import borders, decode, pdq, photo

GOLDEN = json.loads((Path(__file__).parent / "golden_pdq.json").read_text())
PHOTO = "aitzgorri_by_aitzol_berasategi.jpg"
# Its black title bar with small white text is, to any frame detector, a status bar.
TITLE_BAR_ARTWORK = {"logo_emerald.jpg"}
EDGE_SLACK = 3  # pixels

Box = tuple[int, int, int, int]  # left, top, right, bottom, like PIL


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    with Image.open(CORPUS / PHOTO) as image:
        return image.convert("RGB").resize((480, 320), Image.Resampling.LANCZOS)


def jpeg_luma(image: Image.Image, quality: int = 85) -> decode.LumaImage:
    """The luma Vigil would hash for this image shared as a JPEG."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    with Image.open(io.BytesIO(buffer.getvalue())) as copy:
        return decode.fast_luma(copy)


def exact_luma(image: Image.Image) -> np.ndarray:
    return decode.exact_luma(image).luma


def as_pil_box(box: borders.ContentBox) -> Box:
    return box.left, box.top, box.right, box.bottom


def assert_near(box: borders.ContentBox | None, expected: Box) -> None:
    assert box is not None, "no frame found"
    assert np.abs(np.subtract(as_pil_box(box), expected)).max() <= EDGE_SLACK, (box, expected)


@pytest.mark.parametrize(
    ("border", "colour"),
    [
        ((0, 60, 0, 0), (0, 0, 0)),
        ((0, 0, 0, 60), (255, 255, 255)),
        ((70, 0, 0, 0), (128, 128, 128)),
        ((0, 0, 70, 0), (200, 30, 40)),
        ((50, 40, 60, 45), (30, 90, 200)),
        ((50, 40, 60, 45), (250, 230, 120)),
    ],
)
def test_solid_padding_is_found_on_any_side(
    picture: Image.Image, border: Box, colour: tuple[int, int, int]
) -> None:
    padded = ImageOps.expand(picture, border=border, fill=colour)
    left, top, right, bottom = border
    expected = (left, top, padded.width - right, padded.height - bottom)
    assert_near(borders.content_box(exact_luma(padded)), expected)
    assert_near(borders.content_box(jpeg_luma(padded).luma), expected)


def test_padding_is_found_on_a_block_averaged_luma(picture: Image.Image) -> None:
    # A large JPEG takes the decoder's DCT-scaled path: the box is in reduced pixels.
    big = picture.resize((3600, 2400), Image.Resampling.LANCZOS)
    padded = ImageOps.expand(big, border=(400, 300, 400, 300), fill=(0, 0, 0))
    luma = jpeg_luma(padded)
    assert luma.row_block > 1
    box = borders.content_box(luma.luma)
    assert box is not None
    top = box.top * luma.row_block
    left = box.left * luma.col_block
    assert abs(top - 300) <= luma.row_block and abs(left - 400) <= luma.col_block
    assert box.full_shape(luma.row_block, luma.col_block, luma.full_shape) == pytest.approx(
        (2400, 3600), abs=2 * luma.row_block
    )


@pytest.mark.parametrize(
    ("edit", "stretch"),
    [
        (transforms.letterbox, (1.0, 4 / 3)),
        (transforms.pillarbox, (4 / 3, 1.0)),
    ],
)
def test_letterbox_and_pillarbox_bars(
    picture: Image.Image, edit: transforms.Edit, stretch: tuple[float, float]
) -> None:
    framed = edit(picture, np.random.default_rng(0))
    assert framed.size == (round(picture.width * stretch[0]), round(picture.height * stretch[1]))
    left = (framed.width - picture.width) // 2
    top = (framed.height - picture.height) // 2
    expected = (left, top, left + picture.width, top + picture.height)
    assert_near(borders.content_box(jpeg_luma(framed).luma), expected)


@pytest.mark.parametrize("style", list(transforms.ScreenStyle))
def test_phone_screenshot_framing(picture: Image.Image, style: transforms.ScreenStyle) -> None:
    shot = transforms.screenshot(picture, style, np.random.default_rng(3))
    boxes = borders.content_boxes(jpeg_luma(shot, quality=90).luma)
    assert_near(boxes[-1] if boxes else None, transforms.screenshot_picture_box(picture.size))
    if style is transforms.ScreenStyle.GREY_BARS:
        # The outer box drops only the grey bars; the nested one the black fill too.
        assert len(boxes) == 2
        assert_near(
            boxes[0],
            (
                0,
                transforms.STATUS_BAR,
                transforms.PHONE_SIZE[0],
                transforms.PHONE_SIZE[1] - transforms.NAVIGATION_BAR,
            ),
        )


def test_full_bleed_corpus_images_are_not_trimmed(corpus_images: list[Path]) -> None:
    trimmed = []
    for path in corpus_images:
        with Image.open(path) as image:
            luma = decode.fast_luma(image)
        if borders.content_boxes(luma.luma):
            trimmed.append(path.name)
    assert set(trimmed) <= TITLE_BAR_ARTWORK


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("hr_*.jpg")))
def test_low_texture_paper_is_never_trimmed(name: str) -> None:
    with Image.open(CORPUS / name) as image:
        assert borders.content_boxes(exact_luma(image)) == ()
        assert borders.content_boxes(np.rint(exact_luma(image)).astype(np.uint8)) == ()


@pytest.mark.parametrize("noise", [0.0, 0.5, 2.0])
def test_smooth_gradients_are_not_mistaken_for_bars(noise: float) -> None:
    rng = np.random.default_rng(1)
    ramp = np.linspace(90, 160, 700)[:, None] + rng.normal(0, noise, (700, 1000))
    for luma in (ramp, ramp.T, np.clip(np.rint(ramp), 0, 255).astype(np.uint8)):
        assert borders.content_boxes(luma) == ()


@pytest.mark.parametrize("name", [PHOTO, "bridge_by_sander_klootwijk.jpg", "hr_decopaper.jpg"])
def test_trimmed_variant_of_a_padded_image_matches_the_original(name: str) -> None:
    with Image.open(CORPUS / name) as image:
        rgb = image.convert("RGB")
    width, height = rgb.size
    border = (width // 8, height // 6, width // 7, height // 9)
    padded = ImageOps.expand(rgb, border=border, fill=(128, 128, 128))
    buffer = io.BytesIO()
    padded.save(buffer, format="JPEG", quality=90)
    hashes = photo.hash_photo(buffer.getvalue())
    original = GOLDEN[name]["pdq"]
    by_name = {v.variant: v.pdq for v in hashes.variants}
    assert pdq.hamming(hashes.pdq.hex, original) > 31  # the plain hash misses it
    assert pdq.hamming(by_name[photo.TRIMMED], original) <= 12


def test_trimmed_rotations_find_a_turned_padded_picture() -> None:
    with Image.open(CORPUS / PHOTO) as image:
        rgb = image.convert("RGB").reduce(2)
    turned = ImageOps.expand(rgb.transpose(Image.Transpose.ROTATE_90), border=150, fill=0)
    buffer = io.BytesIO()
    turned.save(buffer, format="PNG")
    by_name = {v.variant: v.pdq for v in photo.hash_photo(buffer.getvalue()).variants}
    original = GOLDEN[PHOTO]["pdq"]
    assert pdq.hamming(by_name[photo.TRIMMED], original) > 31
    assert pdq.hamming(by_name[f"{photo.TRIMMED}_{pdq.Dihedral.ROTATE_270.value}"], original) <= 12


def test_no_trimmed_variant_without_a_frame() -> None:
    with Image.open(CORPUS / PHOTO) as image:
        data = io.BytesIO()
        image.convert("RGB").reduce(4).save(data, format="PNG")
    variants = {v.variant for v in photo.hash_photo(data.getvalue()).variants}
    assert not any(name.startswith(photo.TRIMMED) for name in variants)


def test_box_maps_back_to_full_resolution() -> None:
    box = borders.ContentBox(top=10, left=5, bottom=40, right=63)
    # 63 luma columns of 8 cover 504 pixels, but the image is 500 wide.
    assert box.full_shape(8, 8, (320, 500)) == (240, 460)
    assert box.full_shape(1, 1, (40, 63)) == (30, 58)


@pytest.mark.parametrize(
    "luma",
    [
        np.zeros((1, 500), dtype=np.uint8),
        np.zeros((500, 1), dtype=np.uint8),
        np.zeros((0, 0), dtype=np.float32),
        np.full((300, 400), 77, dtype=np.uint8),
        np.full((300, 400), 0.25, dtype=np.float32),
        np.random.default_rng(0).random((200, 300)) * 255,  # float64 noise
        np.random.default_rng(1).integers(0, 256, (2, 5000)).astype(np.uint8),
        np.random.default_rng(2).integers(0, 256, (5000, 3)).astype(np.uint8),
        np.random.default_rng(3).integers(-500, 500, (120, 90)).astype(np.int16),
        np.ones((50, 60), dtype=bool),
        np.zeros((20, 30, 3), dtype=np.uint8),  # not a luma image at all
    ],
    ids=[
        "1xN",
        "Nx1",
        "empty",
        "constant-u8",
        "constant-f32",
        "float64-noise",
        "2x5000",
        "5000x3",
        "int16",
        "bool",
        "3-D",
    ],
)
def test_hostile_input_gives_no_frame_and_no_exception(luma: np.ndarray) -> None:
    assert borders.content_boxes(luma) == ()
    assert borders.content_box(luma) is None


def test_extreme_aspect_ratios_still_find_bars() -> None:
    stripe = np.random.default_rng(4).integers(0, 256, (40, 6000)).astype(np.uint8)
    framed = np.zeros((40, 8000), dtype=np.uint8)
    framed[:, 1000:7000] = stripe
    assert_near(borders.content_box(framed), (1000, 0, 7000, 40))
    assert_near(borders.content_box(np.ascontiguousarray(framed.T)), (0, 1000, 40, 7000))
