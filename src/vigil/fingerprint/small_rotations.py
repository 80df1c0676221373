"""Query-side hypotheses that undo a small rotation (issue 19).

A picture turned by a few degrees and re-shared hashes far from its original: PDQ
keeps about half a degree of rotation within distance 31. Lists hold only the hash of
the original, so the query undoes the rotation and hashes the result. Copies come in
three kinds:

* **padded**: turned with the canvas grown to fit, the four corners filled with one
  colour; **clipped**: turned on a canvas of the picture's own size, so its corners
  are cut off and the uncovered corners filled (a tilted re-post, a screenshot of a
  tilted picture). The filled triangles give the angle away: each row's first and
  last picture pixel are fitted against the outline either turn would leave, and the
  original's extent is read back at the angle found. One hash, and none at all for a
  picture without such corners.
* **cropped**: turned and cut to the largest rectangle of the same shape inside
  (a photo editor's "straighten"). Nothing shows the angle, so a fixed set of angles
  is tried blind (CROPPED_ANGLES, chosen in docs/benchmarks.md). The copy is a
  central part of the turned original: each hypothesis reads the original's extent
  back, the copy's edge pixels standing in for what the crop lost; that loss is
  why this kind is found less often.

Reading back means sampling PDQ's 64 x 64 grid on a turned grid over the copy,
instead of turning the copy and cutting it to whole pixels: a pixel lost on a side of
a small picture moved the hash more than the rotation itself.

Angles follow Pillow's ``Image.rotate``: positive is counter-clockwise, and the
variant ``rot_+2_cropped`` is the hypothesis that the copy was turned by +2 degrees.
Everything runs on a small copy of the luma (SIDE), so the cost is
bounded whatever the picture's size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from vigil.fingerprint import pdq

# Blind angles for straightened copies, chosen with benchmarks/bench_rotation_hypotheses.py
# (docs/benchmarks.md): every 1.5 degrees leaves at most 0.75 to PDQ's own tolerance;
# none of the sets measured added a false pair, and whole degrees bought 4 points of
# recall for 4 more hashes (and index lookups) per photo.
CROPPED_ANGLES: tuple[float, ...] = (-4.5, -3.0, -1.5, 1.5, 3.0, 4.5)
# Blind angles for clipped copies too slightly turned for their corners to tell: at 1 degree
# the corner reading found 1 picture in 49 (its triangles are a pixel or two wide), while a
# clipped hypothesis at the right sign found 29 of 49 against 16 found without it.
CLIPPED_ANGLES: tuple[float, ...] = (-1.0, 1.0)
# The copy is resized (antialiased) to this side, in float. Measured: at 256 a 1-degree
# turn's outline is a pixel or two wide and the hashes keep within a few percent of
# 512's recall at a quarter of the cost; at 128 the angle is read to only 0.5 degrees.
SIDE = 256
RESAMPLING = Image.Resampling.BILINEAR
# A copy with filled corners is turned back at this side: measured, the hash then lands
# within reach nearly always at the right angle, against two times in three when its
# grid is read from the 256-pixel copy; one hash, for the few copies with such corners.
CORNER_SIDE = 512
TURNING = Image.Resampling.BILINEAR  # reading the turned 64 x 64 grid
MIN_SIDE = 24  # below this a rotation moves the picture by under a pixel
MARGIN_SHARE = 0.15  # of the original's side: how far a cropped copy's grid reaches out
MAX_ASPECT = 4.0  # beyond this the cropped kind keeps too little to recognise
# The angle is searched by half degrees, then to a tenth around the best: PDQ tolerates
# about half a degree, and a finer step buys nothing a pixel-sized outline can tell.
COARSE_SEARCH = np.arange(0.5, 6.01, 0.5)
FINE_SEARCH = np.arange(-0.4, 0.41, 0.1)
PADDING_TOLERANCE = 8  # grey levels: JPEG ringing along the turned edge
CORNER_PATCH = 1  # pixels: at 1 degree a clipped copy's corner triangle is about 2 wide
PROFILE_CLIP = 4.0  # pixels: a row whose picture starts elsewhere counts once
MAX_PROFILE_ERROR = 1.25  # mean pixels between the outline found and the fitted one
MIN_IMPROVEMENT = 1.3  # the fitted outline must beat "not turned" by this factor
EDGE_COVERAGE = 0.2  # pixels: JPEG and resampling show a turned edge this much early
# ... but a clipped copy's corner triangles read 0.4 degrees too small at 0.2, whatever the
# angle, and unbiased at 0.7 (measured on 18 corpus pictures turned 1.3, 2.6 and 4.2
# degrees, not the benchmark's angles); the angle is refined with this. The coarse search
# keeps 0.2: at 0.7 small angles look as good as the right one and a copy turned 3 degrees
# read as -0.4.
CLIPPED_FINE_COVERAGE = 0.7

Hypothesis = tuple[str, pdq.PdqHash]
PADDED = "padded"  # turned on a canvas grown to fit, corners filled
CLIPPED = "clipped"  # turned on a canvas of its own size: corners cut off and filled
CROPPED = "cropped"  # turned and cut to the largest same-shaped rectangle inside
Work = npt.NDArray[np.float32]


def hypotheses(
    luma: npt.NDArray[np.floating] | npt.NDArray[np.integer],
    cropped_angles: tuple[float, ...] = CROPPED_ANGLES,
) -> tuple[Hypothesis, ...]:
    """Named hashes of the picture turned back: one for a copy whose filled corners give
    the angle away, otherwise one per angle in ``cropped_angles``. Their quality is the
    main hash's business: screening skips a weak picture as a whole."""
    copy = prepared(luma)
    if copy is None or np.ptp(copy.grey) < 1:  # one flat colour: nothing to turn back
        return ()
    found: list[Hypothesis] = []
    turn = corner_turn(copy.grey)
    if turn is not None:
        digest = corner_hash(luma, copy, turn)
        if digest is not None:
            found.append((turn.name, digest))
    else:
        found.extend((f"rot_{a:+g}_{CROPPED}", cropped_hash(copy, a)) for a in cropped_angles)
        found.extend((f"rot_{a:+g}_{CLIPPED}", clipped_hash(copy, a)) for a in CLIPPED_ANGLES)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The luma at most SIDE on its longer side, in float (rounding to whole grey levels
    flips low-contrast textures' bits), and the same with its edge pixels repeated
    MARGIN_SHARE of the side around it, where turned grids reach past the copy."""

    grey: npt.NDArray[np.float32]
    extended: Image.Image
    margin: int

    @property
    def width(self) -> int:
        return int(self.grey.shape[1])

    @property
    def height(self) -> int:
        return int(self.grey.shape[0])


def prepared(luma: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> Prepared | None:
    """The copy ready for the hypotheses; None when it is too small or too elongated for
    a rotation to be told apart."""
    image = _grey(luma, SIDE)
    if image is None:
        return None
    grey = np.asarray(image, dtype=np.float32)
    margin = math.ceil(max(grey.shape) * MARGIN_SHARE)
    extended = Image.fromarray(np.pad(grey, margin, mode="edge"), "F")
    return Prepared(grey, extended, margin)


def _grey(
    luma: npt.NDArray[np.floating] | npt.NDArray[np.integer], side: int
) -> Image.Image | None:
    array = np.asarray(luma)
    if array.ndim != 2 or min(array.shape) < 1:
        return None
    rows, cols = array.shape
    if max(rows, cols) / min(rows, cols) > MAX_ASPECT:
        return None
    if array.dtype == np.uint8:  # the JPEG decoder's luma: averaged in blocks while 8-bit
        image = Image.fromarray(np.ascontiguousarray(array), "L")
    else:  # the exact path's float luma, full resolution: only the small copy is cleaned
        image = Image.fromarray(np.ascontiguousarray(array, dtype=np.float32), "F")
    # Block averages first: a 1080p luma resized in float in one step costs several
    # times the rest of the hypotheses together (and cleaning a full-resolution float
    # luma of NaNs cost 20 ms, more than the whole fingerprint).
    factor = max(image.size) // (2 * side)
    if factor > 1:
        image = image.reduce(factor)
    image = image.convert("F")
    scale = min(1.0, side / max(image.size))
    size = (round(image.width * scale), round(image.height * scale))
    if min(size) < MIN_SIDE:
        return None
    small = image.resize(size, RESAMPLING) if size != image.size else image
    if array.dtype == np.uint8:
        return small
    clean = np.clip(np.nan_to_num(np.asarray(small, dtype=np.float32)), 0, 255)
    return Image.fromarray(clean.astype(np.float32), "F")


def inscribed_scale(width: float, height: float, degrees: float) -> float:
    """Side ratio of the largest same-shaped rectangle inside a width x height one turned by
    ``degrees`` (what a photo editor's straighten tool keeps)."""
    cos, sin = abs(math.cos(math.radians(degrees))), abs(math.sin(math.radians(degrees)))
    return min(height / (width * sin + height * cos), width / (width * cos + height * sin))


def original_size(width: int, height: int, degrees: float) -> tuple[float, float] | None:
    """The size of a picture that, turned by ``degrees`` on a grown canvas, fills
    width x height; None when no picture would."""
    cos, sin = math.cos(math.radians(degrees)), abs(math.sin(math.radians(degrees)))
    det = cos * cos - sin * sin
    inner = ((width * cos - height * sin) / det, (height * cos - width * sin) / det)
    return inner if min(inner) >= MIN_SIDE / 2 else None


@dataclass(frozen=True, slots=True)
class Turn:
    """What a copy's one-coloured corners say: turned by ``degrees``, on a canvas grown to
    fit (``grown``) or kept at the picture's size with its corners cut off."""

    degrees: float
    grown: bool

    @property
    def name(self) -> str:
        return f"rot_{self.degrees:+.1f}_{PADDED if self.grown else CLIPPED}"


def corner_turn(work: Work) -> Turn | None:
    """How a copy with one-coloured corners was turned; None when the corners are not
    padding or no turned rectangle explains them.

    Each turned outline (every angle, either canvas) is compared with the picture's
    extent along every row and every column; each edge is judged where it is steep
    (a nearly horizontal edge by the columns), since there a tenth of a row does not
    move the extent by pixels.
    """
    colour = _corner_colour(work)
    if colour is None:
        return None
    padding = np.abs(work - np.float32(colour)) <= PADDING_TOLERANCE
    coarse = np.concatenate([-COARSE_SEARCH[::-1], [0.0], COARSE_SEARCH])
    table = np.stack(
        [_outline_errors(padding, coarse, grown, EDGE_COVERAGE) for grown in (True, False)]
    )
    unturned = table[0, len(COARSE_SEARCH)]
    kind, best = np.unravel_index(int(np.argmin(table)), table.shape)
    fine = np.round(coarse[best] + FINE_SEARCH, 1)
    grown = bool(kind == 0)
    coverage = EDGE_COVERAGE if grown else CLIPPED_FINE_COVERAGE
    errors = _outline_errors(padding, fine, grown, coverage)
    closest = int(np.argmin(errors))
    if errors[closest] > MAX_PROFILE_ERROR or unturned < MIN_IMPROVEMENT * errors[closest]:
        return None
    if abs(fine[closest]) < COARSE_SEARCH[0] - FINE_SEARCH[-1]:
        return None
    return Turn(float(fine[closest]), grown=grown)


def _outline_errors(
    padding: npt.NDArray[np.bool_], angles: npt.NDArray[np.float64], grown: bool, coverage: float
) -> npt.NDArray[np.float64]:
    """For each angle, the mean distance (clipped) between the picture's observed extent
    and a turned outline's, over rows and columns where the outline is steep."""
    rows, cols = padding.shape
    totals, counts = np.zeros(len(angles)), np.zeros(len(angles))
    # Columns are the rows of the transposed picture, which is turned the other way.
    for mask, across, along, turn in (
        (padding, cols, rows, angles),
        (padding.T, rows, cols, -angles),
    ):
        predicted, possible = _turned_extents(across, along, turn, grown, coverage)
        steep = np.abs(np.gradient(predicted, axis=2)) <= 1
        steep &= (predicted > 0) & (predicted < across)
        miss = np.minimum(np.abs(predicted - _row_extents(mask)[:, None, :]), PROFILE_CLIP)
        totals += np.where(steep, miss, 0).sum(axis=(0, 2))
        counts += steep.sum(axis=(0, 2))
        totals = np.where(possible, totals, np.inf)
    # An unturned outline has no edge inside the canvas: it is judged on every line.
    flat = _row_extents(padding), _row_extents(padding.T)
    plain = np.mean(
        [
            np.minimum(np.abs(e - np.array([[0], [n]])), PROFILE_CLIP).mean()
            for e, n in zip(flat, (cols, rows), strict=True)
        ]
    )
    return np.where(counts > 0, totals / np.maximum(counts, 1), plain)


def _corner_colour(work: Work) -> int | None:
    """The colour all four corners share, or None: padding is one colour all round."""
    patch = CORNER_PATCH
    corners = [
        float(np.median(work[rows, cols]))
        for rows in (slice(0, patch), slice(-patch, None))
        for cols in (slice(0, patch), slice(-patch, None))
    ]
    if max(corners) - min(corners) > PADDING_TOLERANCE:
        return None
    return round(float(np.median(corners)))


def _row_extents(padding: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Each row's first picture column and one past its last (cols, 0 for a row of padding),
    as a (2, rows) array."""
    cols = padding.shape[1]
    picture = ~padding
    any_picture = picture.any(axis=1)
    first = np.where(any_picture, picture.argmax(axis=1), cols)
    last = np.where(any_picture, cols - picture[:, ::-1].argmax(axis=1), 0)
    return np.stack([first, last]).astype(np.float64)


def _turned_extents(
    cols: int, rows: int, angles: npt.NDArray[np.float64], grown: bool, coverage: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """For each angle, the first and one-past-last picture column of each row of a copy
    turned by it on a canvas of cols x rows, grown to fit or kept at the picture's size,
    as a (2, angles, rows) array; and whether a picture could fill that canvas.

    A pixel shows picture once the turned edge covers part of it, so the outline is
    widened by ``coverage`` of a pixel on either side.
    """
    radians = np.radians(angles)
    cos, sin = np.cos(radians), np.sin(radians)
    det = cos * cos - sin * sin
    width = (cols * cos - rows * np.abs(sin)) / det if grown else np.full(len(angles), cols)
    height = (rows * cos - cols * np.abs(sin)) / det if grown else np.full(len(angles), rows)
    possible = np.minimum(width, height) >= MIN_SIDE / 2
    signs = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], dtype=np.float64)
    x = signs[:, 0, None] * width / 2  # (corner, angle)
    y = signs[:, 1, None] * height / 2
    # y grows downwards: turning counter-clockwise on screen maps (x, y) so.
    px, py = x * cos + y * sin + cols / 2, -x * sin + y * cos + rows / 2
    centres = np.arange(rows, dtype=np.float64)[None, :] + 0.5
    first = np.full((len(angles), rows), np.inf)
    last = np.full((len(angles), rows), -np.inf)
    for corner in range(4):
        following = (corner + 1) % 4
        x0, y0 = px[corner][:, None], py[corner][:, None]
        dx, dy = (px[following] - px[corner])[:, None], (py[following] - py[corner])[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = (centres - y0) / dy
        crossing = (share >= 0) & (share <= 1) & (dy != 0)
        at = x0 + np.where(crossing, share, 0.0) * dx
        first = np.where(crossing, np.minimum(first, at), first)
        last = np.where(crossing, np.maximum(last, at), last)
    first = np.clip(first - coverage, 0, cols)
    last = np.clip(last + coverage, 0, cols)
    empty = last <= first
    extents = np.stack([np.where(empty, cols, first), np.where(empty, 0, last)])
    return extents, possible


def corner_hash(
    luma: npt.NDArray[np.floating] | npt.NDArray[np.integer], copy: Prepared, turn: Turn
) -> pdq.PdqHash | None:
    """PDQ of the original inside a copy turned as ``turn`` says.

    A padded copy, at most CORNER_SIDE, is turned back and cut to the original's extent:
    turning the pixels, not the grid, lets PDQ's own filter see fine texture as it saw
    the original's. A clipped copy's grid is read from the small copy, its lost corners
    taking the colour next to them (measured: turning it back, with a second fill in
    new corners, found a third fewer)."""
    if not turn.grown:
        return clipped_hash(copy, turn.degrees)
    image = _grey(luma, CORNER_SIDE)
    if image is None:
        return None
    back = np.asarray(image.rotate(-turn.degrees, TURNING), dtype=np.float32)
    size = original_size(image.width, image.height, turn.degrees)
    if size is None:
        return None
    left, top = (image.width - size[0]) / 2, (image.height - size[1]) / 2
    back = back[
        math.ceil(top) : math.floor(top + size[1]), math.ceil(left) : math.floor(left + size[0])
    ]
    return pdq.hash_luma(back)[0]


def clipped_hash(copy: Prepared, degrees: float) -> pdq.PdqHash:
    """PDQ of the original a clipped copy (turned by ``degrees`` on a canvas of its own
    size) was made from: the grid is the copy's own size, turned back."""
    return _sampled_hash(copy, (copy.width, copy.height), degrees)


def cropped_hash(copy: Prepared, degrees: float) -> pdq.PdqHash:
    """PDQ of the original a straightened copy was cut from, had it been turned by
    ``degrees``: the grid reaches past the copy's edges, where the edge pixels stand in
    for what the crop lost (closer to PDQ's coarse pattern than a flat fill)."""
    scale = inscribed_scale(copy.width, copy.height, degrees)
    return _sampled_hash(copy, (copy.width / scale, copy.height / scale), degrees)


def _sampled_hash(copy: Prepared, size: tuple[float, float], degrees: float) -> pdq.PdqHash:
    """PDQ of a size[0] x size[1] rectangle centred on the image and turned by ``degrees``,
    read on a 64 x 64 grid (bilinear, the edge pixels beyond the image)."""
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    step_x, step_y = size[0] / pdq.DOWNSAMPLE, size[1] / pdq.DOWNSAMPLE
    centre_x, centre_y = copy.extended.width / 2, copy.extended.height / 2
    # Output (X, Y) is the point (X*step_x - w/2, Y*step_y - h/2) of the original, which
    # the turn took to (u cos + v sin, -u sin + v cos) about the centre.
    affine = (
        cos * step_x,
        sin * step_y,
        centre_x - cos * size[0] / 2 - sin * size[1] / 2,
        -sin * step_x,
        cos * step_y,
        centre_y + sin * size[0] / 2 - cos * size[1] / 2,
    )
    grid = copy.extended.transform(
        (pdq.DOWNSAMPLE, pdq.DOWNSAMPLE), Image.Transform.AFFINE, affine, TURNING
    )
    small = np.asarray(grid, dtype=np.float64)
    return pdq.PdqHash(pdq.bits_to_hex(pdq.dct16(small)), pdq.quality(small))
