"""Find the picture inside padding, letterbox bars and phone-screenshot framing.

PDQ hashes the whole frame, so a picture re-shared with a solid border, black bars
or a phone's status and navigation bars hashes far from the original. Trimming the
frame and hashing what is left gives a query hash close to the original's.

Each side is scanned line by line from the edge inwards against the colour of its
outermost lines. A line is *uniform* when nearly all of it has that colour, and
*sparse* when most of it has (a status bar's clock, battery and signal icons, a
navigation bar's buttons). The frame is the leading stretch of uniform lines, taking
in short sparse runs only when a uniform run follows them; the picture starts at the
first line that is neither, past any JPEG ringing. A frame must end in a clear step
and keep one colour throughout, or it is a gradient or flat texture running on.
Rows are trimmed, then columns within the kept rows, and again until nothing
changes: a pillarboxed picture's rows are mostly bar colour and only the columns
reveal the bars, and frames can nest (a grey status bar over a black background).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

# Lines are judged on about this many evenly spaced samples (at most twice as many):
# a bar's text registers or not, either way the bar is frame; more samples cost
# time in proportion and decide nothing.
LINE_SAMPLES = 128
BOX_SAMPLES = 96  # per axis, for the share of frame colour left inside the box
# Grey levels a frame pixel may stray from the frame colour. Solid padding survives
# JPEG (even q50) and DCT-domain scaling exactly; video bars carry 1-2 levels of
# noise. Smooth gradients, skies and paper drift further over a side.
TOLERANCE = 2.0
UNIFORM_SHARE = 0.97  # what's left covers isolated JPEG ringing and specks
SPARSE_SHARE = 0.6  # a bar's text and icons cover well under 40% of its rows
MAX_BAR_SHARE = 0.08  # a status or navigation bar's icons span at most this of the side
EDGE_LINES = 2  # an outline or a ringing line at a frame's outer edge
RINGING_LINES = 8  # JPEG ringing stays inside the 8x8 block holding an edge
DRIFT_LINES = 16  # lines sampled across a frame to tell it from a gradient
MIN_STEP = 2 * TOLERANCE  # mean grey-level difference between a frame and its picture
MIN_TRIM_SHARE = 0.02  # smaller frames barely move the hash
# A fitted 16:9 picture keeps 26% of a 1080x2340 phone screen's height, so the
# floor must sit below that.
MIN_KEPT_SHARE = 0.2
MIN_KEPT_PIXELS = 8
# When most of the kept box still has the frame's colour, the "frame" was the
# picture's own flat background (paper, a plain wall): trimming would cut the picture.
MAX_FRAME_COLOUR_INSIDE = 0.6

# Nested frames (a padded picture in a screenshot, a grey status bar over a black
# background) take a pass each; three covers every framing seen in practice.
MAX_PASSES = 3
MIN_NESTED_CONTRAST = 16.0

UNIFORM, SPARSE, CONTENT = 2, 1, 0

Luma = npt.NDArray[np.floating] | npt.NDArray[np.integer]


class Side(StrEnum):
    TOP = "top"
    BOTTOM = "bottom"
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class ContentBox:
    """The picture's extent in luma pixels: rows [top, bottom), columns [left, right)."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    def full_shape(
        self, row_block: int, col_block: int, full_shape: tuple[int, int]
    ) -> tuple[int, int]:
        """The box's size at full resolution when each luma pixel averages a block.

        The image's last block may be partial, so the far edge is clipped to the image.
        """
        rows, cols = full_shape
        return (
            min(self.bottom * row_block, rows) - self.top * row_block,
            min(self.right * col_block, cols) - self.left * col_block,
        )


def content_boxes(luma: Luma) -> tuple[ContentBox, ...]:
    """The picture inside the outermost frame, then inside nested frames if that differs.

    Both are worth a query: a grey status bar over a black background is one frame
    in two colours, but a wallpaper's own flat margin inside padding is picture.
    """
    luma = _comparable(luma)
    if luma.ndim != 2 or min(luma.shape) < MIN_KEPT_PIXELS:
        return ()
    steps = _trim_steps(luma)
    verdicts: dict[int, bool] = {}

    def deepest(count: int) -> ContentBox | None:
        for index in reversed(range(count)):
            if index not in verdicts:
                verdicts[index] = _worth_trimming(luma, steps[index].box, steps[index].colours)
            if verdicts[index]:
                return steps[index].box
        return None

    before_nesting = next((i for i, step in enumerate(steps) if step.nested), len(steps))
    found = (deepest(before_nesting), deepest(len(steps)))
    return tuple(dict.fromkeys(box for box in found if box is not None))


def content_box(luma: Luma) -> ContentBox | None:
    """The picture inside a uniform or screenshot frame, or None when there is no frame.

    None also when the frame would be thin (under MIN_TRIM_SHARE on every side) or
    would leave too little (a textureless image mistaken for all frame).
    """
    boxes = content_boxes(luma)
    return boxes[-1] if boxes else None


