"""Edits that re-shared pictures go through, applied to benign corpus images.

Each transform takes an RGB image and a random generator (for colours and sizes, so
runs are repeatable) and returns the edited RGB image; `Transform.encode` then saves
it the way such a copy usually travels. Nothing here reads or downloads media.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

Edit = Callable[[Image.Image, np.random.Generator], Image.Image]

PAD_COLOURS = (
    (0, 0, 0),
    (255, 255, 255),
    (128, 128, 128),
    (200, 30, 40),
    (30, 90, 200),
    (250, 230, 120),
)
PHONE_SIZE = (1080, 2340)  # a common 19.5:9 phone screen, portrait
STATUS_BAR = 84
NAVIGATION_BAR = 132


class Group(StrEnum):
    """Transforms that share a recall target."""

    UNTOUCHED = "untouched"
    DIHEDRAL = "dihedral"
    FRAMING = "framing"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Transform:
    name: str
    group: Group
    edit: Edit
    jpeg_quality: int | None = 90  # None: saved losslessly as PNG

    def encode(self, image: Image.Image) -> bytes:
        buffer = io.BytesIO()
        if self.jpeg_quality is None:
            image.save(buffer, format="PNG", compress_level=1)
        else:
            image.save(buffer, format="JPEG", quality=self.jpeg_quality)
        return buffer.getvalue()


def untouched(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image


def transposer(method: Image.Transpose) -> Edit:
    return lambda image, rng: image.transpose(method)


def pad(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A solid border of 10-20% of each side, the same colour all round."""
    width, height = image.size
    colour = PAD_COLOURS[int(rng.integers(len(PAD_COLOURS)))]
    left, right = (int(width * rng.uniform(0.1, 0.2)) for _ in range(2))
    top, bottom = (int(height * rng.uniform(0.1, 0.2)) for _ in range(2))
    canvas = Image.new("RGB", (width + left + right, height + top + bottom), colour)
    canvas.paste(image, (left, top))
    return canvas


def pad_one_side(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A caption-style band of 10-20% on one side only."""
    width, height = image.size
    colour = PAD_COLOURS[int(rng.integers(len(PAD_COLOURS)))]
    share = rng.uniform(0.1, 0.2)
    side = int(rng.integers(4))
    border = (
        int(width * share) if side == 0 else 0,
        int(height * share) if side == 1 else 0,
        int(width * share) if side == 2 else 0,
        int(height * share) if side == 3 else 0,
    )
    return ImageOps.expand(image, border=border, fill=colour)


def letterbox(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Black bars above and below, as when a 16:9 picture is shown in a 4:3 frame."""
    width, height = image.size
    return _fit(image, (width, round(height * 4 / 3)), (0, 0, 0))


def pillarbox(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Black bars left and right, as when a 4:3 picture is shown in a 16:9 frame."""
    width, height = image.size
    return _fit(image, (round(width * 4 / 3), height), (0, 0, 0))


class ScreenStyle(StrEnum):
    BLACK = "black"
    WHITE = "white"
    GREY_BARS = "grey_bars"  # the translucent grey bars many apps draw over black


def phone_screenshot(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The picture as a phone's gallery shows it, in a randomly chosen style."""
    return screenshot(image, list(ScreenStyle)[int(rng.integers(len(ScreenStyle)))], rng)


def screenshot(image: Image.Image, style: ScreenStyle, rng: np.random.Generator) -> Image.Image:
    """A 1080x2340 screen: status bar, the picture fitted in between, navigation bar."""
    background = (255, 255, 255) if style is ScreenStyle.WHITE else (0, 0, 0)
    bar = (48, 48, 48) if style is ScreenStyle.GREY_BARS else background
    ink = (0, 0, 0) if style is ScreenStyle.WHITE else (235, 235, 235)
    width, height = PHONE_SIZE
    screen = Image.new("RGB", PHONE_SIZE, background)
    left, top, right, bottom = screenshot_picture_box(image.size)
    screen.paste(image.resize((right - left, bottom - top), Image.Resampling.LANCZOS), (left, top))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, width - 1, STATUS_BAR - 1), fill=bar)
    draw.rectangle((0, height - NAVIGATION_BAR, width - 1, height - 1), fill=bar)
    _status_bar(draw, width, ink, rng)
    _navigation_bar(draw, width, height, ink, gestures=bool(rng.integers(2)))
    return screen


