"""Video and animation fingerprints: sampling, dedupe, reference agreement, broken input."""

from __future__ import annotations

import gc
import hashlib
import inspect
import tracemalloc
from pathlib import Path

import av
import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageSequence

from tests.fingerprint import video_media
from tests.fingerprint.oracle import reference_pdq
from vigil.fingerprint import frames, pdq, photo, pipeline, video
from vigil.fingerprint.errors import FailureReason, FingerprintError

FRAME = 1 / video_media.RATE
SECONDS_EACH = 3


@pytest.fixture(scope="session")
def slides(corpus_images: list[Path]) -> list[Image.Image]:
    """Four visually distinct benign corpus photos."""
    chosen = [corpus_images[i] for i in (0, 8, 14, 36)]
    return [Image.open(path).convert("RGB") for path in chosen]


@pytest.fixture(scope="session")
def slideshow_mp4(tmp_path_factory: pytest.TempPathFactory, slides: list[Image.Image]) -> Path:
    path = tmp_path_factory.mktemp("video") / "slideshow.mp4"
    return video_media.write_clip(path, video_media.slideshow(slides, SECONDS_EACH))


@pytest.fixture(scope="session")
def noise_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "noise.mp4"
    return video_media.write_clip(path, video_media.moving_noise(8))


def reference_frames(path: Path) -> dict[float, tuple[str, int]]:
    """Reference PDQ of every frame of a plain, full decode, keyed by time in ms."""
    found = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        origin = None
        for frame in container.decode(stream):
            origin = frame.time if origin is None else origin
            bits, quality = pdqhash.compute(frame.to_ndarray(format="rgb24"))
            key = round((frame.time - origin) * 1000)
            found[key] = (np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality))
    return found


def assert_matches_full_decode(hashes: video.VideoHashes, path: Path) -> None:
    reference = reference_frames(path)
    for kept in hashes.frames:
        ref_hex, ref_quality = reference[round(kept.t * 1000)]
        assert pdq.hamming(kept.pdq, ref_hex) <= 2
        assert abs(kept.quality - ref_quality) <= 2


# Sampling ------------------------------------------------------------------------------


def test_samples_are_one_second_apart(slideshow_mp4: Path) -> None:
    hashes = video.hash_video(slideshow_mp4, dedupe_distance=-1)
    times = [f.t for f in hashes.frames]
    assert len(times) == 4 * SECONDS_EACH
    assert times == pytest.approx(list(range(len(times))), abs=FRAME)
    assert (hashes.width, hashes.height) == video_media.SIZE
    assert hashes.duration == pytest.approx(4 * SECONDS_EACH, abs=0.1)
    assert hashes.decode_errors == 0


def test_dedupe_keeps_one_frame_per_still_image(slideshow_mp4: Path) -> None:
    hashes = video.hash_video(slideshow_mp4)
    assert [f.t for f in hashes.frames] == pytest.approx(
        [i * SECONDS_EACH for i in range(4)], abs=FRAME
    )


@pytest.mark.parametrize(("fps", "expected"), [(2.0, 0.5), (0.5, 2.0), (1 / 3, 3.0)])
def test_fps_option_sets_the_sampling_interval(
    slideshow_mp4: Path, fps: float, expected: float
) -> None:
    times = [f.t for f in video.hash_video(slideshow_mp4, fps=fps, dedupe_distance=-1).frames]
    assert np.diff(times) == pytest.approx(np.full(len(times) - 1, expected), abs=FRAME)
    assert len(times) == round(4 * SECONDS_EACH * fps)


def test_kept_frames_equal_the_reference_pdq_of_the_decoded_frame(slideshow_mp4: Path) -> None:
    assert_matches_full_decode(video.hash_video(slideshow_mp4, dedupe_distance=-1), slideshow_mp4)


