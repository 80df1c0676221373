"""Frames sampled from videos and animations at a fixed rate, one at a time.

The sampling rule, shared by both: sample times are k / fps seconds after the
first frame, each takes the first frame shown at or after it, and a frame serves
at most one sample (a slide held for 3 s and sampled at 1 fps is taken once).

Video decoding does only the work the sampled frames need, and every shortcut
leaves the sampled frames bit-identical to a full decode:

- while a packet's timestamp is before the next sample time, the decoder skips
  non-reference frames (most B-frames): no other frame depends on them;
- while the next sample lies beyond the next keyframe, packets are demuxed and
  held instead of decoded, and a keyframe drops everything held before it;
  decoding restarts at the last keyframe once a packet reaches the sample time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from vigil.fingerprint.errors import FailureReason, FingerprintError, PixelsFailed
from vigil.fingerprint.limits import DecodeBudget

# Timestamps this close to a sample time count as at it: 30000/1001 fps frames
# land a few microseconds either side of whole seconds.
TIME_TOLERANCE = 1e-3
# A damaged stream whose packets fail this many times in a row is over: what came
# before is kept, concealment would only invent pictures, and the work stays bounded.
MAX_CONSECUTIVE_ERRORS = 64
# Packets held back without decoding; past this they are decoded after all, so a
# stream whose timestamps stall (and that has no keyframes) cannot grow memory.
MAX_HELD_PACKETS = 2048
# Demuxers that carry ordinary video. Others (playlists, concat lists, image
# sequences) can make FFmpeg open further files named inside the input.
VIDEO_FORMATS = "mov,matroska,avi,flv,mpegts,mpeg,mpegvideo,m4v,h264,hevc,asf,ogg,ivf,rm,nut"
# Animations: browsers show zero- and near-zero-delay frames for 100 ms, and so do we,
# so timestamps always advance.
MIN_FRAME_MS = 10
DEFAULT_FRAME_MS = 100
MAX_ANIMATION_FRAMES = 100_000
MAX_ANIMATION_PIXELS = 10_000_000_000  # summed over frames: bounds decoding time

VideoSource = Path | BinaryIO  # a file, or a seekable stream such as io.BytesIO


class SampleClock:
    """Decides which frames are samples, given their times in order of display."""

    def __init__(self, fps: float) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, not {fps!r}")
        self.fps = fps
        self.next_time = 0.0

    def due(self, t: float) -> bool:
        return t + TIME_TOLERANCE >= self.next_time

    def take(self, t: float) -> bool:
        """Whether the frame shown from ``t`` is the next sample; if so, move past it."""
        if not self.due(t):
            return False
        self.next_time = (math.floor((t + TIME_TOLERANCE) * self.fps) + 1) / self.fps
        return True


@dataclass(slots=True)
class VideoInfo:
    """What is known about the stream; the sampler fills in what headers leave out."""

    width: int
    height: int
    duration: float | None
    rotation: int = 0
    decode_errors: int = 0
    last_error: str = ""


@contextmanager
def ffmpeg_failures() -> Iterator[None]:
    """Turn PyAV's exceptions into per-file failures."""
    try:
        yield
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise FingerprintError(FailureReason.UNREADABLE, str(exc)) from exc
    except MemoryError as exc:
        raise FingerprintError(FailureReason.TOO_MANY_PIXELS, "video too large to decode") from exc
    except (av.FFmpegError, OSError, EOFError) as exc:
        raise FingerprintError(FailureReason.CORRUPT, f"cannot decode video: {exc}") from exc


