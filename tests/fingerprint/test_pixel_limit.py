"""Vigil's pixel limit (``--max-pixels``, 100 MP by default) is the one that applies to photos,
both ways: Pillow's own decompression-bomb limit (89.5 MP, refused outright over 179 MP)
neither refuses what Vigil allows nor lets through what Vigil refuses.

The large pictures are flat colour made here: a 95 MP PNG of one grey compresses to ~100 KB.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.vigil_cli import records, run_hash
from tests.fingerprint.test_bad_input import png_claiming
from vigil.fingerprint import decode
from vigil.fingerprint.errors import FailureReason, FingerprintError
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_bytes

WIDTH, HEIGHT = 10_000, 9_500  # 95 MP: over Pillow's 89.5 MP, under Vigil's default 100 MP


@pytest.fixture(autouse=True)
def _pillow_limit_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow's limit is process-wide; put back what it was so other tests see the default."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)


@pytest.fixture(scope="module")
def picture_95mp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("large") / "flat-95mp.png"
    Image.new("L", (WIDTH, HEIGHT), 128).save(path)
    assert path.stat().st_size < 1_000_000
    yield path


def test_a_95_megapixel_png_hashes_under_the_default_limit(picture_95mp: Path) -> None:
    result = run_hash(picture_95mp, "--no-variants", "-w", "1")
    assert result.exit_code == 0, result.stdout
    (row,) = records(result.stdout)
    assert row["error"] is None, row
    assert (row["width"], row["height"]) == (WIDTH, HEIGHT)
    assert row["pdq"] is not None and len(row["pdq"]) == 64


def test_max_pixels_below_the_picture_refuses_it(picture_95mp: Path) -> None:
    result = run_hash(picture_95mp, "--no-variants", "-w", "1", "--max-pixels", "90000000")
    assert result.exit_code == 1
    (row,) = records(result.stdout)
    assert row["error_reason"] == "too_many_pixels"
    assert row["pdq"] is None
    assert row["sha256"] is not None  # the bytes were read: the digests are there


def test_a_limit_above_twice_pillows_is_honoured() -> None:
    """Over 179 MP Pillow raises instead of warning; a configured 250 MP still opens 200 MP
    (header only: nothing is decoded here)."""
    header = png_claiming(20_000, 10_000)
    with pytest.raises(FingerprintError) as refused:
        decode.open_image(header)
    assert refused.value.reason is FailureReason.TOO_MANY_PIXELS
    with decode.open_image(header, 250_000_000) as image:
        assert image.size == (20_000, 10_000)


def test_a_larger_limit_used_once_does_not_loosen_a_smaller_one() -> None:
    header = png_claiming(WIDTH, HEIGHT)
    decode.open_image(header, 200_000_000).close()
    with pytest.raises(FingerprintError) as refused:
        decode.open_image(header, 90_000_000)
    assert refused.value.reason is FailureReason.TOO_MANY_PIXELS


def test_uploads_follow_the_same_limit(picture_95mp: Path) -> None:
    """The service fingerprints uploads in memory: same limit, same outcome."""
    data = picture_95mp.read_bytes()
    options = FingerprintOptions(variants=False)
    assert fingerprint_bytes(data, options).ok
    refused = fingerprint_bytes(data, FingerprintOptions(variants=False, max_pixels=90_000_000))
    assert refused.error_reason == "too_many_pixels"
