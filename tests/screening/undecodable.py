"""Files whose bytes can be read but that give no picture: a truncated corpus JPEG, a PNG whose
header claims far more pixels than the limit allows, and a file that is not media at all."""

from __future__ import annotations

from pathlib import Path

from tests.fingerprint.test_bad_input import png_claiming

KEPT_BYTES = 4_000  # of the JPEG: its headers and the first scan lines, not the whole picture


def undecodable_files(picture: Path, folder: Path) -> dict[str, Path]:
    """{error reason the fingerprint gives: file}."""
    folder.mkdir(parents=True, exist_ok=True)
    truncated = folder / "truncated.jpg"
    truncated.write_bytes(picture.read_bytes()[:KEPT_BYTES])
    oversized = folder / "oversized.png"
    oversized.write_bytes(png_claiming(30_000, 30_000))
    text = folder / "notes.txt"
    text.write_text("not a picture\n")
    return {"corrupt_media": truncated, "too_many_pixels": oversized, "not_media": text}
