"""Benign test media made on the fly: gradients, noise, text, and corpus images transformed.

Never anything else: see the content rule in README.md.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def gradient(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    angle = rng.uniform(0, np.pi)
    ramp = np.cos(angle) * xs / max(width, 1) + np.sin(angle) * ys / max(height, 1)
    wave = np.sin(xs / max(width, 1) * rng.uniform(2, 9)) * np.cos(ys / max(height, 1) * 5)
    channels = [(ramp * 160 + wave * 60 + rng.uniform(0, 60)) for _ in range(3)]
    rgb = np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def noise(width: int, height: int, seed: int = 0, blur: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    image = Image.fromarray(rgb, "RGB")
    if blur:
        from PIL import ImageFilter

        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image


def text_card(
    width: int, height: int, words: str = "Vigil test card", seed: int = 0
) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, height // 10))
    for row in range(6):
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        draw.text(
            (width * 0.05, height * (0.05 + row * 0.15)), f"{words} {row}", fill=colour, font=font
        )
    return image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def save(image: Image.Image, path: Path, fmt: str | None = None, **params: object) -> Path:
    path.write_bytes(
        encode(image, fmt or path.suffix.lstrip(".").upper().replace("JPG", "JPEG"), **params)
    )
    return path


def synthetic_set(seed: int = 0) -> dict[str, Image.Image]:
    """A spread of generated images for compatibility checks."""
    return {
        "gradient_640x480": gradient(640, 480, seed),
        "gradient_3000x2000": gradient(3000, 2000, seed + 1),
        "noise_blur_1024": noise(1024, 768, seed, blur=6),
        "noise_raw_300": noise(300, 300, seed + 2),
        "text_800x600": text_card(800, 600, seed=seed),
        "text_4000x3000": text_card(4000, 3000, seed=seed + 3),
        "tiny_8x8": gradient(8, 8, seed),
        "thin_2000x40": gradient(2000, 40, seed),
    }