def screenshot_picture_box(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where a picture of ``size`` lands on the screen: left, top, right, bottom."""
    width, height = PHONE_SIZE
    viewport = (width, height - STATUS_BAR - NAVIGATION_BAR)
    fitted = _fitted_size(size, viewport)
    left = (viewport[0] - fitted[0]) // 2
    top = STATUS_BAR + (viewport[1] - fitted[1]) // 2
    return left, top, left + fitted[0], top + fitted[1]


def fit_to_phone(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The screenshot's picture alone: the ceiling trimming can reach on screenshots."""
    left, top, right, bottom = screenshot_picture_box(image.size)
    return image.resize((right - left, bottom - top), Image.Resampling.LANCZOS)


def rotate_then_pad(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Turned a quarter and padded: tells whether the trimmed hash needs its own variants."""
    return pad(image.transpose(Image.Transpose.ROTATE_90), rng)


def reduce_half(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.resize(
        (max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.LANCZOS
    )


def crop_ten_percent(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Keep the central 90% of each side (5% off every edge)."""
    width, height = image.size
    dx, dy = round(width * 0.05), round(height * 0.05)
    return image.crop((dx, dy, width - dx, height - dy))


def blur(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A visible blur whatever the resolution: radius 0.5% of the short side."""
    return image.filter(ImageFilter.GaussianBlur(max(1.0, min(image.size) * 0.005)))


def text_overlay(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A meme-style caption at top and bottom, white with a black outline."""
    image = image.copy()
    draw = ImageDraw.Draw(image)
    size = max(10, image.height // 10)
    font = ImageFont.load_default(size=size)
    for text, y in (
        ("WHEN THE TEST", image.height * 0.04),
        ("FINALLY PASSES", image.height * 0.96 - size),
    ):
        draw.text(
            (image.width * 0.08, y),
            text,
            font=font,
            fill=(255, 255, 255),
            stroke_width=max(1, size // 12),
            stroke_fill=(0, 0, 0),
        )
    return image


def _fit(
    image: Image.Image, size: tuple[int, int], background: tuple[int, int, int]
) -> Image.Image:
    """The image scaled to fit ``size`` and centred on a solid background."""
    fitted = image.resize(_fitted_size(image.size, size), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", size, background)
    canvas.paste(fitted, ((size[0] - fitted.width) // 2, (size[1] - fitted.height) // 2))
    return canvas


def _fitted_size(size: tuple[int, int], bounds: tuple[int, int]) -> tuple[int, int]:
    scale = min(bounds[0] / size[0], bounds[1] / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _status_bar(
    draw: ImageDraw.ImageDraw, width: int, ink: tuple[int, int, int], rng: np.random.Generator
) -> None:
    """Clock on the left; signal bars, battery outline and percentage on the right."""
    font = ImageFont.load_default(size=34)
    draw.text(
        (48, 22),
        f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}",
        font=font,
        fill=ink,
    )
    right = width - 48
    draw.text((right - 170, 22), f"{int(rng.integers(5, 100))}%", font=font, fill=ink)
    draw.rectangle((right - 60, 28, right - 8, 56), outline=ink, width=3)
    draw.rectangle((right - 8, 36, right - 2, 48), fill=ink)
    level = int(rng.uniform(0.2, 1.0) * 44)
    draw.rectangle((right - 56, 32, right - 56 + level, 52), fill=ink)
    for i in range(4):
        x = right - 260 + i * 14
        draw.rectangle((x, 56 - 8 * (i + 1), x + 8, 56), fill=ink)


def _navigation_bar(
    draw: ImageDraw.ImageDraw, width: int, height: int, ink: tuple[int, int, int], *, gestures: bool
) -> None:
    """Either the gesture pill or the back, home and recents buttons."""
    middle = height - NAVIGATION_BAR // 2
    if gestures:
        draw.rounded_rectangle(
            (width // 2 - 110, middle - 6, width // 2 + 110, middle + 6), radius=6, fill=ink
        )
        return
    third = width // 3
    draw.polygon(
        [(third // 2 + 20, middle - 22), (third // 2 + 20, middle + 22), (third // 2 - 20, middle)],
        outline=ink,
        width=4,
    )
    draw.ellipse((width // 2 - 22, middle - 22, width // 2 + 22, middle + 22), outline=ink, width=4)
    draw.rectangle(
        (width - third // 2 - 20, middle - 20, width - third // 2 + 20, middle + 20),
        outline=ink,
        width=4,
    )


TRANSFORMS: tuple[Transform, ...] = (
    Transform("untouched", Group.UNTOUCHED, untouched, jpeg_quality=None),
    Transform("rotate90", Group.DIHEDRAL, transposer(Image.Transpose.ROTATE_90)),
    Transform("rotate180", Group.DIHEDRAL, transposer(Image.Transpose.ROTATE_180)),
    Transform("rotate270", Group.DIHEDRAL, transposer(Image.Transpose.ROTATE_270)),
    Transform("mirror_h", Group.DIHEDRAL, transposer(Image.Transpose.FLIP_LEFT_RIGHT)),
    Transform("mirror_v", Group.DIHEDRAL, transposer(Image.Transpose.FLIP_TOP_BOTTOM)),
    Transform("pad_10_20", Group.FRAMING, pad),
    Transform("pad_one_side", Group.FRAMING, pad_one_side),
    Transform("letterbox", Group.FRAMING, letterbox),
    Transform("pillarbox", Group.FRAMING, pillarbox),
    Transform("screenshot", Group.FRAMING, phone_screenshot),
    Transform("screen_fit", Group.OTHER, fit_to_phone),
    Transform("rotate90_pad", Group.OTHER, rotate_then_pad),
    Transform("jpeg_q50", Group.OTHER, untouched, jpeg_quality=50),
    Transform("resize_50", Group.OTHER, reduce_half),
    Transform("crop_10", Group.OTHER, crop_ten_percent),
    Transform("blur", Group.OTHER, blur),
    Transform("text_overlay", Group.OTHER, text_overlay),
)