@dataclass(frozen=True, slots=True)
class _Step:
    box: ContentBox
    colours: dict[Side, float]  # the frame colour of each side trimmed so far
    nested: bool  # whether a side has been trimmed of a second frame by now


def _trim_steps(luma: Luma) -> list[_Step]:
    """The box after each row and column trim, deepest last.

    Every step is kept: when the last cuts into a picture's own flat background (an
    object on a plain wall, inside a screenshot), an earlier one is the picture.
    """
    rows, cols = luma.shape
    box = ContentBox(0, 0, rows, cols)
    colours: dict[Side, float] = {}
    nested = False
    steps: list[_Step] = []
    for _ in range(MAX_PASSES):
        (top, bottom), again = _trim_axis(
            luma, (box.top, box.bottom), (box.left, box.right), (Side.TOP, Side.BOTTOM), colours
        )
        nested |= again
        steps.append(_Step(ContentBox(top, box.left, bottom, box.right), dict(colours), nested))
        (left, right), again = _trim_axis(
            luma.T, (box.left, box.right), (top, bottom), (Side.LEFT, Side.RIGHT), colours
        )
        nested |= again
        trimmed = ContentBox(top, left, bottom, right)
        steps.append(_Step(trimmed, dict(colours), nested))
        if trimmed == box or min(trimmed.height, trimmed.width) < MIN_KEPT_PIXELS:
            break
        box = trimmed
    return steps


