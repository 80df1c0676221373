"""Protective renderings: never the original, blurred/grayscale/pixelated as asked, no
metadata, bounded work on hostile input. Benign corpus and generated media only."""

from __future__ import annotations

import io
import statistics
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from tests import media_factory
from tests.fingerprint import video_media
from vigil.fingerprint import pdq, photo
from vigil.fingerprint.errors import FailureReason
from vigil.review.rendering import (
    Protection,
    RenderedMedia,
    RenderError,
    RenderOptions,
    contact_sheet,
    fingerprint_image,
    render_for,
    render_protected,
    sheet,
)

DEFAULT = RenderOptions()
BLUR_KINDS = (Protection.BLUR, Protection.BLUR_STRONG, Protection.GRAYSCALE_BLUR)
# A blurred 8-bit picture still has rounding steps: this mean absolute Laplacian is noise.
QUANTISATION_FLOOR = 1.5
DETAILED = 5.0  # downscaled originals with more Laplacian energy than this have real detail
MAX_OUTPUT_BYTES = 200_000


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def laplacian_energy(image: Image.Image) -> float:
    luma = np.asarray(image.convert("L"), dtype=np.float64)
    if min(luma.shape) < 3:
        return 0.0
    centre = luma[1:-1, 1:-1]
    laplacian = 4 * centre - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
    return float(np.abs(laplacian).mean())


def original_at(data: bytes, size: tuple[int, int]) -> Image.Image:
    """The unprotected picture, upright and reduced to the rendering's size: what the
    rendering would look like without protection."""
    image = ImageOps.exif_transpose(opened(data))
    return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def pdq_of(image: Image.Image) -> str:
    return photo.hash_pil(image.convert("RGB"), variants=False).pdq.hex


def generated() -> dict[str, bytes]:
    return {
        "gradient": media_factory.encode(media_factory.gradient(900, 600, 3), "PNG"),
        "noise": media_factory.encode(media_factory.noise(500, 500, 4), "PNG"),
        "text": media_factory.encode(media_factory.text_card(1200, 800, seed=5), "JPEG"),
        "tall": media_factory.encode(media_factory.text_card(300, 1400, seed=6), "JPEG"),
    }


@pytest.fixture(scope="module")
def corpus_renderings(corpus_images: list[Path]) -> list[tuple[bytes, Image.Image]]:
    """(original bytes, default protected rendering) for every corpus image."""
    return [
        (data, opened(render_protected(data, DEFAULT)))
        for data in (path.read_bytes() for path in corpus_images)
    ]


# (a) not the original


def test_default_rendering_is_small_and_unlike_the_original(
    corpus_renderings: list[tuple[bytes, Image.Image]],
) -> None:
    distances, ratios, detailed = [], [], 0
    for data, rendered in corpus_renderings:
        assert max(rendered.size) <= DEFAULT.max_side
        original = original_at(data, rendered.size)
        before, after = laplacian_energy(original), laplacian_energy(rendered)
        assert after < QUANTISATION_FLOOR
        if before > DETAILED:
            detailed += 1
            ratios.append(before / max(after, 1e-3))
        distances.append(pdq.hamming(pdq_of(rendered), pdq_of(original)))
    assert detailed >= len(corpus_renderings) // 2  # the energy check is not vacuous
    assert min(ratios) > 5  # high-frequency detail drops by a large factor on every photo
    assert statistics.median(ratios) > 20
    # Blurred hashes are no closer than unrelated pictures (~128 bits apart on average).
    assert min(distances) > 64
    assert statistics.median(distances) > 96


@pytest.mark.parametrize("kind", [*BLUR_KINDS, Protection.PIXELATE])
@pytest.mark.parametrize("name", sorted(generated()))
def test_every_protection_hides_generated_detail(kind: Protection, name: str) -> None:
    data = generated()[name]
    rendered = opened(render_protected(data, RenderOptions(protection=kind)))
    assert max(rendered.size) <= DEFAULT.max_side
    original = original_at(data, rendered.size)
    before = laplacian_energy(original)
    after = laplacian_energy(rendered)
    if name != "gradient":  # the gradient has no detail to hide; it checks the path only
        assert after < before / 3
        assert pdq.hamming(pdq_of(rendered), pdq_of(original)) > 40


