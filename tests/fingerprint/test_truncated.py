"""Truncated pictures (issue 14, item 3): browsers show what arrived, so Vigil hashes it too
and says so (``partial``), instead of failing and letting the picture pass unjudged."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from PIL import Image

from vigil.fingerprint import decode
from vigil.fingerprint.pdq import hamming
from vigil.fingerprint.pipeline import fingerprint_bytes, fingerprint_path

KEPT = 0.98  # of the bytes: the campaign's "truncated by 2%"


def encoded(path: Path, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.open(path).convert("RGB").save(buffer, fmt)
    return buffer.getvalue()


def cut(data: bytes, share: float = KEPT) -> bytes:
    return data[: int(len(data) * share)]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "TIFF"])
def test_a_picture_cut_by_two_percent_hashes_near_the_whole(
    corpus_images: list[Path], fmt: str
) -> None:
    data = encoded(corpus_images[1], fmt)
    whole, truncated = fingerprint_bytes(data), fingerprint_bytes(cut(data))
    assert whole.ok and not whole.partial
    assert truncated.ok and truncated.partial, truncated
    assert truncated.partial_reason and truncated.partial_reason.startswith("corrupt_media")
    assert hamming(whole.pdq, truncated.pdq) <= 31  # within the default list distance
    assert truncated.sha256 != whole.sha256


def test_the_listed_corpus_file_itself_cut(corpus_images: list[Path], tmp_path: Path) -> None:
    """The file as it is on disk (the command line reads files) behaves as an upload."""
    original = corpus_images[0].read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(cut(original))
    record = fingerprint_path(path)
    assert record.ok and record.partial
    assert hamming(record.pdq, fingerprint_bytes(original).pdq) <= 31


def test_a_file_with_no_pixel_data_still_fails(corpus_images: list[Path]) -> None:
    data = corpus_images[0].read_bytes()
    headers_only = data[: data.index(b"\xff\xda")]  # cut before the first scan
    record = fingerprint_bytes(headers_only)
    assert record.error_reason == "corrupt_media" and not record.partial
    assert record.pdq is None


def test_tolerance_stays_with_the_decode_that_asked(corpus_images: list[Path]) -> None:
    """Pillow's switch is process-wide; Vigil's tolerance is not: a truncated file loaded
    outside it, in this thread or another while a tolerant decode runs, still fails."""
    truncated = cut(encoded(corpus_images[1], "PNG"))

    def strict_load() -> None:
        with Image.open(io.BytesIO(truncated)) as image:
            image.load()

    with pytest.raises(OSError):
        strict_load()
    failures: list[BaseException] = []

    def other_thread() -> None:
        try:
            strict_load()
        except OSError as exc:
            failures.append(exc)

    with decode.truncation_tolerated():
        strict_load()  # tolerated here
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(30)
    assert len(failures) == 1
    with pytest.raises(OSError):
        strict_load()
