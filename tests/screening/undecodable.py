"""Files whose bytes can be read but that give no picture: a corpus JPEG cut before its
pixels, a PNG whose header claims far more pixels than the limit allows, and a file that is
not media at all."""

from __future__ import annotations

from pathlib import Path

from tests.fingerprint.test_bad_input import png_claiming


def undecodable_files(picture: Path, folder: Path) -> dict[str, Path]:
    """{error reason the fingerprint gives: file}."""
    folder.mkdir(parents=True, exist_ok=True)
    truncated = folder / "truncated.jpg"
    # Cut before the first scan: its headers and not one pixel (a file cut later hashes
    # what arrived, flagged partial).
    data = picture.read_bytes()
    truncated.write_bytes(data[: data.index(b"\xff\xda")])
    oversized = folder / "oversized.png"
    oversized.write_bytes(png_claiming(30_000, 30_000))
    text = folder / "notes.txt"
    text.write_text("not a picture\n")
    return {"corrupt_media": truncated, "too_many_pixels": oversized, "not_media": text}