def test_stronger_blur_is_blurrier(corpus_images: list[Path]) -> None:
    data = corpus_images[0].read_bytes()
    weak = opened(render_protected(data, RenderOptions(protection=Protection.BLUR, blur_radius=2)))
    strong = opened(
        render_protected(data, RenderOptions(protection=Protection.BLUR_STRONG, blur_radius=2))
    )
    assert laplacian_energy(strong) < laplacian_energy(weak)


def test_blur_is_scaled_with_the_picture() -> None:
    """A small and a large copy of the same picture come out equally blurred."""
    card = media_factory.text_card(1600, 1200, seed=9)
    small = media_factory.encode(card.resize((160, 120)), "PNG")
    large = media_factory.encode(card, "PNG")
    options = RenderOptions(protection=Protection.BLUR, blur_radius=4)
    small_out = opened(render_protected(small, options))
    large_out = opened(render_protected(large, options)).resize(small_out.size)
    difference = np.abs(np.asarray(small_out, dtype=float) - np.asarray(large_out, dtype=float))
    assert difference.mean() < 6


# (b) grayscale, (c) pixelation


def test_grayscale_blur_has_no_colour(corpus_images: list[Path]) -> None:
    data = corpus_images[3].read_bytes()
    rendered = opened(render_protected(data, DEFAULT))
    rgb = np.asarray(rendered.convert("RGB"), dtype=np.int16)
    assert rendered.mode == "L"
    assert np.abs(rgb[..., 0] - rgb[..., 1]).max() == 0
    colourful = np.asarray(
        opened(render_protected(data, RenderOptions(protection=Protection.BLUR))).convert("RGB"),
        dtype=np.int16,
    )
    assert np.abs(colourful[..., 0] - colourful[..., 2]).max() > 10  # the check can fail


def test_pixelate_is_made_of_blocks() -> None:
    data = media_factory.encode(media_factory.gradient(640, 512, 7), "PNG")
    options = RenderOptions(protection=Protection.PIXELATE, pixel_block=32)
    content = render_protected(data, options)
    assert content.startswith(b"\x89PNG")  # lossless: JPEG would smear the block edges
    pixels = np.asarray(opened(content).convert("RGB"))
    height, width, _ = pixels.shape
    assert (width, height) == (320, 256)
    block = 32  # at 320 pixels the block is exactly pixel_block
    for top in range(0, height, block):
        for left in range(0, width, block):
            cell = pixels[top : top + block, left : left + block].reshape(-1, 3)
            assert (cell == cell[0]).all()
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # blocks differ


# (d) metadata


def test_metadata_is_stripped(tmp_path: Path) -> None:
    image = media_factory.text_card(800, 600, seed=2)
    exif = Image.Exif()
    exif[0x010F] = "VigilCam"  # Make
    exif[0x0131] = "SecretSoftware"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.0)})
    icc = b"\x00" * 128 + b"VIGILICCPROFILE"
    data = media_factory.encode(image, "JPEG", exif=exif, icc_profile=icc)
    assert b"VigilCam" in data and b"VIGILICCPROFILE" in data  # the input carries them
    for kind in (*BLUR_KINDS, Protection.PIXELATE):
        content = render_protected(data, RenderOptions(protection=kind))
        for marker in (b"Exif", b"VigilCam", b"SecretSoftware", b"VIGILICC", b"http://ns.adobe"):
            assert marker not in content
        rendered = opened(content)
        assert not rendered.getexif()
        assert not set(rendered.info) & {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp"}


def test_png_text_and_alpha_do_not_leak() -> None:
    from PIL import PngImagePlugin

    rgba = media_factory.noise(200, 200, 8).convert("RGBA")
    rgba.putalpha(0)  # fully transparent: the colours underneath must not show
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "private note")
    data = media_factory.encode(rgba, "PNG", pnginfo=text)
    content = render_protected(data, RenderOptions(protection=Protection.BLUR))
    assert b"private note" not in content
    pixels = np.asarray(opened(content).convert("RGB"), dtype=np.int16)
    assert np.abs(pixels - 128).max() <= 3  # the neutral matte, not the hidden noise


