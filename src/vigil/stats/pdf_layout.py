"""Laying out a report on A4 pages with matplotlib: text that wraps to the measured width,
tables whose columns are as wide as their content (cell text wraps when the page is too
narrow, it is never cut), blocks that follow one another down the page and go to the next
one only when they do not fit, and "Page N of M" at the foot of every page.

All positions are in points from the bottom-left corner of the page; matplotlib's figure
coordinates are computed at the last moment. Text is drawn with parse_math off: a label is
printed as written, whatever it contains.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PAGE_WIDTH, PAGE_HEIGHT = 595.3, 841.9  # A4 in points
MARGIN = 56.0
TOP, BOTTOM = PAGE_HEIGHT - 56.0, 64.0  # the foot line sits below BOTTOM
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
LEADING = 1.35  # line height as a multiple of the font size
CELL_PAD_X, CELL_PAD_Y = 5.0, 3.0
TABLE_SIZE = 8.5
FIT_TOLERANCE = 0.01  # points: a column as wide as its text must hold it despite rounding
RULE_COLOUR, HEADER_FILL, TEXT_COLOUR = "#9aa5b1", "#e4e8ee", "#1a202c"


@lru_cache(maxsize=4096)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width of ``text`` in points, as matplotlib will draw it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return float(width)


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Words on lines no wider than ``width``; a word wider than a line is split by letters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, size, bold) <= width + FIT_TOLERANCE:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for piece in _pieces(word, width, size, bold):
                if line:
                    lines.append(line)
                line = piece
        lines.append(line)
    return lines or [""]


def _pieces(word: str, width: float, size: float, bold: bool) -> list[str]:
    pieces, piece = [], ""
    for letter in word:
        if piece and text_width(piece + letter, size, bold) > width + FIT_TOLERANCE:
            pieces.append(piece)
            piece = ""
        piece += letter
    return [*pieces, piece]


@dataclass(frozen=True)
class Columns:
    widths: list[float]
    numeric: list[bool]


def _is_number(cell: str) -> bool:
    stripped = cell.replace(",", "").replace(".", "").replace("%", "").replace("—", "")
    stripped = stripped.replace(" min", "").replace(" h", "").replace(" days", "").strip()
    return stripped.isdigit() or cell.strip() == "—"


def columns(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Columns:
    """Widths from content: each column as wide as its widest cell; when the table is wider
    than the page, numeric columns keep their width and the text columns share the rest."""
    count = len(headers)
    numeric = [bool(rows) and all(_is_number(row[i]) for row in rows) for i in range(count)]
    natural = [
        max(
            [text_width(headers[i], TABLE_SIZE, bold=True)]
            + [text_width(row[i], TABLE_SIZE) for row in rows]
        )
        + 2 * CELL_PAD_X
        for i in range(count)
    ]
    if sum(natural) <= CONTENT_WIDTH:
        return Columns(natural, numeric)
    # A numeric column's header may wrap between its words, never inside one.
    fixed = [
        max(
            [text_width(row[i], TABLE_SIZE) for row in rows]
            + [text_width(word, TABLE_SIZE, bold=True) for word in headers[i].split()]
        )
        + 2 * CELL_PAD_X
        if numeric[i]
        else 0.0
        for i in range(count)
    ]
    left = CONTENT_WIDTH - sum(fixed)
    text_total = sum(natural[i] for i in range(count) if not numeric[i]) or 1.0
    widths = [
        fixed[i] if numeric[i] else max(48.0, left * natural[i] / text_total) for i in range(count)
    ]
    return Columns(widths, numeric)


class PageFlow:
    """Blocks down A4 pages, a new page when the next block does not fit."""

    def __init__(self, running_title: str) -> None:
        self.running_title = running_title
        self.pages: list[Figure] = []
        self.y = TOP
        self.new_page()

    # --- pages ---------------------------------------------------------------------------

    def new_page(self) -> None:
        from matplotlib.figure import Figure

        self.pages.append(Figure(figsize=(PAGE_WIDTH / 72, PAGE_HEIGHT / 72)))
        self.y = TOP

    @property
    def page(self) -> Figure:
        return self.pages[-1]

    def room(self) -> float:
        return self.y - BOTTOM

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` points fit on this one (an empty page takes
        anything: a block taller than a page is split by whoever draws it)."""
        if height > self.room() and self.y < TOP:
            self.new_page()

    def finish(self) -> list[Figure]:
        """Every page with its foot: the report's title and "Page N of M"."""
        total = len(self.pages)
        for number, page in enumerate(self.pages, start=1):
            foot = BOTTOM - 30
            self._text(page, MARGIN, foot, self.running_title, 8, colour="#4a5568")
            self._text(page, PAGE_WIDTH - MARGIN, foot, f"Page {number} of {total}", 8, ha="right")
        return self.pages

    # --- text ----------------------------------------------------------------------------

    def _text(
        self,
        page: Figure,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        bold: bool = False,
        colour: str = TEXT_COLOUR,
        ha: str = "left",
        style: str = "normal",
    ) -> None:
        page.text(
            x / PAGE_WIDTH,
            y / PAGE_HEIGHT,
            text,
            fontsize=size,
            weight="bold" if bold else "normal",
            color=colour,
            ha=ha,
            va="top",
            style=style,
            parse_math=False,
        )

    def heading(self, text: str, size: float = 14, *, keep_with: float = 60.0) -> None:
        """A heading, kept on the same page as the first ``keep_with`` points after it."""
        lines = wrap(text, CONTENT_WIDTH, size, bold=True)
        height = len(lines) * size * LEADING + size * 0.5
        self.need(height + keep_with)
        if self.y < TOP:
            self.y -= size * 0.6
        for line in lines:
            self._text(self.page, MARGIN, self.y, line, size, bold=True)
            self.y -= size * LEADING
        self.y -= size * 0.3

    def paragraph(
        self, text: str, size: float = 10, *, indent: float = 0.0, style: str = "normal"
    ) -> None:
        width = CONTENT_WIDTH - 2 * indent
        for line in wrap(text, width, size):
            self.need(size * LEADING)
            self._text(self.page, MARGIN + indent, self.y, line, size, style=style)
            self.y -= size * LEADING
        self.y -= size * 0.6

    def boxed(self, title: str, paragraphs: Sequence[str], colour: str) -> None:
        """A framed note (the caveat): title and paragraphs inside a coloured border."""
        from matplotlib.patches import Rectangle

        pad = 10.0
        top = self.y
        self.y -= pad
        inner = CONTENT_WIDTH - 2 * pad
        for line in wrap(title, inner, 12, bold=True):
            self._text(self.page, MARGIN + pad, self.y, line, 12, bold=True)
            self.y -= 12 * LEADING
        self.y -= 4
        for text in paragraphs:
            for line in wrap(text, inner, 10):
                self._text(self.page, MARGIN + pad, self.y, line, 10)
                self.y -= 10 * LEADING
            self.y -= 6
        self.y -= pad - 6
        self.page.add_artist(
            Rectangle(
                (MARGIN / PAGE_WIDTH, self.y / PAGE_HEIGHT),
                CONTENT_WIDTH / PAGE_WIDTH,
                (top - self.y) / PAGE_HEIGHT,
                transform=self.page.transFigure,
                fill=False,
                linewidth=2.0,
                edgecolor=colour,
            )
        )
        self.y -= 14

    def pairs(self, rows: Sequence[tuple[str, str]], size: float = 11) -> None:
        """Label and value on one line each, the values aligned."""
        label_width = max((text_width(label, size) for label, _ in rows), default=0) + 16
        for label, value in rows:
            self.need(size * LEADING)
            self._text(self.page, MARGIN, self.y, label, size)
            self._text(self.page, MARGIN + label_width, self.y, value, size, bold=True)
            self.y -= size * LEADING
        self.y -= size * 0.6

    # --- a picture -----------------------------------------------------------------------

    def image(self, png: bytes, width_px: int, height_px: int) -> None:
        """A PNG across the content width, its aspect kept."""
        from matplotlib.image import imread

        height = CONTENT_WIDTH * height_px / width_px
        self.need(height + 6)
        axes = self.page.add_axes(
            (
                MARGIN / PAGE_WIDTH,
                (self.y - height) / PAGE_HEIGHT,
                CONTENT_WIDTH / PAGE_WIDTH,
                height / PAGE_HEIGHT,
            )
        )
        axes.imshow(imread(io.BytesIO(png), format="png"), interpolation="none")
        axes.axis("off")
        self.y -= height + 6

    # --- a table -------------------------------------------------------------------------

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], title: str) -> None:
        layout = columns(headers, rows)
        header_lines = self._wrapped(headers, layout, bold=True)
        body = [self._wrapped(row, layout) for row in rows]
        header_height = _height(header_lines)
        first = _height(body[0]) if body else 0.0
        self.need(header_height + first)
        self._header(header_lines, layout)
        for cells in body:
            height = _height(cells)
            if height > self.room():
                self.new_page()
                self._text(self.page, MARGIN, self.y, f"{title} (continued)", 9, style="italic")
                self.y -= 9 * LEADING
                self._header(header_lines, layout)
            self._row(cells, layout, height)
        self.y -= 10

    def _wrapped(
        self, cells: Sequence[str], layout: Columns, *, bold: bool = False
    ) -> list[list[str]]:
        return [
            wrap(cell, width - 2 * CELL_PAD_X, TABLE_SIZE, bold)
            for cell, width in zip(cells, layout.widths, strict=True)
        ]

    def _header(self, cells: list[list[str]], layout: Columns) -> None:
        from matplotlib.patches import Rectangle

        height = _height(cells)
        self.page.add_artist(
            Rectangle(
                (MARGIN / PAGE_WIDTH, (self.y - height) / PAGE_HEIGHT),
                sum(layout.widths) / PAGE_WIDTH,
                height / PAGE_HEIGHT,
                transform=self.page.transFigure,
                facecolor=HEADER_FILL,
                edgecolor="none",
            )
        )
        self._row(cells, layout, height, bold=True)

    def _row(
        self, cells: list[list[str]], layout: Columns, height: float, *, bold: bool = False
    ) -> None:
        x = MARGIN
        for lines, width, numeric in zip(cells, layout.widths, layout.numeric, strict=True):
            y = self.y - CELL_PAD_Y
            for line in lines:
                if numeric:
                    self._text(
                        self.page,
                        x + width - CELL_PAD_X,
                        y,
                        line,
                        TABLE_SIZE,
                        bold=bold,
                        ha="right",
                    )
                else:
                    self._text(self.page, x + CELL_PAD_X, y, line, TABLE_SIZE, bold=bold)
                y -= TABLE_SIZE * LEADING
            x += width
        self.y -= height
        self._rule(sum(layout.widths))

    def _rule(self, width: float) -> None:
        from matplotlib.lines import Line2D

        self.page.add_artist(
            Line2D(
                [MARGIN / PAGE_WIDTH, (MARGIN + width) / PAGE_WIDTH],
                [self.y / PAGE_HEIGHT] * 2,
                transform=self.page.transFigure,
                linewidth=0.5,
                color=RULE_COLOUR,
            )
        )


def _height(cells: list[list[str]]) -> float:
    lines = max((len(lines) for lines in cells), default=1)
    return lines * TABLE_SIZE * LEADING + 2 * CELL_PAD_Y


def save(pages: Sequence[Figure], metadata: dict[str, Any]) -> bytes:
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata=metadata) as pdf:
        for page in pages:
            pdf.savefig(page)
    return buffer.getvalue()
