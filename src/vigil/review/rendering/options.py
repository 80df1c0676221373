"""What a protective rendering should look like, and why one could not be made."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vigil.fingerprint.decode import DEFAULT_MAX_PIXELS
from vigil.fingerprint.errors import FailureReason

# Blur radii and pixel blocks are given for a picture whose longer side is this long and
# scaled with the reduced picture, so a small input is as unrecognisable as a large one.
REFERENCE_SIDE = 320
MIN_SIDE, MAX_SIDE = 16, 1024
MAX_BLUR_RADIUS = 200
MAX_PIXEL_BLOCK = 256


class Protection(StrEnum):
    BLUR = "blur"
    BLUR_STRONG = "blur_strong"
    GRAYSCALE_BLUR = "grayscale_blur"  # the default: strongly blurred, grayscale, reduced
    PIXELATE = "pixelate"
    FINGERPRINT_ONLY = "fingerprint_only"  # the PDQ hash drawn as a grid: nothing of the media


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """A reviewer's choice of protection; every field is bounded, as it comes from a session."""

    protection: Protection = Protection.GRAYSCALE_BLUR
    blur_radius: float = 24  # Gaussian radius at REFERENCE_SIDE; the strong kinds double it
    max_side: int = 320  # longer side of the rendering (of each tile in a contact sheet)
    pixel_block: int = 24  # block size at REFERENCE_SIDE
    max_pixels: int = DEFAULT_MAX_PIXELS  # refuse to decode media larger than this

    def __post_init__(self) -> None:
        object.__setattr__(self, "protection", Protection(self.protection))
        if not 0 < self.blur_radius <= MAX_BLUR_RADIUS:
            raise ValueError(f"blur_radius must be in (0, {MAX_BLUR_RADIUS}]")
        if not MIN_SIDE <= self.max_side <= MAX_SIDE:
            raise ValueError(f"max_side must be in [{MIN_SIDE}, {MAX_SIDE}]")
        if not 2 <= self.pixel_block <= MAX_PIXEL_BLOCK:
            raise ValueError(f"pixel_block must be in [2, {MAX_PIXEL_BLOCK}]")
        if self.max_pixels < 1:
            raise ValueError("max_pixels must be positive")


class RenderError(ValueError):
    """Media that cannot be rendered; ``reason`` is a stable code, never the media itself."""

    def __init__(self, reason: FailureReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
