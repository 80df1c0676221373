"""Benign test videos and animations made with PyAV and Pillow: corpus slideshows and noise.

Never anything else: see the content rule in README.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from PIL import Image

SIZE = (320, 240)
RATE = 30


@dataclass(frozen=True, slots=True)
class Encoding:
    codec: str
    suffix: str
    options: dict[str, str] = field(default_factory=dict)


H264 = Encoding("libx264", ".mp4", {"preset": "veryfast", "crf": "20"})
# Short GOPs: a keyframe every third of a second, so whole GOPs fall between samples.
H264_SHORT_GOP = Encoding(
    "libx264",
    ".mp4",
    {"preset": "veryfast", "crf": "20", "g": "10", "keyint_min": "10", "sc_threshold": "0"},
)
VP9 = Encoding(
    "libvpx-vp9", ".webm", {"deadline": "realtime", "cpu-used": "8", "crf": "30", "b": "0"}
)
MPEG4 = Encoding("mpeg4", ".avi", {"b": "2000000"})  # the 200 kbit/s default smears stills


def fitted(image: Image.Image, size: tuple[int, int] = SIZE) -> Image.Image:
    """The corpus image as it appears in a clip: converted to RGB and resized to fill it."""
    return image.convert("RGB").resize(size, Image.Resampling.BILINEAR)


def slideshow(
    images: Sequence[Image.Image], seconds_each: float, size: tuple[int, int] = SIZE
) -> Iterator[np.ndarray]:
    """Each image held still for ``seconds_each`` seconds."""
    for image in images:
        rgb = np.asarray(fitted(image, size))
        for _ in range(round(seconds_each * RATE)):
            yield rgb


def moving_noise(
    seconds: float, size: tuple[int, int] = SIZE, seed: int = 0
) -> Iterator[np.ndarray]:
    """Smooth noise scrolling sideways: every frame differs, so nothing dedupes."""
    rng = np.random.default_rng(seed)
    width, height = size
    field_ = np.asarray(
        Image.fromarray(rng.integers(0, 256, (height // 8, width // 4, 3), dtype=np.uint8)).resize(
            (width * 2, height), Image.Resampling.BICUBIC
        )
    )
    for index in range(round(seconds * RATE)):
        offset = (index * 3) % width
        yield np.ascontiguousarray(field_[:, offset : offset + width])


def write_clip(
    path: Path,
    frames: Iterable[np.ndarray],
    encoding: Encoding = H264,
    size: tuple[int, int] = SIZE,
    container_options: dict[str, str] | None = None,
) -> Path:
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream(encoding.codec, rate=RATE)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = dict(encoding.options)
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def write_faststart_clip(path: Path, frames: Iterable[np.ndarray]) -> Path:
    """H.264 MP4 with its index first, so a truncated copy still opens."""
    return write_clip(path, frames, container_options={"movflags": "faststart"})


def write_audio_only(path: Path, seconds: float = 1.0, *, announce_video: bool = False) -> Path:
    """A quiet tone and no video; with ``announce_video``, an MPEG-TS whose
    programme lists an H.264 stream that never carries a frame."""
    rate = 44100
    with av.open(str(path), "w") as container:
        if announce_video:
            video = container.add_stream("libx264", rate=RATE)
            video.width, video.height, video.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream = container.add_stream("aac", rate=rate)
        samples = (np.sin(np.arange(int(rate * seconds)) / 20) * 0.1).astype(np.float32)
        step = 1024
        for start in range(0, len(samples) - step, step):
            frame = av.AudioFrame.from_ndarray(
                samples[None, start : start + step], format="fltp", layout="mono"
            )
            frame.sample_rate = rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def scramble_payload(source: Path, target: Path, seed: int = 0) -> Path:
    """A Matroska clip whose headers survive but whose coded frames are random bytes."""
    data = bytearray(source.read_bytes())
    rng = np.random.default_rng(seed)
    start = len(data) // 10  # past the EBML and track headers
    data[start:] = rng.integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    target.write_bytes(bytes(data))
    return target


def ftyp_then_garbage(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    header = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    path.write_bytes(header + rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return path


def transport_stream_noise(path: Path, packets: int = 20_000, seed: int = 0) -> Path:
    """MPEG-TS packet framing (sync byte every 188 bytes) around random payloads."""
    data = np.random.default_rng(seed).integers(0, 256, (packets, 188), dtype=np.uint8)
    data[:, 0], data[:, 1], data[:, 2] = 0x47, 0x01, 0x00  # sync byte, PID 0x100
    path.write_bytes(data.tobytes())
    return path


def truncated_copy(source: Path, target: Path, fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def write_animation(
    path: Path,
    images: Sequence[Image.Image],
    durations_ms: Sequence[int],
    fmt: str,
    size: tuple[int, int] = SIZE,
) -> Path:
    """An animated GIF or WebP of the given frames (fitted to ``size``) and durations."""
    frames = [fitted(image, size) for image in images]
    extra: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(
        path,
        format=fmt,
        save_all=True,
        append_images=frames[1:],
        duration=list(durations_ms),
        loop=0,
        **extra,
    )
    return path
