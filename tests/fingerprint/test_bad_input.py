"""Hostile and broken input: every file gets a per-file error with a clear reason, or a hash;
nothing crashes, nothing allocates what a header merely claims, and the batch goes on.

All media here is generated (gradients) or taken from the benign corpus.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests import media_factory
from tests.cli.vigil_cli import records, run_hash
from vigil.fingerprint import video
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_path
from vigil.fingerprint.record import Fingerprint

BROKEN_VIDEO = {"corrupt_media", "no_frames"}  # either is a fair verdict on a broken video


# --- generated media -------------------------------------------------------------------


def jpeg() -> bytes:
    return media_factory.encode(media_factory.gradient(320, 240, seed=3), "JPEG", quality=90)


def png() -> bytes:
    return media_factory.encode(media_factory.gradient(320, 240, seed=4), "PNG")


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header for a huge greyscale image, with almost no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def gif_claiming(width: int, height: int) -> bytes:
    """A 1x1 GIF whose screen and frame descriptors are rewritten to claim a huge size."""
    data = bytearray(media_factory.encode(Image.new("L", (1, 1)), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)  # logical screen descriptor
    frame = data.index(b"\x2c", 13)  # image descriptor
    data[frame + 5 : frame + 9] = struct.pack("<HH", width, height)
    return bytes(data)


def mp4(seconds: int = 2, fps: int = 10) -> bytes:
    """A small real MP4 (MPEG-4 Part 2), its index (moov) written at the end."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(seconds * fps):
            image = media_factory.gradient(160, 120, seed=index // fps)
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def animated_gif(frames: int = 6) -> bytes:
    images = [media_factory.gradient(96, 64, seed=n) for n in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=500, loop=0)
    return buffer.getvalue()


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not media")
    return buffer.getvalue()


def random_bytes() -> bytes:
    data = np.random.default_rng(7).bytes(4096)
    assert data[:2] not in (b"\xff\xd8", b"\x89P", b"GI", b"BM", b"II", b"MM", b"RI")
    return data


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _garbage(size: int, seed: int = 1) -> bytes:
    return np.random.default_rng(seed).bytes(size)


# name -> (bytes, expected error_reason values)
BAD_FILES: dict[str, tuple[Callable[[], bytes], set[str]]] = {
    "zero.jpg": (lambda: b"", {"empty_file"}),
    # Truncated pictures hash what decodes, flagged partial: tests/fingerprint/test_truncated.py
    "garbage_after_soi.jpg": (lambda: jpeg()[:20] + _garbage(20_000), {"corrupt_media"}),
    "garbage_after_ihdr.png": (lambda: png()[:33] + _garbage(5_000), {"corrupt_media"}),
    "text_named.jpg": (lambda: b"hello, this is plain text\n" * 20, {"not_media"}),
    "notes.txt": (lambda: b"plain text\n", {"not_media"}),
    "archive.zip": (zip_archive, {"not_media"}),
    "random.bin": (random_bytes, {"not_media"}),
    "bomb.png": (lambda: png_claiming(30_000, 30_000), {"too_many_pixels"}),
    "bomb.gif": (lambda: gif_claiming(30_000, 30_000), {"too_many_pixels"}),
    # Above the default 100 Mpx cap but under Pillow's own bomb error threshold.
    "big.png": (lambda: png_claiming(12_000, 12_000), {"too_many_pixels"}),
    "ftyp_then_garbage.mp4": (
        lambda: b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + _garbage(5_000),
        BROKEN_VIDEO,
    ),
    "truncated.mp4": (lambda: _half(mp4()), BROKEN_VIDEO),
}


def _write(folder: Path, name: str) -> Path:
    make, _ = BAD_FILES[name]
    path = folder / name
    path.write_bytes(make())
    return path


# --- one file at a time ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_fails_with_a_clear_reason(tmp_path: Path, name: str) -> None:
    record = fingerprint_path(_write(tmp_path, name))
    _, expected = BAD_FILES[name]
    assert not record.ok
    assert record.error_reason in expected, record
    assert record.error  # a sentence for a person, not just a code
    assert record.pdq is None and record.media_type is None
    assert record.frames is None


def test_garbled_jpeg_scan_data_never_crashes(tmp_path: Path) -> None:
    """Random bytes in place of the entropy-coded scan, markers intact.

    libjpeg conceals such damage as viewers do (grey or smeared blocks), so depending on
    the bytes the file is refused as corrupt or hashes as the damaged picture it shows.
    """
    for seed, width in enumerate((320, 640, 1024)):
        data = media_factory.encode(media_factory.gradient(width, 240, seed), "JPEG")
        scan = data.index(b"\xff\xda") + 20  # past the start-of-scan header
        path = tmp_path / f"garbled_{width}.jpg"
        path.write_bytes(data[:scan] + _garbage(len(data) - scan, seed))
        record = fingerprint_path(path)
        assert record.error_reason == "corrupt_media" or (record.ok and record.pdq), record


def test_digests_survive_a_decode_failure(tmp_path: Path) -> None:
    """A corrupt file still has exact hashes: MD5/SHA lists can match what PDQ cannot."""
    record = fingerprint_path(_write(tmp_path, "garbage_after_ihdr.png"))
    assert record.error_reason == "corrupt_media"
    assert record.sha256 is not None and record.size is not None


def test_png_named_jpg_hashes_as_the_png(tmp_path: Path) -> None:
    data = png()
    (tmp_path / "real.png").write_bytes(data)
    (tmp_path / "misnamed.jpg").write_bytes(data)
    misnamed = fingerprint_path(tmp_path / "misnamed.jpg")
    assert misnamed.ok, misnamed.error
    assert misnamed.pdq == fingerprint_path(tmp_path / "real.png").pdq


def test_one_pixel_image_hashes_but_is_weak(tmp_path: Path) -> None:
    path = media_factory.save(media_factory.gradient(1, 1), tmp_path / "dot.png")
    record = fingerprint_path(path)
    assert record.ok, record.error
    assert record.width == record.height == 1
    assert record.pdq is not None and len(record.pdq) == 64
    assert record.pdq_weak is True


def test_max_pixels_option_refuses_large_images(tmp_path: Path) -> None:
    path = media_factory.save(media_factory.gradient(400, 300), tmp_path / "photo.jpg")
    record = fingerprint_path(path, FingerprintOptions(max_pixels=100_000))
    assert record.error_reason == "too_many_pixels"
    assert "400x300" in (record.error or "")
    assert fingerprint_path(path, FingerprintOptions(max_pixels=120_000)).ok


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_decompression_bombs_are_refused_before_allocation(tmp_path: Path) -> None:
    """Hash the bombs in a child whose address space cannot hold one decoded bomb.

    A 30000x30000 greyscale image needs 900 MB. Had the pipeline tried to decode, the
    allocation would fail and surface as "image too large to decode"; refusing from the
    header instead yields the header check's message. tracemalloc covers numpy buffers.
    """
    bombs = [_write(tmp_path, name) for name in ("bomb.png", "bomb.gif", "big.png")]
    assert all(bomb.stat().st_size < 2_000 for bomb in bombs)
    done = subprocess.run(
        [sys.executable, "-c", _BOMB_PROBE, *map(str, bombs)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["peak_traced_bytes"] < 8 << 20
    for record in report["records"]:
        assert record["error_reason"] == "too_many_pixels", record
        assert "exceeds" in record["error"], record  # the header check, not a MemoryError


_BOMB_PROBE = textwrap.dedent("""
    import json, resource, sys, tracemalloc
    from pathlib import Path
    from vigil.fingerprint.pipeline import fingerprint_path

    fingerprint_path(Path(sys.argv[1]))  # load every lazily imported decoder first
    with open("/proc/self/status") as status:
        vm_kib = next(int(l.split()[1]) for l in status if l.startswith("VmSize:"))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, ((vm_kib << 10) + (300 << 20), hard))
    tracemalloc.start()
    records = [fingerprint_path(Path(p)).to_dict() for p in sys.argv[1:]]
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"peak_traced_bytes": peak, "records": records}))
""")


# --- good video (turns on when video.py lands) ----------------------------------------


def _pending(hasher: Callable[..., object], *args: object) -> bool:
    """True while the function is still the NotImplementedError stub."""
    try:
        hasher(*args)
    except NotImplementedError:
        return True
    except Exception:
        return False
    return False


VIDEO_PENDING = _pending(video.hash_video, Path("/nonexistent/probe.mp4"))
ANIMATION_PENDING = _pending(video.hash_animation, Image.new("RGB", (8, 8)))


def _assert_video(record: Fingerprint) -> None:
    assert record.ok, record.error
    assert record.media_type == "video"
    assert record.frames
    times = [frame.t for frame in record.frames]
    assert times == sorted(times)
    assert all(len(frame.pdq) == 64 and 0 <= frame.quality <= 100 for frame in record.frames)


@pytest.mark.skipif(VIDEO_PENDING, reason="video.hash_video is not implemented yet")
def test_good_mp4_hashes(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4())
    _assert_video(fingerprint_path(path))


@pytest.mark.skipif(ANIMATION_PENDING, reason="video.hash_animation is not implemented yet")
def test_good_animated_gif_hashes(tmp_path: Path) -> None:
    path = tmp_path / "loop.gif"
    path.write_bytes(animated_gif())
    _assert_video(fingerprint_path(path))


# --- the batch goes on -----------------------------------------------------------------


def test_mixed_batch_hashes_every_good_file(corpus_images: list[Path], tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = [Path(shutil.copy(image, folder / image.name)) for image in corpus_images[:4]]
    good.append(media_factory.save(media_factory.gradient(1, 1), folder / "dot.png"))
    (folder / "png_named.jpg").write_bytes(png())
    good.append(folder / "png_named.jpg")
    bad = [_write(folder, name) for name in BAD_FILES]
    result = run_hash(folder, "--workers", "2", "--no-variants")
    assert result.exit_code == 1
    rows = {Path(row["path"]).name: row for row in records(result.stdout)}
    assert len(rows) == len(good) + len(bad)
    for path in good:
        assert rows[path.name]["error"] is None, rows[path.name]
        assert len(rows[path.name]["pdq"]) == 64
    for path in bad:
        assert rows[path.name]["error_reason"] in BAD_FILES[path.name][1], rows[path.name]
    assert f"{len(bad)} of {len(rows)} files failed" in result.stderr


def test_max_pixels_on_the_command_line(tmp_path: Path) -> None:
    small = media_factory.save(media_factory.gradient(100, 100), tmp_path / "small.png")
    large = media_factory.save(media_factory.gradient(400, 300), tmp_path / "large.png")
    result = run_hash(small, large, "--max-pixels", "50000", "-w", "1")
    assert result.exit_code == 1
    small_row, large_row = records(result.stdout)
    assert small_row["error"] is None
    assert large_row["error_reason"] == "too_many_pixels"
