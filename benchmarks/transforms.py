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
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

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
    CHROME = "chrome"  # screenshots with mixed-colour app chrome (issue 19)
    SMALL_ROTATION = "small_rotation"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Transform:
    name: str
    group: Group
    edit: Edit
    jpeg_quality: int | None = 90  # None: saved losslessly as PNG

    @property
    def family(self) -> str:
        """Transforms of one kind at different strengths or layouts: ``crop_5`` and
        ``crop_20`` are both ``crop``, every ``chrome_*`` layout is ``chrome``."""
        return FAMILIES.get(self.name, self.name)

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


def cropper(percent: int) -> Edit:
    """``percent`` of each side cut off, split at random between its two edges (a person
    cropping keeps what matters, rarely the exact centre)."""

    def crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        cut_x, cut_y = width * percent / 100, height * percent / 100
        left, top = round(cut_x * rng.uniform(0.2, 0.8)), round(cut_y * rng.uniform(0.2, 0.8))
        right, bottom = width - round(cut_x) + left, height - round(cut_y) + top
        return image.crop((left, top, right, bottom))

    return crop


def small_rotation(degrees: float) -> Edit:
    """Turned a few degrees either way at the same size (``expand=False``): the corners
    that leave the frame are lost and the uncovered corners are black or white, as when
    a tilted picture is re-posted or screenshotted on a plain background."""

    def rotate(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        sign = 1 if rng.integers(2) else -1
        fill = (0, 0, 0) if rng.integers(2) else (255, 255, 255)
        return image.rotate(
            sign * degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill
        )

    return rotate


def caption_bar(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A solid bar with a line of text over the top or bottom 10-14% of the picture."""
    image = image.copy()
    width, height = image.size
    bar = max(4, round(height * rng.uniform(0.10, 0.14)))
    dark = bool(rng.integers(2))
    fill = (20, 20, 20) if dark else (245, 245, 245)
    ink = (245, 245, 245) if dark else (20, 20, 20)
    top = 0 if rng.integers(2) else height - bar
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, top, width, top + bar), fill=fill)
    font = ImageFont.load_default(size=max(6, bar // 2))
    words = ("look at this", "no way", "saved from the group", "lol", "repost if you agree")
    text = words[int(rng.integers(len(words)))]
    draw.text((round(width * 0.04), top + bar // 4), text, font=font, fill=ink)
    return image


def watermark(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A site's translucent name and round logo over a part of the picture (30-55% opaque)."""
    base = image.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    width, height = base.size
    alpha = int(255 * rng.uniform(0.30, 0.55))
    ink = (255, 255, 255, alpha) if rng.integers(2) else (0, 0, 0, alpha)
    size = max(8, round(min(width, height) * rng.uniform(0.08, 0.14)))
    font = ImageFont.load_default(size=size)
    x = round(width * rng.uniform(0.05, 0.35))
    y = round(height * rng.uniform(0.35, 0.75))
    draw.ellipse((x, y, x + size * 2, y + size * 2), outline=ink, width=max(1, size // 5))
    draw.text((x + size // 2, y + size // 2), "V", font=font, fill=ink)
    draw.text((x + size * 2 + size // 2, y + size // 2), "sharesite.example", font=font, fill=ink)
    return Image.alpha_composite(base, layer).convert("RGB")


def contrast_strong(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Contrast doubled (clipping highlights and shadows), as a punchy filter does."""
    return ImageEnhance.Contrast(image).enhance(2.0)


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


class Layout(StrEnum):
    """App screens a picture is screenshotted from (issue 19): mixed-colour chrome."""

    CHAT = "chat"  # toolbar, text bubbles, the picture in a bubble, input field
    FEED = "feed"  # app title, post header, picture, actions, caption, bottom navigation
    VIEWER = "viewer"  # gallery viewer: title bar, picture, labelled action bar
    BROWSER = "browser"  # address bar, heading, picture with margins, paragraph text


class Theme(StrEnum):
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True, slots=True)
class Palette:
    background: tuple[int, int, int]
    bar: tuple[int, int, int]
    accent: tuple[int, int, int]  # an app's brand colour: toolbars, sent bubbles
    bubble: tuple[int, int, int]
    ink: tuple[int, int, int]
    faint: tuple[int, int, int]  # secondary text and icons

    @classmethod
    def pick(cls, theme: Theme, rng: np.random.Generator) -> Palette:
        """Colours near a theme's usual ones, jittered so no layout has one exact look."""

        def shade(base: tuple[int, int, int], spread: int = 6) -> tuple[int, int, int]:
            offsets = rng.integers(-spread, spread + 1, 3)
            return tuple(int(np.clip(c + o, 0, 255)) for c, o in zip(base, offsets, strict=True))

        accents = ((0, 128, 105), (33, 150, 243), (103, 58, 183), (230, 81, 0), (56, 142, 60))
        accent = accents[int(rng.integers(len(accents)))]
        if theme is Theme.LIGHT:
            return cls(
                shade((250, 250, 250), 5),
                shade((238, 238, 242)),
                shade(accent, 12),
                shade((220, 248, 198), 10),
                shade((25, 25, 30)),
                shade((115, 115, 120)),
            )
        return cls(
            shade((12, 12, 14), 6),
            shade((32, 33, 36)),
            shade(accent, 12),
            shade((5, 92, 75), 10),
            shade((235, 235, 235)),
            shade((150, 150, 155)),
        )


WORDS = (
    "the",
    "weekend",
    "photos",
    "from",
    "our",
    "trip",
    "are",
    "finally",
    "here",
    "and",
    "look",
    "at",
    "this",
    "view",
    "morning",
    "coffee",
    "with",
    "friends",
    "new",
    "post",
    "shared",
    "album",
    "see",
    "you",
    "soon",
    "thanks",
    "everyone",
    "who",
    "came",
    "by",
)


PICTURE_BOX = "vigil_picture_box"  # Image.info key: (left, top, right, bottom) of the picture


@dataclass
class Screen:
    """A phone screen being drawn: its size, the scale of its UI and its colours."""

    image: Image.Image
    unit: float  # pixels per density-independent pixel / 3, as on a 1080-wide screen
    palette: Palette
    rng: np.random.Generator

    @property
    def draw(self) -> ImageDraw.ImageDraw:
        return ImageDraw.Draw(self.image)

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def px(self, value: float) -> int:
        return max(1, round(value * self.unit))

    def font(self, size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        return ImageFont.load_default(size=self.px(size))

    def words(self, low: int, high: int) -> str:
        count = int(self.rng.integers(low, high + 1))
        return " ".join(WORDS[int(i)] for i in self.rng.integers(len(WORDS), size=count))

    def text(self, xy: tuple[int, int], text: str, size: float, fill: tuple[int, int, int]) -> None:
        self.draw.text(xy, text, font=self.font(size), fill=fill)

    def paste(
        self, picture: Image.Image, box: tuple[int, int, int, int]
    ) -> tuple[int, int, int, int]:
        """The picture fitted into ``box`` and centred there; returns where it landed."""
        left, top, right, bottom = box
        size = _fitted_size(picture.size, (right - left, bottom - top))
        x, y = left + (right - left - size[0]) // 2, top + (bottom - top - size[1]) // 2
        self.image.paste(picture.resize(size, Image.Resampling.LANCZOS), (x, y))
        # Where the picture landed, for the benchmark's ceiling: the picture alone at the
        # size the app showed it, which no region finder can beat (PICTURE_BOX).
        self.image.info[PICTURE_BOX] = (x, y, x + size[0], y + size[1])
        return x, y, x + size[0], y + size[1]


def app_screenshot(layout: Layout, theme: Theme) -> Edit:
    """The picture as an app shows it, screenshotted on a phone of a random common size."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width = int(rng.choice((720, 1080, 1170, 1440)))
        height = round(width * rng.uniform(2.0, 2.22))
        palette = Palette.pick(theme, rng)
        screen = Screen(
            Image.new("RGB", (width, height), palette.background), width / 1080, palette, rng
        )
        top = _chrome_status_bar(screen)
        bottom = _chrome_system_bar(screen)
        LAYOUTS[layout](screen, image, top, bottom)
        return screen.image

    return edit


def _chrome_status_bar(screen: Screen) -> int:
    """Clock, notification icons, signal, battery; on the bar colour or the background."""
    height = screen.px(rng_between(screen.rng, 72, 96))
    fill = screen.palette.bar if screen.rng.integers(2) else screen.palette.background
    draw, ink = screen.draw, screen.palette.ink
    draw.rectangle((0, 0, screen.width, height), fill=fill)
    clock = f"{int(screen.rng.integers(0, 24))}:{int(screen.rng.integers(0, 60)):02d}"
    screen.text((screen.px(48), height // 4), clock, 32, ink)
    for i in range(int(screen.rng.integers(1, 4))):  # notification icons
        x = screen.px(170 + 46 * i)
        draw.rounded_rectangle((x, height // 3, x + screen.px(30), height * 2 // 3), 4, ink)
    right = screen.width - screen.px(40)
    draw.rectangle(
        (right - screen.px(52), height // 3, right, height * 2 // 3),
        outline=ink,
        width=screen.px(3),
    )
    screen.text(
        (right - screen.px(150), height // 4), f"{int(screen.rng.integers(5, 100))}%", 30, ink
    )
    for i in range(4):
        x = right - screen.px(220 - 14 * i)
        draw.rectangle(
            (x, height * 2 // 3 - screen.px(7 * (i + 1)), x + screen.px(9), height * 2 // 3),
            fill=ink,
        )
    return height


def _chrome_system_bar(screen: Screen) -> int:
    """The gesture pill or three buttons at the bottom; returns where the bar starts."""
    height = screen.px(rng_between(screen.rng, 48, 132))
    top = screen.height - height
    fill = screen.palette.bar if screen.rng.integers(2) else screen.palette.background
    draw, ink, middle = screen.draw, screen.palette.ink, screen.height - height // 2
    draw.rectangle((0, top, screen.width, screen.height), fill=fill)
    if height < screen.px(90):
        half = screen.px(110)
        draw.rounded_rectangle(
            (
                screen.width // 2 - half,
                middle - screen.px(5),
                screen.width // 2 + half,
                middle + screen.px(5),
            ),
            5,
            ink,
        )
        return top
    for i, shape in enumerate(("triangle", "circle", "square")):
        x, r = screen.width * (2 * i + 1) // 6, screen.px(20)
        _icon(draw, shape, (x - r, middle - r, x + r, middle + r), ink, screen.px(4))
    return top


def _icon(
    draw: ImageDraw.ImageDraw,
    shape: str,
    box: tuple[int, int, int, int],
    ink: tuple[int, int, int],
    width: int,
) -> None:
    left, top, right, bottom = box
    if shape == "circle":
        draw.ellipse(box, outline=ink, width=width)
    elif shape == "square":
        draw.rounded_rectangle(box, radius=width, outline=ink, width=width)
    elif shape == "triangle":
        draw.polygon(
            [(right, top), (right, bottom), (left, (top + bottom) // 2)], outline=ink, width=width
        )
    elif shape == "house":
        middle = (left + right) // 2
        draw.polygon(
            [
                (left, (top + bottom) // 2),
                (middle, top),
                (right, (top + bottom) // 2),
                (right, bottom),
                (left, bottom),
            ],
            outline=ink,
            width=width,
        )
    elif shape == "heart":
        middle = (left + right) // 2
        draw.polygon(
            [
                (left, top + (bottom - top) // 3),
                (middle, bottom),
                (right, top + (bottom - top) // 3),
                (right - (right - left) // 4, top),
                (middle, top + (bottom - top) // 4),
                (left + (right - left) // 4, top),
            ],
            outline=ink,
            width=width,
        )
    else:  # "dots": an overflow menu
        step = (bottom - top) // 3
        for i in range(3):
            y = top + step * i + step // 2
            draw.ellipse((right - width * 2, y - width, right, y + width), fill=ink)


ICONS = ("house", "circle", "square", "heart", "triangle")


def _toolbar(screen: Screen, top: int, title: str, *, accent: bool) -> int:
    """Back arrow, title, one or two icons; in the brand colour or the bar colour."""
    height = screen.px(rng_between(screen.rng, 130, 170))
    fill = screen.palette.accent if accent else screen.palette.bar
    ink = (255, 255, 255) if accent else screen.palette.ink
    screen.draw.rectangle((0, top, screen.width, top + height), fill=fill)
    middle, r = top + height // 2, screen.px(20)
    _icon(
        screen.draw,
        "triangle",
        (screen.px(40), middle - r, screen.px(40) + 2 * r, middle + r),
        ink,
        screen.px(4),
    )
    screen.text((screen.px(120), middle - screen.px(24)), title, 46, ink)
    for i in range(int(screen.rng.integers(1, 3))):
        x = screen.width - screen.px(80 + 100 * i)
        _icon(
            screen.draw,
            ("dots", "circle")[i],
            (x - r, middle - r, x + r, middle + r),
            ink,
            screen.px(4),
        )
    return top + height


def _bottom_navigation(screen: Screen, bottom: int, *, labels: bool) -> int:
    """Four or five icons (with labels under them, sometimes) above ``bottom``."""
    height = screen.px(
        rng_between(screen.rng, 140, 190) if labels else rng_between(screen.rng, 110, 150)
    )
    top = bottom - height
    screen.draw.rectangle((0, top, screen.width, bottom), fill=screen.palette.bar)
    count = int(screen.rng.integers(4, 6))
    r = screen.px(26)
    for i in range(count):
        x = screen.width * (2 * i + 1) // (2 * count)
        y = top + (height // 3 if labels else height // 2)
        ink = screen.palette.accent if i == 0 else screen.palette.faint
        _icon(screen.draw, ICONS[i % len(ICONS)], (x - r, y - r, x + r, y + r), ink, screen.px(4))
        if labels:
            screen.text((x - screen.px(50), y + r + screen.px(12)), screen.words(1, 1), 26, ink)
    return top


def _paragraph(
    screen: Screen, box: tuple[int, int, int, int], size: float, fill: tuple[int, int, int]
) -> int:
    """Lines of words filling ``box`` from its top, as far as they fit; returns the end."""
    left, top, right, bottom = box
    line = screen.px(size * 1.45)
    per_line = max(1, int((right - left) / (size * screen.unit * 0.55 * 6)))
    y = top
    while y + line <= bottom:
        screen.text((left, y), screen.words(max(1, per_line - 3), per_line), size, fill)
        y += line
    return y


def _chat(screen: Screen, picture: Image.Image, top: int, bottom: int) -> None:
    palette, rng = screen.palette, screen.rng
    y = _toolbar(screen, top, screen.words(1, 2).title(), accent=bool(rng.integers(2)))
    field = screen.px(rng_between(rng, 110, 150))
    screen.draw.rounded_rectangle(
        (
            screen.px(24),
            bottom - field - screen.px(12),
            screen.width - screen.px(150),
            bottom - screen.px(12),
        ),
        radius=field // 2,
        fill=palette.bar,
    )
    screen.text((screen.px(70), bottom - field // 2 - screen.px(30)), "Message", 34, palette.faint)
    r = field // 2 - screen.px(4)
    cx, cy = screen.width - screen.px(75), bottom - screen.px(12) - field // 2
    screen.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=palette.accent)
    bottom -= field + screen.px(36)
    y += screen.px(24)
    for _ in range(int(rng.integers(0, 3))):  # text bubbles above the picture
        height = screen.px(96)
        mine = bool(rng.integers(2))
        left = screen.width - screen.px(600) if mine else screen.px(30)
        colour = palette.bubble if mine else palette.bar
        screen.draw.rounded_rectangle(
            (left, y, left + screen.px(560), y + height), screen.px(30), fill=colour
        )
        screen.text((left + screen.px(30), y + screen.px(24)), screen.words(2, 5), 34, palette.ink)
        y += height + screen.px(16)
    pad = screen.px(rng_between(rng, 8, 16))
    bubble_width = round(screen.width * rng.uniform(0.62, 0.8))
    mine = bool(rng.integers(2))
    left = screen.width - bubble_width - screen.px(30) if mine else screen.px(30)
    stamp = screen.px(50)
    room = (left + pad, y + pad, left + bubble_width - pad, bottom - pad - stamp)
    # Fitted first, to know the bubble's size; the bubble is drawn round it, then the
    # picture is put back on top.
    start_x, start_y, end_x, end_y = screen.paste(picture, room)
    fitted = screen.image.crop((start_x, start_y, end_x, end_y))
    colour = palette.bubble if mine else palette.bar
    screen.draw.rounded_rectangle(
        (start_x - pad, start_y - pad, end_x + pad, end_y + pad + stamp),
        radius=screen.px(30),
        fill=colour,
    )
    screen.image.paste(fitted, (start_x, start_y))
    screen.text(
        (end_x - screen.px(110), end_y + screen.px(8)),
        f"{int(rng.integers(0, 24))}:{int(rng.integers(0, 60)):02d}",
        26,
        palette.faint,
    )


def _feed(screen: Screen, picture: Image.Image, top: int, bottom: int) -> None:
    palette, rng = screen.palette, screen.rng
    y = top + screen.px(rng_between(rng, 100, 140))
    screen.text((screen.px(40), top + screen.px(24)), "Snapfeed", 56, palette.ink)
    _icon(
        screen.draw,
        "heart",
        (
            screen.width - screen.px(110),
            top + screen.px(30),
            screen.width - screen.px(50),
            top + screen.px(90),
        ),
        palette.ink,
        screen.px(4),
    )
    bottom = _bottom_navigation(screen, bottom, labels=bool(rng.integers(2)))
    r = screen.px(36)
    screen.draw.ellipse(
        (screen.px(30), y + screen.px(14), screen.px(30) + 2 * r, y + screen.px(14) + 2 * r),
        fill=palette.accent,
    )
    screen.text(
        (screen.px(130), y + screen.px(20)), screen.words(1, 2).replace(" ", "_"), 34, palette.ink
    )
    screen.text(
        (screen.px(130), y + screen.px(62)), f"{int(rng.integers(1, 23))} h", 26, palette.faint
    )
    y += screen.px(110)
    margin = screen.px(int(rng.choice((0, 0, 24, 40))))
    *_, end_y = screen.paste(
        picture,
        (
            margin,
            y,
            screen.width - margin,
            y + min(round(screen.width * 1.25), bottom - y - screen.px(300)),
        ),
    )
    y = end_y + screen.px(20)
    for i, shape in enumerate(("heart", "circle", "triangle")):
        x = screen.px(40 + 90 * i)
        _icon(
            screen.draw,
            shape,
            (x, y, x + screen.px(56), y + screen.px(56)),
            palette.ink,
            screen.px(4),
        )
    y += screen.px(80)
    screen.text((screen.px(40), y), f"{int(rng.integers(2, 9999)):,} likes", 32, palette.ink)
    _paragraph(
        screen,
        (screen.px(40), y + screen.px(50), screen.width - screen.px(40), bottom),
        32,
        palette.ink,
    )


def _viewer(screen: Screen, picture: Image.Image, top: int, bottom: int) -> None:
    rng = screen.rng
    name = f"IMG_{int(rng.integers(1000, 9999))}.jpg"
    y = _toolbar(screen, top, name, accent=False)
    bottom = _bottom_navigation(screen, bottom, labels=True)
    gap = screen.px(rng_between(rng, 0, 60))
    screen.paste(picture, (0, y + gap, screen.width, bottom - gap))


def _browser(screen: Screen, picture: Image.Image, top: int, bottom: int) -> None:
    palette, rng = screen.palette, screen.rng
    height = screen.px(rng_between(rng, 130, 160))
    screen.draw.rectangle((0, top, screen.width, top + height), fill=palette.bar)
    screen.draw.rounded_rectangle(
        (
            screen.px(30),
            top + screen.px(22),
            screen.width - screen.px(130),
            top + height - screen.px(22),
        ),
        radius=screen.px(40),
        fill=palette.background,
    )
    url = f"forum.example/t/{int(rng.integers(1000, 99999))}"
    screen.text((screen.px(80), top + height // 2 - screen.px(20)), url, 34, palette.faint)
    toolbar = screen.px(rng_between(rng, 120, 150))
    screen.draw.rectangle((0, bottom - toolbar, screen.width, bottom), fill=palette.bar)
    for i in range(5):
        x, r = screen.width * (2 * i + 1) // 10, screen.px(22)
        _icon(
            screen.draw,
            ICONS[(i + 2) % len(ICONS)],
            (x - r, bottom - toolbar // 2 - r, x + r, bottom - toolbar // 2 + r),
            palette.faint,
            screen.px(4),
        )
    bottom -= toolbar
    margin = screen.px(rng_between(rng, 24, 64))
    y = top + height + screen.px(30)
    y = _paragraph(screen, (margin, y, screen.width - margin, y + screen.px(150)), 52, palette.ink)
    screen.text(
        (margin, y),
        f"posted by {screen.words(1, 1)} {int(rng.integers(2, 30))} days ago",
        28,
        palette.faint,
    )
    y += screen.px(70)
    *_, end_y = screen.paste(
        picture,
        (margin, y, screen.width - margin, y + min(screen.width, bottom - y - screen.px(200))),
    )
    _paragraph(
        screen, (margin, end_y + screen.px(30), screen.width - margin, bottom), 34, palette.ink
    )


def rng_between(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


LAYOUTS: dict[Layout, Callable[[Screen, Image.Image, int, int], None]] = {
    Layout.CHAT: _chat,
    Layout.FEED: _feed,
    Layout.VIEWER: _viewer,
    Layout.BROWSER: _browser,
}


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
    Transform("crop_5", Group.OTHER, cropper(5)),
    Transform("crop_10", Group.OTHER, cropper(10)),
    Transform("crop_20", Group.OTHER, cropper(20)),
    Transform("blur", Group.OTHER, blur),
    Transform("text_overlay", Group.OTHER, text_overlay),
    *(
        Transform(f"rotate_small_{degrees}", Group.SMALL_ROTATION, small_rotation(degrees))
        for degrees in (1, 2, 3, 5)
    ),
    Transform("caption_bar", Group.OTHER, caption_bar),
    Transform("watermark", Group.OTHER, watermark),
    Transform("contrast_strong", Group.OTHER, contrast_strong),
    *(
        Transform(f"chrome_{layout}_{theme}", Group.CHROME, app_screenshot(layout, theme))
        for layout in Layout
        for theme in Theme
    ),
)
FAMILIES = {
    f"{prefix}_{suffix}": prefix
    for prefix, suffixes in (
        ("crop", ("5", "10", "20")),
        ("rotate_small", ("1", "2", "3", "5")),
        ("chrome", tuple(f"{layout}_{theme}" for layout in Layout for theme in Theme)),
    )
    for suffix in suffixes
}