def _trim_axis(
    luma: Luma,
    span: tuple[int, int],
    across: tuple[int, int],
    sides: tuple[Side, Side],
    colours: dict[Side, float],
) -> tuple[tuple[int, int], bool]:
    """Frame-free rows within ``span``, judging each row on the columns in ``across``.

    Also whether a side took a second, nested frame: only in a clearly different
    colour (a grey status bar over a black background), never the next shade of a
    gradient.
    """
    start, stop = span
    step = max(1, (across[1] - across[0]) // LINE_SAMPLES)
    lines = luma[start:stop, across[0] : across[1] : step]
    if lines.shape[0] < MIN_KEPT_PIXELS or lines.shape[1] == 0:
        return span, False
    depths, nested = [], False
    for side, ordered in zip(sides, (lines, lines[::-1]), strict=True):
        # A few lines deep, so a nested frame's colour is not read off the ringing
        # line where it meets the outer frame.
        colour = float(np.median(ordered[: EDGE_LINES + 1]))
        previous = colours.get(side)
        if previous is not None and abs(colour - previous) < MIN_NESTED_CONTRAST:
            depths.append(0)
            continue
        depth = _frame_depth(ordered, colour)
        if depth:
            colours[side] = colour
            nested |= previous is not None
        depths.append(depth)
    near, far = start + depths[0], stop - depths[1]
    return ((near, far) if far > near else (start, start)), nested


def _frame_depth(lines: Luma, colour: float) -> int:
    """How many leading lines are frame in ``colour``, reading only as far as needed.

    Most images have no frame and show it in their first few lines, so the scan
    starts with a thirty-second of the side and doubles only while the answer is open.
    """
    bar_limit = max(1, int(len(lines) * MAX_BAR_SHARE))
    kinds = np.empty(0, dtype=np.int8)
    while True:
        span = min(len(lines), max(MIN_KEPT_PIXELS, 2 * len(kinds), len(lines) // 32))
        more = _line_kinds(lines[len(kinds) : span], colour)
        kinds = np.concatenate([kinds, more])
        if span < len(lines) and (more == UNIFORM).all():
            continue  # still inside a plain frame: nothing to decide yet
        depth, settled = _prefix_frame_depth(kinds, bar_limit)
        if settled or span == len(lines):
            return _frame_edge(lines, colour, depth) if depth else 0


def _prefix_frame_depth(kinds: npt.NDArray[np.int8], bar_limit: int) -> tuple[int, bool]:
    """Frame depth within the lines seen, and whether more lines could change it.

    The frame is the leading runs that are uniform, or sparse (a bar's icons), short
    and followed by a uniform run; the very first run may also be a thin line of
    anything (an outline, ringing against an outer frame). The answer is open when
    the first other run reaches the end of what was seen: it may yet prove to be a bar.
    """
    starts = np.flatnonzero(np.diff(kinds, prepend=-1))
    ends = np.append(starts[1:], len(kinds))
    run_kinds = kinds[starts]
    following = np.append(run_kinds[1:], CONTENT)
    lengths = ends - starts
    edge = (starts == 0) & (lengths <= EDGE_LINES)
    frame = (run_kinds == UNIFORM) | (following == UNIFORM) & (
        (run_kinds == SPARSE) & (lengths <= bar_limit) | edge
    )
    first_other = int(np.argmin(frame)) if not frame.all() else len(frame)
    depth = int(ends[first_other - 1]) if first_other else 0
    settled = first_other < len(frame) and (
        run_kinds[first_other] == CONTENT
        or ends[first_other] < len(kinds)
        or lengths[first_other] > bar_limit
    )
    return depth, settled


def _frame_edge(lines: Luma, colour: float, depth: int) -> int:
    """Where the picture starts, given ``depth`` frame lines; 0 when there is no clear step.

    JPEG ringing leaves a few lines past the frame that are neither frame nor picture.
    Ringing is a fraction of the step from frame to picture, so the picture starts
    at the first line differing from the frame by half as much as the lines just
    beyond: a few stray lines of frame colour shift a low-texture picture's hash by
    tens of bits. When the picture differs from the frame by less than MIN_STEP,
    or the frame's colour drifts across it, this is a smooth gradient or a flat
    texture running on, not a picture inside a frame.
    """
    window = np.asarray(lines[depth : depth + 2 * RINGING_LINES], dtype=np.float32)
    if len(window) < 2 * RINGING_LINES:
        return depth
    deviation = np.abs(window - np.float32(colour)).mean(axis=1)
    level = float(np.median(deviation[RINGING_LINES:]))
    if level < MIN_STEP or _drift(lines[EDGE_LINES + 1 : depth - RINGING_LINES]) >= TOLERANCE / 2:
        return 0
    strong = np.flatnonzero(deviation[:RINGING_LINES] >= level / 2)
    return depth + (int(strong[0]) if strong.size else 0)


def _drift(frame: Luma) -> float:
    """How far the frame's colour wanders, on a few of its lines.

    A quantised gradient is flat for a dozen lines at a time, so the lines are
    spread over the whole frame; their medians ignore a bar's icons.
    """
    if len(frame) < 2:
        return 0.0
    picks = np.unique(np.linspace(0, len(frame) - 1, DRIFT_LINES).astype(np.intp))
    medians = np.median(frame[picks], axis=1)
    return float(medians.max() - medians.min())


def _line_kinds(lines: Luma, colour: float) -> npt.NDArray[np.int8]:
    """UNIFORM, SPARSE or CONTENT for each line, against the frame colour."""
    near = _near(lines, colour)
    share = np.count_nonzero(near, axis=1) / near.shape[1]
    # CONTENT 0, SPARSE 1, UNIFORM 2: one step up for each threshold reached.
    return ((share >= SPARSE_SHARE).astype(np.int8) + (share >= UNIFORM_SHARE)).astype(np.int8)


def _share_near(values: Luma, colour: float) -> float:
    near = _near(values, colour)
    return np.count_nonzero(near) / near.size


def _near(values: Luma, colour: float) -> npt.NDArray[np.bool_]:
    low, high = _bounds(values.dtype, colour)
    return (values >= low) & (values <= high)


def _bounds(dtype: np.dtype, colour: float) -> tuple[np.number, np.number]:
    """The tolerance band as scalars of the image's own type.

    A Python float would promote a uint8 image to float64 for the comparison,
    which costs more than the rest of the scan together.
    """
    if np.issubdtype(dtype, np.integer):
        limits = np.iinfo(dtype)
        low = min(max(int(np.ceil(colour - TOLERANCE)), limits.min), limits.max)
        high = min(max(int(np.floor(colour + TOLERANCE)), limits.min), limits.max)
        return dtype.type(low), dtype.type(high)
    return dtype.type(colour - TOLERANCE), dtype.type(colour + TOLERANCE)


def _comparable(luma: Luma) -> np.ndarray:
    """Integer and floating images as they are; anything else (bool, object) as float32."""
    array = np.asarray(luma)
    if np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating):
        return array
    return array.astype(np.float32)


def _worth_trimming(luma: Luma, box: ContentBox, colours: dict[Side, float]) -> bool:
    rows, cols = luma.shape
    if box.height < max(MIN_KEPT_PIXELS, MIN_KEPT_SHARE * rows):
        return False
    if box.width < max(MIN_KEPT_PIXELS, MIN_KEPT_SHARE * cols):
        return False
    trims = (box.top / rows, (rows - box.bottom) / rows, box.left / cols, (cols - box.right) / cols)
    if max(trims) < MIN_TRIM_SHARE:
        return False
    return _frame_colour_inside(luma, box, colours.values()) <= MAX_FRAME_COLOUR_INSIDE


def _frame_colour_inside(luma: Luma, box: ContentBox, colours: Iterable[float]) -> float:
    """Largest share of the kept box, on a sample grid, that has a frame colour."""
    row_step = max(1, box.height // BOX_SAMPLES)
    col_step = max(1, box.width // BOX_SAMPLES)
    inside = luma[box.top : box.bottom : row_step, box.left : box.right : col_step]
    return max((float(_share_near(inside, colour)) for colour in colours), default=0.0)
