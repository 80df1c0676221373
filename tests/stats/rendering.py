"""Looking at rendered output: decoding PNGs and PDF pages and checking they show something."""

from __future__ import annotations

import io

import pypdfium2
from PIL import Image, ImageStat

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image(data: bytes) -> Image.Image:
    assert data.startswith(PNG_SIGNATURE)
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def assert_not_blank(picture: Image.Image, minimum_variance: float = 50.0) -> None:
    """A blank (single-colour) image has zero variance; a chart or a page of text has lots."""
    variance = ImageStat.Stat(picture.convert("L")).var[0]
    assert variance > minimum_variance, f"looks blank (pixel variance {variance:.1f})"


def pdf_pages(data: bytes) -> list[tuple[Image.Image, str]]:
    """Each page rendered to an image, with its extracted text."""
    document = pypdfium2.PdfDocument(data)
    try:
        pages = []
        for page in document:
            text_page = page.get_textpage()
            pages.append((page.render(scale=1).to_pil(), text_page.get_text_range()))
            text_page.close()
            page.close()
        return pages
    finally:
        document.close()


def flat(text: str) -> str:
    """Text with line breaks and repeated spaces folded: PDF text comes back wrapped."""
    return " ".join(text.split())
