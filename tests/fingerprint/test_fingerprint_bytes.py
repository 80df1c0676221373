"""fingerprint_bytes: the same fingerprint as fingerprint_path, from memory, writing nothing to
disk; hostile bytes give per-item errors, never exceptions."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests import media_factory
from tests.fingerprint.test_bad_input import (
    animated_gif,
    gif_claiming,
    jpeg,
    mp4,
    png_claiming,
    random_bytes,
)
from tests.fingerprint.video_media import slideshow, write_clip
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_bytes, fingerprint_path
from vigil.fingerprint.record import Fingerprint

COMPARED = (
    "media_type",
    "size",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "pdq_weak",
    "pdq_variants",
    "frames",
    "width",
    "height",
    "duration",
    "error",
    "error_reason",
)


def same(from_path: Fingerprint, from_bytes: Fingerprint) -> None:
    for name in COMPARED:
        assert getattr(from_bytes, name) == getattr(from_path, name), name


@pytest.fixture
def no_temp_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every temp directory at an empty folder and check it stays empty."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == []


def test_corpus_photos_hash_as_from_files(corpus_images: list[Path], no_temp_files: Path) -> None:
    for path in corpus_images[:6]:
        from_bytes = fingerprint_bytes(path.read_bytes(), name="upload")
        assert from_bytes.ok and from_bytes.pdq_variants
        same(fingerprint_path(path), from_bytes)
        assert from_bytes.path == "upload"


def test_generated_video_hashes_as_from_a_file(
    tmp_path: Path, corpus_images: list[Path], no_temp_files: Path
) -> None:
    pictures = [Image.open(p) for p in corpus_images[8:11]]
    clip = write_clip(tmp_path / "clip.mp4", slideshow(pictures, 2.0))
    from_path = fingerprint_path(clip)
    assert from_path.ok and from_path.frames and len(from_path.frames) >= 3
    same(from_path, fingerprint_bytes(clip.read_bytes()))


def test_moov_at_the_end_mp4_and_animation(tmp_path: Path) -> None:
    for name, data in (("clip.mp4", mp4()), ("anim.gif", animated_gif())):
        path = tmp_path / name
        path.write_bytes(data)
        from_path = fingerprint_path(path)
        assert from_path.ok and from_path.media_type == "video"
        same(from_path, fingerprint_bytes(data))


def test_options_apply(corpus_images: list[Path]) -> None:
    data = corpus_images[0].read_bytes()
    assert fingerprint_bytes(data, FingerprintOptions(variants=False)).pdq_variants == []
    too_large = fingerprint_bytes(data, FingerprintOptions(max_bytes=len(data) - 1))
    assert too_large.error_reason == "file_too_large"
    # The digests are known anyway: an exact digest match needs nothing else.
    assert too_large.sha256 == fingerprint_path(corpus_images[0]).sha256
    assert too_large.pdq is None


HOSTILE = {
    "empty": (lambda: b"", {"empty_file"}),
    # cut before its first scan: nothing to decode (a cut inside it hashes what arrived,
    # flagged partial: test_truncated.py)
    "jpeg without scan data": (lambda: jpeg()[: jpeg().index(b"\xff\xda")], {"corrupt_media"}),
    "random bytes": (random_bytes, {"not_media"}),
    "png bomb header": (lambda: png_claiming(30_000, 30_000), {"too_many_pixels"}),
    "gif bomb header": (lambda: gif_claiming(30_000, 30_000), {"too_many_pixels"}),
    "ftyp then garbage": (
        lambda: b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 20,
        {"corrupt_media", "no_frames"},
    ),
    "truncated mp4": (lambda: mp4()[: len(mp4()) // 2], {"corrupt_media", "no_frames"}),
    "jpeg magic then text": (lambda: b"\xff\xd8\xff" + b"hello" * 100, {"corrupt_media"}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bytes_give_a_per_item_error(name: str, no_temp_files: Path) -> None:
    make, reasons = HOSTILE[name]
    data = make()
    record = fingerprint_bytes(data)
    assert not record.ok
    assert record.error_reason in reasons, record.error
    assert record.pdq is None and record.frames is None
    assert record.size == len(data)  # digested before decoding failed


def test_a_small_max_pixels_refuses_a_normal_image() -> None:
    data = media_factory.encode(media_factory.gradient(400, 300), "PNG")
    record = fingerprint_bytes(data, FingerprintOptions(max_pixels=100_000))
    assert record.error_reason == "too_many_pixels"
    assert fingerprint_bytes(data, FingerprintOptions(max_pixels=120_000)).ok