def test_kept_frames_are_close_to_their_source_image(
    slideshow_mp4: Path, slides: list[Image.Image]
) -> None:
    hashes = video.hash_video(slideshow_mp4)
    distances = [
        pdq.hamming(kept.pdq, reference_pdq(video_media.fitted(slide))[0])
        for kept, slide in zip(hashes.frames, slides, strict=True)
    ]
    assert max(distances) <= 31
    assert np.mean(distances) <= 12  # H.264 at crf 20 barely moves a PDQ hash


def test_moving_content_matches_the_full_decode(noise_mp4: Path) -> None:
    # Every frame differs, and x264's B-frames are skipped between samples: the
    # sampled frames must still be exactly the ones a full decode shows at those times.
    hashes = video.hash_video(noise_mp4, dedupe_distance=-1)
    assert [f.t for f in hashes.frames] == pytest.approx(list(range(8)), abs=1e-6)
    assert_matches_full_decode(hashes, noise_mp4)


def test_short_gops_are_skipped_without_changing_the_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = video_media.write_clip(
        tmp_path / "short_gop.mp4", video_media.moving_noise(6), video_media.H264_SHORT_GOP
    )
    decoded = []
    original = frames.VideoReader.decode

    def counting(
        self: frames.VideoReader, packet: av.Packet | None, next_time: float
    ) -> list[av.VideoFrame]:
        decoded.append(packet)
        return original(self, packet, next_time)

    monkeypatch.setattr(frames.VideoReader, "decode", counting)
    hashes = video.hash_video(path, dedupe_distance=-1)
    assert [f.t for f in hashes.frames] == pytest.approx(list(range(6)), abs=1e-6)
    assert_matches_full_decode(hashes, path)
    # 10-frame GOPs and a sample every 30 frames: most GOPs are never decoded.
    assert len(decoded) < 0.6 * 6 * video_media.RATE


@pytest.mark.parametrize(
    "encoding", [video_media.VP9, video_media.MPEG4], ids=["vp9-webm", "mpeg4-avi"]
)
def test_other_codecs(
    tmp_path: Path, slides: list[Image.Image], encoding: video_media.Encoding
) -> None:
    path = video_media.write_clip(
        tmp_path / f"clip{encoding.suffix}", video_media.slideshow(slides[:2], 2), encoding
    )
    hashes = video.hash_video(path)
    assert [f.t for f in hashes.frames] == pytest.approx([0, 2], abs=FRAME)
    assert_matches_full_decode(hashes, path)


def test_sample_clock_takes_each_frame_once() -> None:
    clock = frames.SampleClock(1.0)
    # A 0.5 fps slideshow: every slide is taken, none twice.
    assert [clock.take(t) for t in (0.0, 2.0, 4.0)] == [True, True, True]
    clock = frames.SampleClock(1.0)
    ntsc = [i * 1001 / 30000 for i in range(70)]
    taken = [t for t in ntsc if clock.take(t)]
    assert taken == pytest.approx([0, 1.001, 2.002], abs=FRAME)


def test_sample_clock_rejects_nonsense_rates() -> None:
    for fps in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            frames.SampleClock(fps)


# Animations ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_sampled_by_frame_durations(
    tmp_path: Path, slides: list[Image.Image], fmt: str
) -> None:
    path = video_media.write_animation(
        tmp_path / f"anim.{fmt.lower()}", slides, [2500, 400, 300, 1000], fmt
    )
    with Image.open(path) as image:
        hashes = video.hash_animation(image, dedupe_distance=-1)
    # Frames start at 0, 2.5, 2.9 and 3.2 s: samples at 0, 1 (-> 2.5), 3 (-> 3.2).
    assert [f.t for f in hashes.frames] == pytest.approx([0, 2.5, 3.2])
    assert hashes.duration == pytest.approx(4.2)
    with Image.open(path) as image:
        shown = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
    for kept, index in zip(hashes.frames, (0, 1, 3), strict=True):
        assert kept.pdq == reference_pdq(shown[index])[0]


