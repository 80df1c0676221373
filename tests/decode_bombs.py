"""Decode bombs made in code: tiny files that decode to huge pictures (issue 14).

Both are flat, benign content: a 16-bit PNG of one colour, and a GIF whose large canvas is
drawn one pixel per frame. Their bytes stay small because the pixels are all alike.
"""

from __future__ import annotations

import struct
import zlib

BOMB_SIDE = 9_400  # 88.4 MP: under the 100 MP pixel limit, like the campaign's files
GIF_FRAMES = 113


def png16(width: int = BOMB_SIDE, height: int = BOMB_SIDE, *, channels: int = 3) -> bytes:
    """A 16-bit PNG (RGB by default, grey with ``channels=1``) of one dark colour."""
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    row = b"\x00" + bytes(width * channels * 2)  # filter byte, then the samples
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def gif_canvas(
    width: int = BOMB_SIDE, height: int = BOMB_SIDE, frames: int = GIF_FRAMES, delay_cs: int = 10
) -> bytes:
    """An animated GIF: a ``width`` x ``height`` canvas, ``frames`` frames of one pixel each
    (alternately black and white, so none is a duplicate of the last)."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # global table of 2 colours
    palette = b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    parts = [b"GIF89a", screen, palette, loop]
    for index in range(frames):
        control = b"\x21\xf9\x04" + struct.pack("<BHB", 0x04, delay_cs, 0) + b"\x00"
        descriptor = b"\x2c" + struct.pack("<HHHHB", index % width, 0, 1, 1, 0)
        parts += [control, descriptor, b"\x02", _one_pixel_lzw(index % 2), b"\x00"]
    parts.append(b"\x3b")
    return b"".join(parts)


def _one_pixel_lzw(colour: int) -> bytes:
    """LZW data (minimum code size 2, so 3-bit codes) for one pixel: clear, colour, end."""
    bits = 4 | (colour << 3) | (5 << 6)
    return b"\x02" + struct.pack("<H", bits)
