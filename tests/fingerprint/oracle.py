"""The reference PDQ (Meta's C++ via the `pdqhash` package), used only as a test oracle."""

from __future__ import annotations

import numpy as np
import pdqhash
from PIL import Image


def reference_pdq(image: Image.Image) -> tuple[str, int]:
    """`pdqhash.compute` on the fully decoded RGB image, as hex like every hash list."""
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB")))
    bits, quality = pdqhash.compute(rgb)
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)
