"""What the console sends beside revealed media and after a recorded view: shared by the
case screen (pages/review_media.py) and the clearinghouse screen (pages/intake.py), so
both pages' script (static/protected_media.js) reads one shape."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response

from vigil.core.settings import ReviewSettings
from vigil.review.exposure import Exposure
from vigil.review.rendering.options import REFERENCE_SIDE
from vigil.review.rendering.still import STRONG_FACTOR


def viewed_answer(
    reveals: int, exposure: Exposure | None, *, case_reveals: int | None = None
) -> Response:
    """The counters a page shows after a recorded view, so that they all agree."""
    return JSONResponse(
        {
            "reveals": reveals,
            "case_reveals": case_reveals,
            "today_reveals": exposure.reveals if exposure else None,
            "warning": (exposure.warning if exposure else None) or "",
        },
        headers={"Cache-Control": "no-store"},
    )


def handed_out_headers(media_type: str, check: str, settings: ReviewSettings) -> dict[str, str]:
    """What the browser needs beside the bytes: how to show them, the one-time check that
    records the view, when to blur them again, and how strongly a video playing protected
    is blurred. Shared with the clearinghouse screen."""
    return {
        "Cache-Control": "no-store",
        "Content-Disposition": "inline",
        "X-Vigil-Media-Type": media_type,
        "X-Vigil-View-Check": check,
        "X-Vigil-Reveal-Idle": str(settings.reveal_idle_seconds),
        "X-Vigil-Protected-Blur": f"{protected_playback_blur(settings):.4f}",
    }


def protected_playback_blur(settings: ReviewSettings) -> float:
    """The blur of a video playing protected, as a fraction of the longer side it is shown
    at: the default still protection's (strong, grayscale) blur, scaled the same way, so a
    playing frame is as unrecognisable as a frame of the contact sheet. A browser filter
    cannot pixelate, so this holds whatever protection the reviewer picked for stills."""
    return settings.blur_radius * STRONG_FACTOR / REFERENCE_SIDE
