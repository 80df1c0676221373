"""Contact sheets: up to nine frames sampled evenly from a video or animation, each
protected like a still, tiled into one JPEG. Audio is never decoded.

Work is bounded: a video decodes at most MAX_DECODED_FRAMES frames (later frames are
left out of the sheet), an animation visits at most MAX_ANIMATION_FRAMES frames, and
only the reduced, protected tiles are kept.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager

import av
from av.video.frame import VideoFrame
from PIL import Image

from vigil.fingerprint import decode, media
from vigil.fingerprint import frames as sampling
from vigil.fingerprint.errors import FailureReason
from vigil.review.rendering.options import Protection, RenderError, RenderOptions
from vigil.review.rendering.still import (
    JPEG_QUALITY,
    fitted_size,
    protect,
    rendering_failures,
)

MAX_FRAMES = 16
MAX_DECODED_FRAMES = 1500  # about a minute of 25 fps video when every frame is a reference
MAX_ANIMATION_FRAMES = 1000
UNKNOWN_DURATION_FPS = 1.0  # sampling rate when the header gives no duration
SEPARATOR = 2  # pixels between tiles
BACKGROUND = (32, 32, 32)


def contact_sheet(video: bytes, options: RenderOptions, *, frames: int = 9) -> bytes:
    """A JPEG grid of up to ``frames`` protected frames of a video, animated GIF or WebP."""
    return encode_sheet(protected_frames(video, options, frames))


def protected_frames(video: bytes, options: RenderOptions, count: int) -> list[Image.Image]:
    if options.protection is Protection.FINGERPRINT_ONLY:
        raise ValueError("FINGERPRINT_ONLY renders the hash: use fingerprint_image or render_for")
    if not 1 <= count <= MAX_FRAMES:
        raise ValueError(f"frames must be in [1, {MAX_FRAMES}]")
    with rendering_failures():
        kind = media.sniff_bytes(video[: media.SNIFF_BYTES])
        if kind is media.MediaKind.PHOTO:  # GIF, WebP, APNG: Pillow animations
            tiles = animation_tiles(video, options, count)
        else:
            tiles = video_tiles(video, options, count)
    if not tiles:
        raise RenderError(FailureReason.NO_FRAMES, "no frame could be decoded")
    return tiles


def evenly(total: int, count: int) -> list[int]:
    """``count`` indices spread over ``total`` items, each from the middle of its share."""
    count = min(count, total)
    return sorted({math.floor((k + 0.5) * total / count) for k in range(count)})


def animation_tiles(data: bytes, options: RenderOptions, count: int) -> list[Image.Image]:
    with decode.open_image(data, options.max_pixels) as image:
        total = min(int(getattr(image, "n_frames", 1)), MAX_ANIMATION_FRAMES)
        sampling.check_animation_size(total, image.width * image.height)
        tiles = []
        for index in evenly(total, count):
            image.seek(index)
            image.load()
            tiles.append(protect(image.convert("RGBA"), options))
        return tiles


class BoundedVideoReader(sampling.VideoReader):
    """The fingerprinting's frame sampler, stopping after MAX_DECODED_FRAMES frames."""

    decoded = 0

    def decode(self, packet: av.Packet | None, next_time: float) -> list[VideoFrame]:
        if self.decoded >= MAX_DECODED_FRAMES:
            self.gave_up = True
            return []
        ready = super().decode(packet, next_time)
        self.decoded += len(ready)
        return ready


@contextmanager
def open_bounded(data: bytes, max_pixels: int) -> Iterator[BoundedVideoReader]:
    """Like ``frames.open_video`` on an in-memory stream: only video demuxers, no protocols
    but the stream itself, and only the main video stream (audio is never decoded)."""
    with sampling.ffmpeg_failures():
        container = av.open(
            io.BytesIO(data),
            "r",
            metadata_errors="ignore",
            container_options={
                "protocol_whitelist": "file",
                "format_whitelist": sampling.VIDEO_FORMATS,
            },
        )
    try:
        with sampling.ffmpeg_failures():
            stream = sampling.main_video_stream(container)
            yield BoundedVideoReader(container, stream, max_pixels, 1, False)
    finally:
        container.close()


def video_tiles(data: bytes, options: RenderOptions, count: int) -> list[Image.Image]:
    with open_bounded(data, options.max_pixels) as reader, sampling.ffmpeg_failures():
        duration = reader.info.duration or 0.0  # None when the container does not say
        known = duration > 0
        fps = count / duration if known else UNKNOWN_DURATION_FPS
        tiles = ThinningSample(count)
        for _, frame in reader.sample(fps):
            tiles.add(video_tile(frame, options))
            if known and len(tiles.kept) >= count:
                break
        return tiles.picked()


class ThinningSample:
    """Evenly spaced items from a stream of unknown length, holding at most 2 x count:
    when full, every other item goes and the stride doubles."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.kept: list[Image.Image] = []
        self.stride = 1
        self.seen = 0

    def add(self, item: Image.Image) -> None:
        if self.seen % self.stride == 0:
            self.kept.append(item)
            if len(self.kept) >= 2 * self.count:
                self.kept = self.kept[::2]
                self.stride *= 2
        self.seen += 1

    def picked(self) -> list[Image.Image]:
        return [self.kept[i] for i in evenly(len(self.kept), self.count)] if self.kept else []


def video_tile(frame: VideoFrame, options: RenderOptions) -> Image.Image:
    # Scale in swscale, straight to the tile size: the full-size RGB frame is never made.
    width, height = fitted_size((frame.width, frame.height), options.max_side)
    picture = frame.reformat(width=width, height=height, format="rgb24").to_image()
    rotation = int(frame.rotation or 0)
    if rotation:  # players turn the frame this many degrees counter-clockwise
        picture = picture.rotate(rotation, expand=True)
    return protect(picture, options)


def grid(count: int) -> tuple[int, int]:
    columns = math.ceil(math.sqrt(count))
    return columns, math.ceil(count / columns)


def encode_sheet(tiles: list[Image.Image]) -> bytes:
    columns, rows = grid(len(tiles))
    cell_w = max(tile.width for tile in tiles)
    cell_h = max(tile.height for tile in tiles)
    sheet = Image.new(
        "RGB",
        (columns * cell_w + (columns + 1) * SEPARATOR, rows * cell_h + (rows + 1) * SEPARATOR),
        BACKGROUND,
    )
    for index, tile in enumerate(tiles):
        column, row = index % columns, index // columns
        left = SEPARATOR + column * (cell_w + SEPARATOR) + (cell_w - tile.width) // 2
        top = SEPARATOR + row * (cell_h + SEPARATOR) + (cell_h - tile.height) // 2
        sheet.paste(tile.convert("RGB"), (left, top))
    buffer = io.BytesIO()
    sheet.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
