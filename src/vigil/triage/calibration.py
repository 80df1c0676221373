"""Calibration of the priority thresholds: how reliable each level is on labelled reports,
and the level_1 / level_2 thresholds that best fit them. Pure (docs/triage-calibration.md).

The level model the fit relies on: a report's level is its level by score (1 at or above
level_1, 2 at or above level_2, else 3), never better than the best level the rules allow
it (``best_level``: 4 for an informational report, 2 without a sign of danger now, 3 for
known material only). ``best_level`` is what the scorer gives with both thresholds at 0.

The objective, level 1 first, then level 2 with level_1 fixed:

* level 1: of the reports placed at level 1, at least ``TARGET_SHARE`` are level 1 in truth;
  among the thresholds that meet it, the one placing the most true level-1 reports at
  level 1 (recall), then the highest share. When none meets it, the current threshold stays
  (a threshold that misses the target is no better than the one people already know).
* level 2: the same for the reports placed at level 1 or 2 and true levels 1 or 2.
* ties: the threshold nearest the current one (kept when it is among the best), then the
  higher one. Any threshold between two neighbouring scores places the reports alike, so a
  new threshold sits halfway between them: a small drift in scores moves nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vigil.triage.levels import INFORMATIONAL, LEVELS
from vigil.triage.weights import MAX_WEIGHT

TARGET_SHARE = 0.75
MIN_EXAMPLES_PER_LEVEL = 10  # fewer and a share moves by 10 points with one report
SCORE_LEVELS = (1, 2, 3)  # the levels a threshold can place a report at
PLACES = 2  # thresholds are written with two decimals, as scores are


class CalibrationRefused(ValueError):
    """The labelled examples cannot support a fit; the message says why."""


@dataclass(frozen=True)
class Example:
    """One labelled report: its score, the best level the rules allow, its true level."""

    score: float
    best_level: int
    true_level: int


# --- the reliability table -----------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityRow:
    """Of the reports placed at ``level``: how many, how many are that level in truth, and
    how their true levels spread (``spread[k]``: true level k, for every level in LEVELS)."""

    level: int
    count: int
    right: int
    spread: tuple[tuple[int, int], ...]

    @property
    def share(self) -> float | None:
        return self.right / self.count if self.count else None


def reliability(pairs: Iterable[tuple[int, int]]) -> tuple[ReliabilityRow, ...]:
    """One row per level from (predicted level, true level) pairs."""
    counts = Counter(pairs)
    rows = []
    for level in LEVELS:
        spread = tuple((truth, counts[(level, truth)]) for truth in LEVELS)
        total = sum(count for _, count in spread)
        rows.append(ReliabilityRow(level, total, counts[(level, level)], spread))
    return tuple(rows)


def render_reliability(rows: Sequence[ReliabilityRow]) -> str:
    """The table as plain text, one line per level, for the benchmark and the command line."""
    truths = "".join(f"{f'true {truth}':>8}" for truth in LEVELS)
    lines = [f"{'placed at':<10}{'reports':>8}{'right':>7}{'share':>8}  {truths}"]
    for row in rows:
        share = "-" if row.share is None else f"{row.share:.1%}"
        spread = "".join(f"{count:>8}" for _, count in row.spread)
        lines.append(f"{f'level {row.level}':<10}{row.count:>8}{row.right:>7}{share:>8}  {spread}")
    return "\n".join(lines)


# --- the level model -----------------------------------------------------------------------


def score_level(score: float, level_1: float, level_2: float) -> int:
    """The level by score alone, as the scorer compares: at or above a threshold."""
    return 1 if score >= level_1 else 2 if score >= level_2 else 3


def placed_level(example: Example, level_1: float, level_2: float) -> int:
    """The level the scorer would give ``example`` under these thresholds."""
    return max(score_level(example.score, level_1, level_2), example.best_level)


def placements(
    examples: Iterable[Example], level_1: float, level_2: float
) -> list[tuple[int, int]]:
    """(placed level, true level) of each example: the reliability table's input."""
    return [(placed_level(e, level_1, level_2), e.true_level) for e in examples]


def out_of_reach(examples: Iterable[Example]) -> int:
    """Examples the rules keep below their true level: no threshold can place them right,
    only a change of weights or rules."""
    return sum(1 for example in examples if example.true_level < example.best_level)


