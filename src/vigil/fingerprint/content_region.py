"""Find a picture embedded in app chrome: a screenshot's bars, toolbars, captions, bubbles.

borders.py trims frames of one colour. A screenshot from an app is framed by many:
a status bar with a clock, a coloured toolbar with a title, text above and below
the picture, a message bubble around it, a navigation bar with icons. What they
share is that every line of chrome is *flat*: most of it is one colour (its
background), and what is not is sparse, high-contrast ink (text, icons). A line
through a photograph is not: its grey levels spread over a continuous range.

So each row (then each column, within the rows kept) is classified by the share of
its pixels near its own most common grey level. The picture is the longest run of
non-flat lines; rows and columns are cut in turn until nothing changes. Each edge
is then placed at full resolution, where the picture's first line follows a flat
line. A candidate is kept only when it looks like a picture in chrome: big enough,
of sane proportions, mostly non-flat inside, with every cut edge sharp and with text
or icons somewhere in what was cut away (a single-colour frame is borders.py's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from vigil.fingerprint.borders import ContentBox

WORK_SIDE = 256  # lines are classified on a block-averaged copy at most this long
LEVELS = 256
BIN_WIDTH = 1  # grey levels per histogram bin; a line's colour is its peak of 3 bins
FLAT_SHARE = 0.6  # a line this much in its own colour is chrome (text covers under 40%)
EDGE_FLAT_SHARE = 0.85  # the line just outside a cut edge: a bar, a margin, a bubble
INK_CONTRAST = 48.0  # grey levels between a bar's background and its text or icons
INK_BAND = 0.1  # of the height: where a status, tool or navigation bar sits
INK_SHARE = 0.01  # of a flat line, for it to carry text or icons
RINGING_LINES = 7  # JPEG ringing stays inside the 8x8 block holding an edge
RINGING_TOLERANCE = 12.0
RINGING_SHARE = 0.7
PALETTE_BAND = 0.1  # of a side: where the chrome's colours are read
PALETTE_TOLERANCE = 2.0  # grey levels between a chrome colour and a line's colour
# Edges placed at a clear step from a flat line; the others stay where the work copy
# put them (a picture whose own margin is nearly flat, a dark sky, blurs the step).
MIN_SHARP_EDGES = 3
INWARD_SLACK = 2  # luma lines: a step this far outside the guess still counts as inside
OUTWARD_SHARE = 0.05  # of a side: how far past the work copy's edge a picture may reach
MAX_GAP = 1  # flat work lines inside a picture (a thin rule, a flat band) are bridged
MIN_SIDE = 32  # luma pixels: smaller images hold no screenshot worth cutting
MIN_REGION_SIDE = 24  # luma pixels on each side of a kept region
MIN_REGION_AREA = 0.06  # of the image
MIN_REGION_SHARE = 0.1  # of each side
MAX_ASPECT = 5.0
MIN_CUT_AREA = 0.15  # of the image: a status bar and a navigation bar alone are ~8%
MAX_FLAT_INSIDE = 0.25  # share of a region's lines that may be flat
MAX_PASSES = 3
MAX_CANDIDATES = 2  # a chat can show two pictures; more is a collage or a grid
MIN_SECOND_RUN = 0.5  # a second candidate's run, against the longest

Luma = np.ndarray
Lines = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class _Work:
    """The block-averaged copy lines are classified on, and its block size."""

    pixels: Lines
    block: int


def content_regions(luma: Luma) -> tuple[ContentBox, ...]:
    """Boxes (in luma pixels) of pictures embedded in app chrome; empty when there are none."""
    array = np.asarray(luma)
    if array.ndim != 2 or min(array.shape) < MIN_SIDE:
        return ()
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        return ()
    if not _bar_with_ink(array):
        return ()
    work = _reduce(array)
    if not np.isfinite(work.pixels).all() or not _any_chrome(work.pixels):
        return ()
    palette = _palette(work.pixels)
    if palette.size == 0:
        return ()
    boxes = []
    for run in _runs(work.pixels, _Span(0, work.pixels.shape[1]), palette)[:MAX_CANDIDATES]:
        box = _settle(work.pixels, run, palette)
        if box is None:
            continue
        placed = _place(array, _scaled(box, work.block, array.shape))
        if placed is not None and _plausible(array, placed, palette):
            boxes.append(placed)
    return tuple(dict.fromkeys(boxes))


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    stop: int

    @property
    def length(self) -> int:
        return self.stop - self.start


def _block(luma: Luma) -> int:
    return max(1, -(-max(luma.shape) // WORK_SIDE))


def _reduce(luma: Luma) -> _Work:
    """Block means over square blocks, so the longer side is at most WORK_SIDE."""
    block = _block(luma)
    return _Work(_reduce_by(luma, block), block)


def _reduce_by(luma: Luma, block: int) -> Lines:
    rows, cols = (side // block for side in luma.shape)
    trimmed = np.asarray(luma[: rows * block, : cols * block])
    # Pillow's reduce gives the same float means as NumPy's reshape-and-mean at a
    # seventh of the cost (0.5 against 3.7 ms for a 1080p luma): this runs on every photo.
    if trimmed.dtype == np.uint8:
        image = Image.fromarray(np.ascontiguousarray(trimmed), "L").convert("F")
    else:
        image = Image.fromarray(np.ascontiguousarray(trimmed, dtype=np.float32), "F")
    reduced = image.reduce(block) if block > 1 else image
    return np.asarray(reduced, dtype=np.float32).reshape(rows, cols)


def _bar_with_ink(luma: Luma) -> bool:
    """Whether a flat row near the top or bottom carries text or icons (a status bar's
    clock, a toolbar's title, a navigation bar's buttons): the cheap first look, which
    most photographs fail, on block means of those two bands only."""
    block = _block(luma)
    band = max(1, int(len(luma) * INK_BAND) // block) * block
    bands = (luma[:band], luma[len(luma) - band :])
    return any(_inked(_reduce_by(lines, block)) for lines in bands)


def _inked(lines: Lines) -> bool:
    if lines.size == 0 or not np.isfinite(lines).all():
        return False
    shares, colours = _flat_shares(lines)
    flat = shares >= FLAT_SHARE
    if not flat.any():
        return False
    ink = np.abs(lines[flat] - colours[flat, None].astype(np.float32)) >= INK_CONTRAST
    return bool((ink.mean(axis=1) >= INK_SHARE).any())


def _any_chrome(work: Lines) -> bool:
    """Whether enough rows or columns are flat for a cut to be worth looking for: most
    pictures have none, and are done after this one look."""
    rows, cols = work.shape
    flat_rows = np.count_nonzero(_flat_shares(work)[0] >= FLAT_SHARE)
    flat_cols = np.count_nonzero(_flat_shares(work.T)[0] >= FLAT_SHARE)
    return flat_rows * cols + flat_cols * rows >= MIN_CUT_AREA * rows * cols


def _palette(work: Lines) -> npt.NDArray[np.float64]:
    """The chrome's colours: those of flat lines near the screen's edges (status and
    navigation bars, toolbars, the app's background). A picture's own flat areas
    (a night sky, flat artwork) mostly differ from them, and stay picture."""
    rows, cols = work.shape
    band_rows = max(1, int(rows * PALETTE_BAND))
    band_cols = max(1, int(cols * PALETTE_BAND))
    colours = []
    for lines in (
        work[:band_rows],
        work[-band_rows:],
        work[:, :band_cols].T,
        work[:, -band_cols:].T,
    ):
        shares, found = _flat_shares(lines)
        colours.append(found[shares >= FLAT_SHARE])
    return np.unique(np.concatenate(colours))


def _chrome_lines(lines: Lines, palette: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Lines mostly in one chrome colour: bars, margins, text on the background."""
    shares, colours = _flat_shares(lines)
    near = np.abs(colours[:, None] - palette[None, :]).min(axis=1) <= PALETTE_TOLERANCE
    return (shares >= FLAT_SHARE) & near


def _flat_shares(lines: Lines) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per line: the share near its own colour (within a bin either side), and that colour."""
    count, width = lines.shape
    bins = LEVELS // BIN_WIDTH
    index = np.clip(lines / BIN_WIDTH, 0, bins - 1).astype(np.intp)
    index += (np.arange(count) * bins)[:, None]
    histogram = np.bincount(index.ravel(), minlength=count * bins).reshape(count, bins)
    padded = np.pad(histogram, ((0, 0), (1, 1)))
    near = padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]
    peak = np.argmax(near, axis=1)
    return near[np.arange(count), peak] / width, (peak + 0.5) * BIN_WIDTH


def _runs(lines: Lines, across: _Span, palette: npt.NDArray[np.float64]) -> list[_Span]:
    """Runs of lines that are not chrome (short chrome gaps bridged), longest first."""
    content = ~_chrome_lines(lines[:, across.start : across.stop], palette)
    # Bridge flat gaps of up to MAX_GAP lines between content on both sides.
    for gap in range(1, MAX_GAP + 1):
        bridged = content[: -gap - 1] & content[gap + 1 :]
        for offset in range(1, gap + 1):
            content[offset : offset + len(bridged)] |= bridged
    edges = np.flatnonzero(np.diff(np.concatenate([[0], content.astype(np.int8), [0]])))
    runs = [_Span(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return sorted(runs, key=lambda run: -run.length)


def _settle(work: Lines, rows: _Span, palette: npt.NDArray[np.float64]) -> ContentBox | None:
    """Cut columns within ``rows``, then rows within the columns kept, until stable."""
    box = ContentBox(rows.start, 0, rows.stop, work.shape[1])
    for _ in range(MAX_PASSES):
        region = work[box.top : box.bottom]
        columns = _runs(region.T, _Span(0, box.height), palette)
        if not columns:
            return None
        column = columns[0]
        kept = work[:, column.start : column.stop]
        row_runs = [
            run
            for run in _runs(kept, _Span(0, column.length), palette)
            if run.start < box.bottom and run.stop > box.top
        ]
        if not row_runs:
            return None
        row = row_runs[0]
        settled = ContentBox(row.start, column.start, row.stop, column.stop)
        if settled == box:
            break
        box = settled
    return box


def _scaled(box: ContentBox, block: int, shape: tuple[int, ...]) -> ContentBox:
    rows, cols = shape
    return ContentBox(
        box.top * block,
        box.left * block,
        rows if box.bottom * block >= rows - block else box.bottom * block,
        cols if box.right * block >= cols - block else box.right * block,
    )


def _place(luma: Luma, box: ContentBox) -> ContentBox | None:
    """Each cut edge moved, at full resolution, to where the picture's first line follows a
    flat one; None when some cut edge has no such step (a texture fading out, not a frame)."""
    top = _edge(luma, box.top, (box.left, box.right), inward=1)
    bottom = _edge(luma, box.bottom - 1, (box.left, box.right), inward=-1)
    left = _edge(luma.T, box.left, (box.top, box.bottom), inward=1)
    right = _edge(luma.T, box.right - 1, (box.top, box.bottom), inward=-1)
    steps = sum(edge is not None for edge in (top, bottom, left, right))
    if steps < MIN_SHARP_EDGES:
        return None
    placed = ContentBox(
        box.top if top is None else top,
        box.left if left is None else left,
        box.bottom if bottom is None else bottom + 1,
        box.right if right is None else right + 1,
    )
    if placed.height < MIN_REGION_SIDE or placed.width < MIN_REGION_SIDE:
        return None
    return placed


def _edge(luma: Luma, line: int, across: tuple[int, int], inward: int) -> int | None:
    """The picture's outermost line near ``line`` (the work copy's guess), or None.

    An edge at the image's own border was not cut and stays. Otherwise lines on both
    sides of the guess are read at full resolution (the work copy can take a picture's
    nearly flat margin for chrome, or a bubble's time stamp for picture): the edge is
    the first line that is not flat right after one that is; of several such steps
    (a post's header above its picture), the one nearest the guess.
    """
    length = luma.shape[0]
    if (inward == 1 and line == 0) or (inward == -1 and line == length - 1):
        return line
    reach = max(4, 2 * -(-max(luma.shape) // WORK_SIDE)) + int(OUTWARD_SHARE * length)
    outer = int(np.clip(line - inward * reach, 0, length - 1))
    inner = int(np.clip(line + inward * reach, 0, length - 1))
    order = np.arange(outer, inner + inward, inward)
    window = np.asarray(luma[order, across[0] : across[1]], dtype=np.float32)
    shares, colours = _flat_shares(window)
    flat = shares >= EDGE_FLAT_SHARE
    starts = np.flatnonzero(~flat[1:] & flat[:-1]) + 1
    if starts.size == 0:
        return None
    # The work copy's box is mostly too large, not too small (a bubble's colour strip
    # reads as picture): steps inside the guess come first, the nearest of them.
    offsets = (order[starts] - line) * inward
    inside = offsets >= -INWARD_SLACK
    chosen = starts[inside] if inside.any() else starts
    first = int(chosen[np.argmin(np.abs(order[chosen] - line))])
    return int(order[first + _ringing(window[first:], float(colours[first - 1]))])


def _ringing(lines: Lines, colour: float) -> int:
    """JPEG ringing: lines past a flat one, inside its 8x8 blocks, that stay near its
    colour; a picture's first line is far from it in most places."""
    near = np.abs(lines[:RINGING_LINES] - np.float32(colour)) <= RINGING_TOLERANCE
    ringing = near.mean(axis=1) >= RINGING_SHARE
    return int(np.argmin(ringing)) if not ringing.all() else 0


def _plausible(luma: Luma, box: ContentBox, palette: npt.NDArray[np.float64]) -> bool:
    """Big enough, sane proportions, a picture inside, chrome with text or icons outside."""
    rows, cols = luma.shape
    if box.height < MIN_REGION_SHARE * rows or box.width < MIN_REGION_SHARE * cols:
        return False
    if box.height * box.width < MIN_REGION_AREA * rows * cols:
        return False
    if max(box.height / box.width, box.width / box.height) > MAX_ASPECT:
        return False
    if box.height * box.width > (1 - MIN_CUT_AREA) * rows * cols:
        return False
    inside = np.asarray(luma[box.top : box.bottom, box.left : box.right], dtype=np.float32)
    step = max(1, -(-max(inside.shape) // WORK_SIDE))
    inside = inside[::step, ::step]
    for lines in (inside, inside.T):
        if np.mean(_chrome_lines(lines, palette)) > MAX_FLAT_INSIDE:
            return False
    return _has_ink(luma, box)


def _has_ink(luma: Luma, box: ContentBox) -> bool:
    """Whether a bar at the top or bottom of the screen, above or below the picture,
    carries text or icons: a status bar's clock, a toolbar's title, a navigation bar's
    buttons. Flat artwork with a name written in it has no such bar at its edge."""
    step = max(1, -(-max(luma.shape) // WORK_SIDE))
    sample = np.asarray(luma[::step, ::step], dtype=np.float32)
    band = max(1, int(len(sample) * INK_BAND))
    top, bottom = min(band, box.top // step), max(len(sample) - band, -(-box.bottom // step))
    for lines in (sample[:top], sample[bottom:]):
        if lines.shape[0] == 0 or lines.shape[1] == 0:
            continue
        shares, colours = _flat_shares(lines)
        flat = shares >= FLAT_SHARE
        ink = np.abs(lines - colours[:, None].astype(np.float32)) >= INK_CONTRAST
        if np.any(flat & (ink.mean(axis=1) >= INK_SHARE)):
            return True
    return False
