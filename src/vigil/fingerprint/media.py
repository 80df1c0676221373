"""What kind of media a file is, decided by its leading bytes, never its name."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from vigil.fingerprint.errors import FailureReason, FingerprintError

SNIFF_BYTES = 512


class MediaKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    ANIMATION = "animation"  # animated GIF or WebP: photo container, hashed as video


_PHOTO_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"\xff\xd8\xff"),  # JPEG
    (0, b"\x89PNG\r\n\x1a\n"),
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (0, b"BM"),
    (0, b"II*\x00"),  # TIFF little-endian
    (0, b"MM\x00*"),  # TIFF big-endian
)

_HEIF_BRANDS = {
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"mif1",
    b"msf1",
    b"avif",
    b"avis",
}
_VIDEO_BRANDS_PREFIX = (
    b"isom",
    b"iso",
    b"mp4",
    b"avc1",
    b"M4V",
    b"qt  ",
    b"3gp",
    b"3g2",
    b"dash",
    b"f4v",
    b"mmp4",
    b"MSNV",
    b"M4A",
)


def sniff_bytes(head: bytes) -> MediaKind:
    """Classify by magic numbers; animation is refined later by the decoder."""
    if not head:
        raise FingerprintError(FailureReason.EMPTY, "the file is empty")
    for offset, magic in _PHOTO_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return MediaKind.PHOTO
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaKind.PHOTO
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return MediaKind.VIDEO
    if head[4:8] == b"ftyp":
        return _sniff_iso_brand(head)
    if head[:4] == b"\x1a\x45\xdf\xa3":  # Matroska / WebM
        return MediaKind.VIDEO
    if head[:3] == b"FLV" or _looks_like_ts(head):
        return MediaKind.VIDEO
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):  # MPEG program / elementary
        return MediaKind.VIDEO
    raise FingerprintError(FailureReason.NOT_MEDIA, "not a recognised image or video format")


def _sniff_iso_brand(head: bytes) -> MediaKind:
    brand = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(len(head), 64) - 3, 4)}
    plain_video = brand in (b"isom", b"mp41", b"mp42") or b"avc1" in compatible
    if brand in _HEIF_BRANDS or (not plain_video and compatible & _HEIF_BRANDS):
        return MediaKind.PHOTO
    if brand.startswith(_VIDEO_BRANDS_PREFIX) or brand:
        return MediaKind.VIDEO
    raise FingerprintError(FailureReason.NOT_MEDIA, "unknown ISO media brand")


def _looks_like_ts(head: bytes) -> bool:
    # MPEG-TS: 188-byte packets each starting with the 0x47 sync byte; three in a row.
    return len(head) > 376 and head[0] == head[188] == head[376] == 0x47


def read_head(path: Path) -> bytes:
    """The leading bytes :func:`sniff_bytes` decides by."""
    with path.open("rb") as stream:
        return stream.read(SNIFF_BYTES)