# --- the fit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelFit:
    """The chosen threshold for one level and how it does on the examples."""

    threshold: float
    placed: int  # examples placed at this level or better
    right: int  # ... of which true level is this level or better
    reachable: int  # examples whose true level is this level or better, in the thresholds' reach

    @property
    def share(self) -> float | None:
        return self.right / self.placed if self.placed else None

    @property
    def recall(self) -> float:
        return self.right / self.reachable if self.reachable else 0.0

    @property
    def met(self) -> bool:
        share = self.share
        return share is not None and share >= TARGET_SHARE


@dataclass(frozen=True)
class Fit:
    level_1: LevelFit
    level_2: LevelFit

    @property
    def met(self) -> bool:
        return self.level_1.met and self.level_2.met


def fit_thresholds(examples: Sequence[Example], level_1: float, level_2: float) -> Fit:
    """The thresholds that best meet the objective on ``examples`` (see the module's text);
    ``level_1`` and ``level_2`` are the current ones. CalibrationRefused with too few
    examples of a level."""
    movable = [example for example in examples if example.best_level < INFORMATIONAL]
    _enough(movable)
    level_1, level_2 = float(level_1), float(level_2)
    first = _fit_level(movable, 1, level_1, ceiling=None)
    second = _fit_level(movable, 2, min(level_2, first.threshold), ceiling=first.threshold)
    return Fit(first, second)


def _enough(examples: Sequence[Example]) -> None:
    counts = Counter(min(example.true_level, 3) for example in examples)
    short = [
        f"{_level_words(level)}: {counts[level]}"
        for level in SCORE_LEVELS
        if counts[level] < MIN_EXAMPLES_PER_LEVEL
    ]
    if short:
        raise CalibrationRefused(
            f"too few labelled reports to fit the thresholds (at least "
            f"{MIN_EXAMPLES_PER_LEVEL} of each level the thresholds can place, informational "
            f"ones by rule left aside): {', '.join(short)}"
        )


def _level_words(level: int) -> str:
    return "level 3 or 4" if level == 3 else f"level {level}"


def _fit_level(
    examples: Sequence[Example], level: int, current: float, *, ceiling: float | None
) -> LevelFit:
    """The threshold placing examples at ``level`` or better; ``ceiling``: it must not
    exceed this (level_2 never above level_1)."""
    eligible = [example for example in examples if example.best_level <= level]
    reachable = sum(1 for example in eligible if example.true_level <= level)
    candidates = _candidates(eligible, level, current, ceiling)
    best = max(candidates, key=lambda c: _rank(c, reachable, current))
    return LevelFit(best[0], best[1], best[2], reachable)


def _rank(
    candidate: tuple[float, int, int], reachable: int, current: float
) -> tuple[bool, float, float, float, float]:
    threshold, placed, right = candidate
    share = right / placed if placed else 0.0
    met = placed > 0 and share >= TARGET_SHARE
    recall = right / reachable if reachable else 0.0
    if not met:  # worse than any that meets; among themselves, the nearest the current one
        recall = share = 0.0
    return met, recall, share, -abs(threshold - current), threshold


def _candidates(
    eligible: Sequence[Example], level: int, current: float, ceiling: float | None
) -> list[tuple[float, int, int]]:
    """(threshold, placed, right) for every distinct way a threshold splits the scores, found
    in one pass down the scores, highest first; splits the ceiling forbids are left out."""
    scores = sorted({example.score for example in eligible}, reverse=True)
    at = Counter(example.score for example in eligible)
    right_at = Counter(example.score for example in eligible if example.true_level <= level)
    # (below, upper]: the thresholds placing ``upper`` and above; None: no bound
    bounds = list(zip([*scores, None], [None, *scores], strict=True))
    found, placed, right = [], 0, 0
    for below, upper in bounds:
        if upper is not None:
            placed, right = placed + at[upper], right + right_at[upper]
        threshold = _threshold(below, upper, current, ceiling)
        if threshold is not None:
            found.append((threshold, placed, right))
    return found


def _threshold(
    below: float | None, upper: float | None, current: float, ceiling: float | None
) -> float | None:
    """A threshold above ``below`` and at most ``upper`` (and ``ceiling``): the current one
    when it is, else halfway (two decimals); None when the ceiling leaves no room."""
    if ceiling is not None:
        upper = ceiling if upper is None else min(upper, ceiling)
    if upper is not None and below is not None and upper <= below:
        return None
    if (below is None or current > below) and (upper is None or current <= upper):
        return current
    if upper is None:  # above every score: nobody placed by score
        above = min(MAX_WEIGHT, round(float(below or 0.0) + 1.0, PLACES))
        return above if below is None or above > below else None
    low = 0.0 if below is None else below
    middle = round((low + upper) / 2, PLACES)
    return middle if low < middle <= upper else upper