class VideoReader:
    """Streams the sampled frames of one video; holds at most a few frames at a time."""

    def __init__(
        self,
        container: InputContainer,
        stream: VideoStream,
        max_pixels: int,
        threads: int,
        skip_loop_filter: bool,
        budget: DecodeBudget | None = None,
    ) -> None:
        self.container = container
        self.budget = budget  # its deadline is checked at every packet
        self.stream = stream
        self.decoder = stream.codec_context
        self.max_pixels = max_pixels
        self.info = VideoInfo(
            self.decoder.width, self.decoder.height, header_duration(container, stream)
        )
        check_pixels(self.info.width, self.info.height, max_pixels)
        configure_decoder(stream, max_pixels, threads, skip_loop_filter)
        self.origin: float | None = None  # time of the first frame: sample times count from it
        self.held: list[av.Packet] | None = None  # not None while decoding is deferred
        self.latest_sent = -math.inf  # latest packet time given to the decoder
        self.last_time = -math.inf
        self.sampled_any = False
        self.frame_step = 1 / float(stream.average_rate or 30)
        self.errors_in_a_row = 0
        self.gave_up = False

    def sample(self, fps: float) -> Iterator[tuple[float, VideoFrame]]:
        """(seconds from the first frame, frame) for each sample, in order."""
        clock = SampleClock(fps)
        for packet in self.packets():
            if self.gave_up:
                break
            if self.budget is not None:
                self.budget.check_time()
            for ready in self.route(packet, clock.next_time):
                yield from self.samples(self.decode(ready, clock.next_time), clock)
        yield from self.samples(self.decode(None, clock.next_time), clock)
        self.note_duration()

    def packets(self) -> Iterator[av.Packet]:
        """Demuxed packets; a read error ends the stream (a truncated file keeps its start)."""
        demuxed = self.container.demux(self.stream)
        while True:
            try:
                packet = next(demuxed)
            except StopIteration:
                return
            except (av.FFmpegError, OSError, EOFError) as exc:
                self.info.decode_errors += 1
                self.info.last_error = str(exc)
                return
            if packet.size:  # PyAV ends with an empty packet; the flush is ours to do
                yield packet

    def route(self, packet: av.Packet, next_time: float) -> list[av.Packet]:
        """Packets to decode now, in order: none while the next sample is beyond reach."""
        t = self.packet_time(packet)
        if t is None:  # no timing to reason with: decode everything
            return self.release(packet)
        due = t + TIME_TOLERANCE >= next_time
        if self.held is not None:
            if packet.is_keyframe and t <= next_time + self.frame_step / 2:
                # Decoding can restart here: every frame shown before this keyframe,
                # even a leading picture of an open GOP, precedes the next sample.
                self.held = []
            if due or len(self.held) >= MAX_HELD_PACKETS:
                return self.release(packet)
            self.held.append(packet)
            return []
        if packet.is_keyframe and not due and self.latest_sent + TIME_TOLERANCE < next_time:
            # Nothing in the decoder can be the next sample, so it may forget it all.
            self.decoder.flush_buffers()
            self.held = [packet]
            return []
        return [packet]

    def release(self, packet: av.Packet) -> list[av.Packet]:
        held, self.held = self.held or [], None
        return [*held, packet]

    def packet_time(self, packet: av.Packet) -> float | None:
        if self.origin is None or packet.pts is None or packet.time_base is None:
            return None
        return float(packet.pts * packet.time_base) - self.origin

    def decode(self, packet: av.Packet | None, next_time: float) -> list[VideoFrame]:
        t = None if packet is None else self.packet_time(packet)
        # Frames before the next sample are never hashed; skipping the unreferenced
        # ones leaves every other frame exactly as a full decode would.
        self.decoder.skip_frame = (
            "NONREF" if t is not None and t + TIME_TOLERANCE < next_time else "DEFAULT"
        )
        if t is not None:
            self.latest_sent = max(self.latest_sent, t)
        try:
            frames = self.decoder.decode(packet)
        except av.FFmpegError as exc:
            return self.decode_failed(exc)
        self.errors_in_a_row = 0
        return frames

    def decode_failed(self, exc: Exception) -> list[VideoFrame]:
        self.info.decode_errors += 1
        self.info.last_error = str(exc)
        self.errors_in_a_row += 1
        self.gave_up = self.errors_in_a_row > MAX_CONSECUTIVE_ERRORS
        return []

    def samples(
        self, frames: list[VideoFrame], clock: SampleClock
    ) -> Iterator[tuple[float, VideoFrame]]:
        for frame in frames:
            check_pixels(frame.width, frame.height, self.max_pixels)
            t = self.frame_time(frame)
            if clock.take(t):
                if not self.sampled_any:
                    self.note_first_sample(frame)
                yield t, frame

    def frame_time(self, frame: VideoFrame) -> float:
        """Seconds from the first frame; frames without a timestamp follow the last one."""
        absolute = frame.time
        if self.origin is None:
            self.origin = absolute if absolute is not None else 0.0
        t = self.last_time + self.frame_step if absolute is None else absolute - self.origin
        self.last_time = max(self.last_time, t)
        return t

    def note_first_sample(self, frame: VideoFrame) -> None:
        self.sampled_any = True
        # Decoded size, not the header's: some headers leave it out or round it up.
        self.info.width, self.info.height = frame.width, frame.height
        # Frames are hashed as stored; players rotate them by this many degrees.
        self.info.rotation = int(frame.rotation or 0)

    def note_duration(self) -> None:
        if self.info.duration is None and self.last_time > -math.inf:
            self.info.duration = self.last_time + self.frame_step