# (e) orientation


def test_exif_orientation_is_applied() -> None:
    stored = np.zeros((200, 400, 3), dtype=np.uint8)
    stored[:, 200:] = 255  # left half black, right half white, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: the black half on top
    data = media_factory.encode(Image.fromarray(stored), "JPEG", exif=exif)
    rendered = opened(render_protected(data, RenderOptions(protection=Protection.BLUR)))
    assert rendered.height > rendered.width
    luma = np.asarray(rendered.convert("L"), dtype=float)
    assert luma[: luma.shape[0] // 4].mean() + 100 < luma[-luma.shape[0] // 4 :].mean()


# (f) fingerprint only


def test_fingerprint_view_draws_the_hash_cells() -> None:
    digest = "f" * 16 + "0" * 16 + "a5" * 16
    picture = opened(fingerprint_image(digest, scale=4))
    assert picture.size == (64, 64)
    cells = np.asarray(picture.convert("L"))[::4, ::4] > 127
    expected = np.unpackbits(np.frombuffer(bytes.fromhex(digest), dtype=np.uint8)).astype(bool)
    assert (cells.reshape(-1) == expected).all()


def test_fingerprint_only_depends_only_on_the_hash(corpus_images: list[Path]) -> None:
    options = RenderOptions(protection=Protection.FINGERPRINT_ONLY)
    digest = pdq_of(opened(corpus_images[0].read_bytes()))
    first = render_for(corpus_images[0].read_bytes(), "photo", options, pdq=digest)
    other = render_for(corpus_images[5].read_bytes(), "photo", options, pdq=digest)
    garbage = render_for(b"\x00garbage, never decoded", "video", options, pdq=digest)
    assert first == other == garbage
    assert first.content == fingerprint_image(digest)
    assert (first.content_type, first.width, first.height) == ("image/png", 256, 256)
    flipped = format(int(digest, 16) ^ 1, "064x")
    assert render_for(b"", "photo", options, pdq=flipped).content != first.content


@pytest.mark.parametrize(
    "bad", ["", "f" * 63, "f" * 65, "g" * 64, " " + "f" * 63, "f" * 63 + "\n", "\uff10" * 64]
)
def test_fingerprint_rejects_bad_hex(bad: str) -> None:
    with pytest.raises(ValueError, match="PDQ"):
        fingerprint_image(bad)


def test_fingerprint_only_without_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="PDQ"):
        render_for(
            b"anything", "photo", RenderOptions(protection=Protection.FINGERPRINT_ONLY), pdq=None
        )
    with pytest.raises(ValueError, match="fingerprint_image"):
        render_protected(b"anything", RenderOptions(protection=Protection.FINGERPRINT_ONLY))


# (g) contact sheets

SLIDE_SECONDS = 0.5


@pytest.fixture(scope="module")
def slides(corpus_images: list[Path]) -> list[Image.Image]:
    return [Image.open(corpus_images[i * 5]).convert("RGB") for i in range(9)]


@pytest.fixture(scope="module")
def slideshow(tmp_path_factory: pytest.TempPathFactory, slides: list[Image.Image]) -> bytes:
    path = tmp_path_factory.mktemp("sheet") / "slides.mp4"
    return video_media.write_clip(path, video_media.slideshow(slides, SLIDE_SECONDS)).read_bytes()