def test_animation_zero_durations_count_as_browsers_show_them(
    tmp_path: Path, slides: list[Image.Image]
) -> None:
    images = [*slides, *slides, *slides]
    path = video_media.write_animation(tmp_path / "fast.gif", images, [0] * len(images), "GIF")
    with Image.open(path) as image:
        hashes = video.hash_animation(image, dedupe_distance=-1)
    assert [f.t for f in hashes.frames] == pytest.approx([0.0, 1.0])  # 100 ms each
    assert hashes.duration == pytest.approx(len(images) * 0.1)


def test_animation_dedupe_and_pipeline(tmp_path: Path, slides: list[Image.Image]) -> None:
    images = [slides[0], slides[0].transpose(Image.Transpose.FLIP_LEFT_RIGHT), slides[1]]
    path = video_media.write_animation(tmp_path / "anim.webp", images, [1000, 1000, 1000], "WEBP")
    record = pipeline.fingerprint_path(path)
    assert record.ok, record.error
    assert record.media_type == "video"
    assert record.frames is not None and len(record.frames) == 3


def test_animation_with_absurd_frame_count_is_refused(
    tmp_path: Path, slides: list[Image.Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = video_media.write_animation(tmp_path / "long.gif", slides, [100] * 4, "GIF")
    monkeypatch.setattr(frames, "MAX_ANIMATION_FRAMES", 3)
    with Image.open(path) as image, pytest.raises(FingerprintError) as caught:
        video.hash_animation(image)
    assert caught.value.reason is FailureReason.TOO_LARGE


def test_truncated_animation_keeps_the_frames_before_the_damage(
    tmp_path: Path, slides: list[Image.Image]
) -> None:
    whole = video_media.write_animation(tmp_path / "whole.gif", slides, [1000] * 4, "GIF")
    cut = video_media.truncated_copy(whole, tmp_path / "cut.gif", 0.6)
    with Image.open(cut) as image:
        try:
            hashes = video.hash_animation(image, dedupe_distance=-1)
        except FingerprintError as exc:
            assert exc.reason is FailureReason.CORRUPT
        else:
            assert 1 <= len(hashes.frames) < 4


# Limits and broken input ---------------------------------------------------------------


def test_frames_over_the_pixel_limit_are_refused(slideshow_mp4: Path) -> None:
    width, height = video_media.SIZE
    with pytest.raises(FingerprintError) as caught:
        video.hash_video(slideshow_mp4, max_pixels=width * height - 1)
    assert caught.value.reason is FailureReason.TOO_MANY_PIXELS


def broken_inputs(directory: Path, good_mp4: Path) -> dict[str, tuple[Path, FailureReason]]:
    good_mkv = video_media.write_clip(directory / "good.mkv", video_media.moving_noise(2))
    empty = directory / "empty.mp4"
    empty.write_bytes(b"")
    random = directory / "random.mp4"
    random.write_bytes(np.random.default_rng(1).integers(0, 256, 20_000, np.uint8).tobytes())
    return {
        # The default MP4 muxer writes its index last: cut it off and nothing opens.
        "truncated": (
            video_media.truncated_copy(good_mp4, directory / "cut.mp4", 0.5),
            FailureReason.CORRUPT,
        ),
        "ftyp_then_garbage": (
            video_media.ftyp_then_garbage(directory / "garbage.mp4"),
            FailureReason.CORRUPT,
        ),
        "random_bytes": (random, FailureReason.CORRUPT),
        "transport_stream_noise": (
            video_media.transport_stream_noise(directory / "noise.ts"),
            FailureReason.CORRUPT,
        ),
        "empty_file": (empty, FailureReason.CORRUPT),
        "scrambled_frames": (
            video_media.scramble_payload(good_mkv, directory / "scrambled.mkv"),
            FailureReason.CORRUPT,
        ),
        "audio_only": (
            video_media.write_audio_only(directory / "audio.mp4"),
            FailureReason.NO_FRAMES,
        ),
        "video_stream_without_frames": (
            video_media.write_audio_only(directory / "silent.ts", announce_video=True),
            FailureReason.NO_FRAMES,
        ),
        "missing": (directory / "does_not_exist.mp4", FailureReason.UNREADABLE),
    }


def test_broken_inputs_fail_with_a_reason(tmp_path: Path, slideshow_mp4: Path) -> None:
    outcomes = {}
    for name, (path, expected) in broken_inputs(tmp_path, slideshow_mp4).items():
        with pytest.raises(FingerprintError) as caught:
            video.hash_video(path)
        outcomes[name] = (caught.value.reason, expected)
    assert {name: got for name, (got, _) in outcomes.items()} == {
        name: want for name, (_, want) in outcomes.items()
    }


def test_truncated_faststart_file_keeps_its_start(
    tmp_path: Path, slides: list[Image.Image]
) -> None:
    whole = video_media.write_faststart_clip(
        tmp_path / "whole.mp4", video_media.slideshow(slides, SECONDS_EACH)
    )
    cut = video_media.truncated_copy(whole, tmp_path / "cut.mp4", 0.6)
    hashes = video.hash_video(cut)
    times = [f.t for f in hashes.frames]
    assert times[0] == 0
    assert 1 <= len(times) < 4
    assert all(t < 4 * SECONDS_EACH for t in times)


# Streaming -----------------------------------------------------------------------------


def live_video_frames() -> int:
    return sum(isinstance(o, av.VideoFrame) for o in gc.get_objects())


def test_sampling_is_a_stream(noise_mp4: Path) -> None:
    # Decoded pictures live in FFmpeg's memory, invisible to tracemalloc: count them.
    with frames.open_video(noise_mp4, max_pixels=10**8) as reader:
        sampled = reader.sample(1.0)
        assert inspect.isgenerator(sampled)
        alive = [live_video_frames() for _ in sampled]
    assert len(alive) == 8
    assert max(alive) <= 4


def peak_traced_bytes(path: Path) -> int:
    tracemalloc.start()
    try:
        video.hash_video(path, dedupe_distance=-1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_length(tmp_path: Path) -> None:
    short = video_media.write_clip(tmp_path / "short.mp4", video_media.moving_noise(3, seed=2))
    long = video_media.write_clip(tmp_path / "long.mp4", video_media.moving_noise(15, seed=2))
    peak_traced_bytes(short)  # warm caches (PDQ weights, codec tables)
    short_peak, long_peak = peak_traced_bytes(short), peak_traced_bytes(long)
    frame_bytes = video_media.SIZE[0] * video_media.SIZE[1] * 3
    # 450 frames held as RGB would be 100 MB; holding even 8 more would show.
    assert long_peak < short_peak + 2 * frame_bytes


# Pipeline ------------------------------------------------------------------------------


def test_pipeline_fingerprints_an_mp4_as_video(slideshow_mp4: Path) -> None:
    record = pipeline.fingerprint_path(slideshow_mp4)
    assert record.ok, record.error
    assert record.media_type == "video"
    assert record.frames is not None and len(record.frames) == 4
    assert (record.width, record.height) == video_media.SIZE
    data = slideshow_mp4.read_bytes()
    assert record.md5 == hashlib.md5(data).hexdigest()
    assert record.sha256 == hashlib.sha256(data).hexdigest()


def test_pipeline_records_broken_video_as_a_failure(tmp_path: Path) -> None:
    record = pipeline.fingerprint_path(video_media.ftyp_then_garbage(tmp_path / "bad.mp4"))
    assert not record.ok
    assert record.error_reason == FailureReason.CORRUPT.value
    assert record.sha256 is not None


def test_animation_frames_hash_like_photos(tmp_path: Path, slides: list[Image.Image]) -> None:
    path = video_media.write_animation(tmp_path / "a.gif", slides[:2], [1000, 1000], "GIF")
    with Image.open(path) as image:
        hashes = video.hash_animation(image)
        image.seek(0)
        first = photo.hash_pil(image.convert("RGB"), variants=False).pdq
    assert hashes.frames[0].pdq == first.hex