def header_duration(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise FingerprintError(
            FailureReason.TOO_MANY_PIXELS,
            f"{width}x{height} video exceeds the limit of {max_pixels} pixels",
        )


def configure_decoder(
    stream: VideoStream, max_pixels: int, threads: int, skip_loop_filter: bool
) -> None:
    decoder = stream.codec_context
    # One thread by default: a batch runs one process per core, which beats threads.
    decoder.thread_count = threads
    if threads != 1:
        decoder.thread_type = "AUTO"
    # The decoder refuses oversized pictures before allocating them, whatever the header said.
    options = {"max_pixels": str(min(max_pixels, 2**31 - 1))}
    if skip_loop_filter:
        # Faster, but reference frames drift from the true decode (see docs in video.py).
        options["skip_loop_filter"] = "all"
    decoder.options = options


@contextmanager
def open_video(
    source: VideoSource,
    *,
    max_pixels: int,
    threads: int = 1,
    skip_loop_filter: bool = False,
    budget: DecodeBudget | None = None,
) -> Iterator[VideoReader]:
    """A reader for the main video stream of a file or of a seekable binary stream (an
    upload held in memory); the container closes on exit."""
    with ffmpeg_failures():
        container = av.open(
            _container_input(source),
            "r",
            metadata_errors="ignore",
            container_options={"protocol_whitelist": "file", "format_whitelist": VIDEO_FORMATS},
        )
    try:
        with ffmpeg_failures():
            stream = main_video_stream(container)
            yield VideoReader(container, stream, max_pixels, threads, skip_loop_filter, budget)
    finally:
        container.close()


def _container_input(source: VideoSource) -> str | BinaryIO:
    if isinstance(source, Path):
        # "file:" stops FFmpeg reading a name like "concat:a|b" as another protocol.
        return f"file:{source}"
    return source  # read through PyAV's I/O callbacks: nothing is written to disk


def main_video_stream(container: InputContainer) -> VideoStream:
    # Cover art is stored as a one-picture video stream; it is not the video.
    moving = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]
    if not moving:
        raise FingerprintError(FailureReason.NO_FRAMES, "the file has no video stream")
    stream = container.streams.best("video")
    chosen = stream if stream in moving else moving[0]
    if chosen.codec_context is None:
        raise FingerprintError(FailureReason.CORRUPT, "no decoder for the video codec")
    return chosen


class AnimationReader:
    """Streams the sampled frames of a Pillow animation, timed by its frame durations."""

    def __init__(self, image: Image.Image, budget: DecodeBudget | None = None) -> None:
        self.image = image
        self.budget = budget
        self.count = int(getattr(image, "n_frames", 1))
        check_animation_size(self.count, image.width * image.height)
        self.info = VideoInfo(image.width, image.height, None)

    def sample(self, fps: float, *, copies: bool = True) -> Iterator[tuple[float, Image.Image]]:
        """(seconds from the start, frame) per sample; a frame starts when those before end.

        With ``copies`` each sample is an RGB copy, so it stays valid while the animation
        seeks on; without, it is the animation itself at that frame, to be used at once
        (a large canvas is not copied). The budget's deadline is checked at every frame:
        each one is drawn on the canvas, sampled or not.
        """
        clock = SampleClock(fps)
        start_ms = 0.0
        for index in range(self.count):
            if self.budget is not None:
                self.budget.check_time()
            if not self.seek(index):
                return
            t = start_ms / 1000
            if clock.take(t):
                rgb = self.rgb_copy(index) if copies else self.image
                if rgb is None:
                    return
                yield t, rgb
            start_ms += frame_ms(self.image)
            self.info.duration = start_ms / 1000

    def seek(self, index: int) -> bool:
        """Move to frame ``index``; False when a damaged animation ends early."""
        try:
            self.image.seek(index)
            # Pillow's WebP reader learns a frame's duration only by decoding it.
            self.image.load()
        except (EOFError, OSError, ValueError, SyntaxError) as exc:
            return self.damaged(index, exc)
        return True

    def rgb_copy(self, index: int) -> Image.Image | None:
        try:
            return self.image.convert("RGB")
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            self.damaged(index, exc)
            return None

    def damaged(self, index: int, exc: Exception) -> bool:
        # Pillow reports truncated and malformed data through all of these.
        if index == 0:
            raise PixelsFailed(f"cannot decode frame 0: {exc}") from exc
        self.info.decode_errors += 1
        self.info.last_error = str(exc)
        return False


def check_animation_size(count: int, pixels: int) -> None:
    if count > MAX_ANIMATION_FRAMES:
        raise FingerprintError(
            FailureReason.TOO_LARGE,
            f"{count} animation frames exceed the limit of {MAX_ANIMATION_FRAMES}",
        )
    if count * pixels > MAX_ANIMATION_PIXELS:
        raise FingerprintError(
            FailureReason.TOO_MANY_PIXELS,
            f"{count} frames of {pixels} pixels exceed the limit of "
            f"{MAX_ANIMATION_PIXELS} decoded pixels",
        )


def frame_ms(image: Image.Image) -> float:
    duration = image.info.get("duration")
    if not isinstance(duration, int | float) or not duration > MIN_FRAME_MS:
        return DEFAULT_FRAME_MS
    return float(duration)