def tile_boxes(count: int, columns: int, cell: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    width, height = cell
    step_x, step_y = width + sheet.SEPARATOR, height + sheet.SEPARATOR
    return [
        (
            sheet.SEPARATOR + (i % columns) * step_x,
            sheet.SEPARATOR + (i // columns) * step_y,
            sheet.SEPARATOR + (i % columns) * step_x + width,
            sheet.SEPARATOR + (i // columns) * step_y + height,
        )
        for i in range(count)
    ]


def test_contact_sheet_is_a_blurred_grid_of_evenly_sampled_frames(
    slideshow: bytes, slides: list[Image.Image]
) -> None:
    content = contact_sheet(slideshow, DEFAULT)
    assert content.startswith(b"\xff\xd8") and len(content) < MAX_OUTPUT_BYTES
    grid = opened(content)
    tile = (320, 240)  # the clip's frames fit max_side exactly
    assert grid.size == (3 * tile[0] + 4 * sheet.SEPARATOR, 3 * tile[1] + 4 * sheet.SEPARATOR)
    luma = np.asarray(grid.convert("L"), dtype=float)
    for x in range(3):  # separators: thin dark lines between tiles
        left = x * (tile[0] + sheet.SEPARATOR)
        assert np.abs(luma[:, left : left + sheet.SEPARATOR] - sheet.BACKGROUND[0]).mean() < 12
    for box, slide in zip(tile_boxes(9, 3, tile), slides, strict=True):
        shown = grid.crop(box)
        original = video_media.fitted(slide)
        assert laplacian_energy(shown) < QUANTISATION_FLOOR * 2  # blurred (and JPEG'd)
        # Each tile is its own slide, blurred: the same overall brightness.
        assert (
            abs(np.asarray(shown.convert("L")).mean() - np.asarray(original.convert("L")).mean())
            < 12
        )
        assert pdq.hamming(pdq_of(shown), pdq_of(original)) > 40


def test_contact_sheet_frame_count_sets_the_grid(slideshow: bytes) -> None:
    grid = opened(contact_sheet(slideshow, DEFAULT, frames=4))
    assert grid.size == (2 * 320 + 3 * sheet.SEPARATOR, 2 * 240 + 3 * sheet.SEPARATOR)
    with pytest.raises(ValueError):
        contact_sheet(slideshow, DEFAULT, frames=0)
    with pytest.raises(ValueError):
        contact_sheet(slideshow, DEFAULT, frames=sheet.MAX_FRAMES + 1)


def test_contact_sheet_decodes_a_bounded_number_of_frames(
    slideshow: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    original_decode = sheet.BoundedVideoReader.decode

    def counting(self: sheet.BoundedVideoReader, packet: object, next_time: float) -> list:
        frames = original_decode(self, packet, next_time)  # type: ignore[arg-type]
        seen.append(self.decoded)
        return frames

    monkeypatch.setattr(sheet, "MAX_DECODED_FRAMES", 20)
    monkeypatch.setattr(sheet.BoundedVideoReader, "decode", counting)
    grid = opened(contact_sheet(slideshow, DEFAULT))
    assert max(seen) <= 20 + 16  # one packet's frames past the limit at most (decoder delay)
    assert grid.width < 3 * 320  # only the first frames made it


def test_contact_sheet_of_an_animation(tmp_path: Path, slides: list[Image.Image]) -> None:
    for fmt in ("GIF", "WEBP"):
        path = video_media.write_animation(
            tmp_path / f"anim.{fmt.lower()}", slides[:4], [200] * 4, fmt
        )
        media = render_for(path.read_bytes(), "photo", DEFAULT, pdq=None)
        assert media.content_type == "image/jpeg"
        assert (media.width, media.height) == (
            2 * 320 + 3 * sheet.SEPARATOR,
            2 * 240 + 3 * sheet.SEPARATOR,
        )
        grid = opened(media.content)
        for box, slide in zip(tile_boxes(4, 2, (320, 240)), slides, strict=False):
            shown = grid.crop(box)
            assert laplacian_energy(shown) < QUANTISATION_FLOOR * 2
            assert (
                abs(
                    np.asarray(shown.convert("L")).mean()
                    - np.asarray(video_media.fitted(slide).convert("L")).mean()
                )
                < 12
            )


def test_render_for_dispatches(slideshow: bytes, corpus_images: list[Path]) -> None:
    video = render_for(slideshow, "video", DEFAULT, pdq=None)
    assert isinstance(video, RenderedMedia) and video.content_type == "image/jpeg"
    assert video.width > 3 * 320
    still = render_for(corpus_images[1].read_bytes(), "photo", DEFAULT, pdq=None)
    assert max(still.width, still.height) == 320
    assert opened(still.content).size == (still.width, still.height)
    pixelated = render_for(
        corpus_images[1].read_bytes(),
        "photo",
        RenderOptions(protection=Protection.PIXELATE),
        pdq=None,
    )
    assert pixelated.content_type == "image/png"
    with pytest.raises(ValueError, match="media_type"):
        render_for(slideshow, "audio", DEFAULT, pdq=None)


# (h) hostile input


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares huge dimensions and carries almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = b"IDAT" + zlib.compress(b"\x00" * 64)
    body += struct.pack(">I", len(idat) - 4) + idat + struct.pack(">I", zlib.crc32(idat))
    return b"\x89PNG\r\n\x1a\n" + body


def hostile() -> dict[str, bytes]:
    jpeg = media_factory.encode(media_factory.text_card(800, 600), "JPEG")
    rng = np.random.default_rng(11)
    return {
        "empty": b"",
        "truncated_jpeg": jpeg[: len(jpeg) // 3],
        "jpeg_header_only": jpeg[:200],
        "random": rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(),
        "bomb_header": png_header(100_000, 100_000),
        "over_max_pixels": png_header(20_000, 10_000),
        "zero_width": png_header(0, 100),
    }


@pytest.mark.parametrize("name", sorted(hostile()))
@pytest.mark.parametrize("media_type", ["photo", "video"])
def test_hostile_media_is_refused_with_a_stable_reason(name: str, media_type: str) -> None:
    data = hostile()[name]
    try:
        result = render_for(data, media_type, DEFAULT, pdq=None)
    except RenderError as exc:
        assert exc.reason in set(FailureReason)
        assert str(exc).startswith(exc.reason.value)
        return
    # A partial picture may still render: it must be small, protected and not the input.
    assert result.content != data and len(result.content) < MAX_OUTPUT_BYTES
    assert laplacian_energy(opened(result.content)) < QUANTISATION_FLOOR * 2


def test_oversized_media_reports_too_many_pixels() -> None:
    for data in (png_header(100_000, 100_000), png_header(20_000, 10_000)):
        with pytest.raises(RenderError) as caught:
            render_protected(data, DEFAULT)
        assert caught.value.reason is FailureReason.TOO_MANY_PIXELS
    small_limit = RenderOptions(max_pixels=1000)
    with pytest.raises(RenderError) as caught:
        render_protected(media_factory.encode(media_factory.noise(100, 100), "PNG"), small_limit)
    assert caught.value.reason is FailureReason.TOO_MANY_PIXELS


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (8000, 3), (3, 6000)])
@pytest.mark.parametrize("kind", [*BLUR_KINDS, Protection.PIXELATE])
def test_tiny_and_extreme_shapes_render_small(size: tuple[int, int], kind: Protection) -> None:
    data = media_factory.encode(media_factory.noise(*size, seed=3), "PNG")
    content = render_protected(data, RenderOptions(protection=kind))
    assert content != data
    rendered = opened(content)
    assert max(rendered.size) <= DEFAULT.max_side and min(rendered.size) >= 1


def test_audio_only_and_undecodable_video(tmp_path: Path) -> None:
    audio = video_media.write_audio_only(tmp_path / "tone.mp4").read_bytes()
    garbage = video_media.ftyp_then_garbage(tmp_path / "junk.mp4").read_bytes()
    for data in (audio, garbage):
        with pytest.raises(RenderError):
            contact_sheet(data, DEFAULT)


@pytest.mark.parametrize(
    "fields",
    [
        {"blur_radius": 0},
        {"blur_radius": -1},
        {"max_side": 0},
        {"max_side": 100_000},
        {"pixel_block": 1},
        {"max_pixels": 0},
        {"protection": "sharpen"},
    ],
)
def test_options_are_bounded(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RenderOptions(**fields)  # type: ignore[arg-type]
