"""vPDQ-style video fingerprints: PDQ of frames sampled at a fixed rate, streamed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

DEFAULT_FPS = 1.0
DEFAULT_DEDUPE_DISTANCE = 4  # consecutive frames this close are one scene


@dataclass(frozen=True, slots=True)
class FrameHash:
    t: float  # seconds from the start
    pdq: str
    quality: int


@dataclass(frozen=True, slots=True)
class VideoHashes:
    frames: tuple[FrameHash, ...]
    duration: float | None
    width: int
    height: int


def hash_video(path: Path, *, fps: float = DEFAULT_FPS,
               dedupe_distance: int = DEFAULT_DEDUPE_DISTANCE,
               max_pixels: int = 100_000_000) -> VideoHashes:
    raise NotImplementedError


def hash_animation(image: Image.Image, *, fps: float = DEFAULT_FPS,
                   dedupe_distance: int = DEFAULT_DEDUPE_DISTANCE) -> VideoHashes:
    raise NotImplementedError
