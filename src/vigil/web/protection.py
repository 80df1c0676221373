"""The reviewer's choice of protective rendering for this browser session (a cookie: it
says how to blur, nothing about anyone), and the options it maps to."""

from __future__ import annotations

from fastapi import Request, Response

from vigil.core.settings import ReviewSettings
from vigil.review.rendering import Protection, RenderOptions

VIEW_COOKIE = "vigil_view"
CHOICES = {
    Protection.GRAYSCALE_BLUR: "Blurred, grayscale (default)",
    Protection.BLUR_STRONG: "Strong blur",
    Protection.BLUR: "Blur",
    Protection.PIXELATE: "Pixelated",
    Protection.FINGERPRINT_ONLY: "Fingerprint only",
}


def protection_choice(request: Request) -> Protection:
    raw = request.query_params.get("view") or request.cookies.get(VIEW_COOKIE, "")
    try:
        return Protection(raw)
    except ValueError:
        return Protection.GRAYSCALE_BLUR


def render_options(request: Request, settings: ReviewSettings) -> RenderOptions:
    return RenderOptions(
        protection=protection_choice(request),
        blur_radius=settings.blur_radius,
        max_side=settings.preview_pixels,
    )


def remember_choice(response: Response, protection: Protection) -> None:
    """For the rest of the browser session (no max-age): the next case opens the same way."""
    response.set_cookie(VIEW_COOKIE, protection.value, httponly=True, samesite="strict", path="/")
