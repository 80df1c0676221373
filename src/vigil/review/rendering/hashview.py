"""The fingerprint view: a PDQ hash drawn as a 16x16 grid of black and white cells.

It is made from the hash alone and shows nothing of the picture; a reviewer can compare
it with a list entry's grid without seeing the media.
"""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image

from vigil.fingerprint import pdq

GRID = 16  # 256 bits
MAX_SCALE = 64
_PDQ_HEX = re.compile(r"[0-9a-fA-F]{64}")


def fingerprint_image(pdq_hex: str, *, scale: int = 16) -> bytes:
    """A PNG of ``16 * scale`` pixels a side: the hex string's bits in reading order, row by
    row from the top left; a set bit is white."""
    if not isinstance(pdq_hex, str) or not _PDQ_HEX.fullmatch(pdq_hex):
        raise ValueError(f"a PDQ hash is {pdq.HEX_LENGTH} hex characters")
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be in [1, {MAX_SCALE}]")
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(pdq_hex), dtype=np.uint8))
    cells = (bits.reshape(GRID, GRID) * 255).astype(np.uint8)
    picture = Image.fromarray(cells, "L").resize(
        (GRID * scale, GRID * scale), Image.Resampling.NEAREST
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def no_fingerprint_image(*, scale: int = 16) -> bytes:
    """A plain grey tile the size of a fingerprint grid: what "fingerprint only" shows for
    a video or animation, which has frame hashes but no single picture hash to draw."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be in [1, {MAX_SCALE}]")
    buffer = io.BytesIO()
    Image.new("L", (GRID * scale, GRID * scale), 128).save(buffer, format="PNG")
    return buffer.getvalue()
