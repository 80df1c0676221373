"""Many distinct pictures for counting false pairs: corpus tiles and synthetic images.

Each corpus image is cut into a grid of non-overlapping tiles, each resized to
TILE_SIDE on its long side; tiles of one image are distinct pictures but share a
source, so pairs between them are not counted (a wallpaper's tiles can be
near-identical texture). Synthetic images are seeded gradients with shapes, smooth
colour noise, and shape collages. Every fourth tile is also screenshotted inside
app chrome (a ``chrome_*`` transform), as a query only: what the content-region
variants see in practice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from benchmarks.transforms import TRANSFORMS, Group

GRID = 5
TILE_SIDE = 256
TILING_SIDE = 1280  # larger originals are reduced first: tiles end up small anyway
CHROME_EVERY = 4
CHROME = tuple(transform for transform in TRANSFORMS if transform.group is Group.CHROME)


@dataclass(frozen=True, slots=True)
class Picture:
    source: int  # pictures of one source are not counted against each other
    name: str
    image: Image.Image
    target: bool  # also a list entry (its reference PDQ), not only a query


def corpus_tiles(source: int, path: Path) -> list[Picture]:
    image = Image.open(path).convert("RGB")
    image.thumbnail((TILING_SIDE, TILING_SIDE), Image.Resampling.LANCZOS)
    width, height = image.size
    pictures = []
    for row in range(GRID):
        for column in range(GRID):
            box = (
                column * width // GRID,
                row * height // GRID,
                (column + 1) * width // GRID,
                (row + 1) * height // GRID,
            )
            tile = image.crop(box)
            scale = TILE_SIDE / max(tile.size)
            tile = tile.resize(
                (max(1, round(tile.width * scale)), max(1, round(tile.height * scale))),
                Image.Resampling.LANCZOS,
            )
            name = f"{path.stem}[{row},{column}]"
            pictures.append(Picture(source, name, tile, target=True))
            number = row * GRID + column
            if number % CHROME_EVERY == 0:
                transform = CHROME[(source + number) % len(CHROME)]
                rng = np.random.default_rng(source * 100 + number)
                screenshot = transform.edit(tile, rng)
                pictures.append(Picture(source, f"{name}/{transform.name}", screenshot, False))
    return pictures


def synthetic(source: int, seed: int) -> Picture:
    rng = np.random.default_rng(1_000_000 + seed)
    maker = SYNTHETIC[seed % len(SYNTHETIC)]
    width, height = (int(side) for side in rng.integers(160, 420, 2))
    return Picture(source, f"{maker.__name__}#{seed}", maker(rng, width, height), target=True)


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))  # type: ignore[return-value]


def gradient_shapes(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A linear gradient at a random angle between two colours, with a few shapes on it."""
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = xs * np.cos(angle) + ys * np.sin(angle)
    ramp = (ramp - ramp.min()) / max(1e-6, float(np.ptp(ramp)))
    start, end = np.array(_colour(rng)), np.array(_colour(rng))
    pixels = start + ramp[..., None] * (end - start)
    image = Image.fromarray(pixels.astype(np.uint8))
    _shapes(image, rng, int(rng.integers(2, 7)))
    return image


def smooth_noise(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Colour noise on a coarse grid, upscaled: clouds, blotches."""
    cells = int(rng.integers(3, 12))
    coarse = rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    grain = rng.normal(0, rng.uniform(0, 12), (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image) + grain, 0, 255).astype(np.uint8))


def shape_collage(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Many overlapping shapes on a plain background, slightly blurred."""
    image = Image.new("RGB", (width, height), _colour(rng))
    _shapes(image, rng, int(rng.integers(8, 30)))
    return image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 2))))


def _shapes(image: Image.Image, rng: np.random.Generator, count: int) -> None:
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for _ in range(count):
        x0, x1 = sorted(int(v) for v in rng.integers(0, width, 2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, height, 2))
        if rng.integers(2):
            draw.ellipse((x0, y0, x1 + 4, y1 + 4), fill=_colour(rng))
        else:
            draw.rectangle((x0, y0, x1 + 4, y1 + 4), fill=_colour(rng))


SYNTHETIC: tuple[Callable[[np.random.Generator, int, int], Image.Image], ...] = (
    gradient_shapes,
    smooth_noise,
    shape_collage,
)
