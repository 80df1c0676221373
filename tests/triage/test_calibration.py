"""Calibration, pure: the reliability table counts what it says, the threshold fit keeps
level_1 >= level_2, meets its objective when the labels allow, separates separable labels
perfectly, keeps the current thresholds when they are among the best, does not depend on
the examples' order, and refuses too few labelled reports of a level, saying which."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.triage.calibration import (
    MIN_EXAMPLES_PER_LEVEL,
    TARGET_SHARE,
    CalibrationRefused,
    Example,
    fit_thresholds,
    out_of_reach,
    placed_level,
    placements,
    reliability,
    render_reliability,
)
from vigil.triage.refitted import refitted_weights
from vigil.triage.weights import WeightsRefused, load_weights, parse_weights

scores = st.floats(min_value=0, max_value=400, allow_nan=False).map(lambda s: round(s, 2))
examples = st.builds(
    Example, scores, st.integers(min_value=1, max_value=4), st.integers(min_value=1, max_value=4)
)
labelled_sets = st.lists(examples, min_size=0, max_size=120)
thresholds = st.tuples(scores, scores).map(lambda pair: (max(pair), min(pair)))


def _enough(level: int, base: float, count: int = MIN_EXAMPLES_PER_LEVEL) -> list[Example]:
    return [Example(base + index, 1, level) for index in range(count)]


def _separable(gap: float = 10.0) -> list[Example]:
    # level 1 highest, then 2, then 3 and 4, with a gap between the groups
    return (
        _enough(1, 200.0)
        + _enough(2, 200.0 - MIN_EXAMPLES_PER_LEVEL - gap)
        + _enough(3, 100.0 - MIN_EXAMPLES_PER_LEVEL - gap)
        + _enough(4, 0.0)
    )


# --- the reliability table -----------------------------------------------------------------


def test_the_table_counts_each_placed_level_and_its_spread() -> None:
    pairs = [(1, 1)] * 21 + [(1, 2)] * 20 + [(1, 3)] * 11 + [(2, 2)] * 5 + [(4, 4)]
    rows = {row.level: row for row in reliability(pairs)}
    assert (rows[1].count, rows[1].right) == (52, 21)
    assert rows[1].share == pytest.approx(21 / 52)
    assert dict(rows[1].spread) == {1: 21, 2: 20, 3: 11, 4: 0}
    assert rows[3].count == 0 and rows[3].share is None
    text = render_reliability(tuple(rows.values())).splitlines()
    assert len(text) == 5  # a heading and one line per level
    assert text[1].split()[:5] == ["level", "1", "52", "21", "40.4%"]
    assert text[3].split()[:5] == ["level", "3", "0", "0", "-"]


@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), max_size=200))
def test_every_pair_is_counted_once(pairs: list[tuple[int, int]]) -> None:
    rows = reliability(pairs)
    assert sum(row.count for row in rows) == len(pairs)
    assert sum(row.right for row in rows) == sum(1 for placed, truth in pairs if placed == truth)
    for row in rows:
        assert sum(count for _, count in row.spread) == row.count


# --- the level model -----------------------------------------------------------------------


def test_a_report_is_never_placed_better_than_its_rules_allow() -> None:
    assert placed_level(Example(500.0, 1, 1), 65.0, 40.0) == 1
    assert placed_level(Example(500.0, 2, 1), 65.0, 40.0) == 2
    assert placed_level(Example(500.0, 4, 1), 65.0, 40.0) == 4
    assert placed_level(Example(65.0, 1, 1), 65.0, 40.0) == 1  # at the threshold: level 1
    assert placed_level(Example(39.99, 1, 1), 65.0, 40.0) == 3


def test_reports_the_rules_keep_below_their_true_level_are_counted() -> None:
    labelled = [Example(90.0, 2, 1), Example(90.0, 3, 2), Example(90.0, 2, 2), Example(5.0, 1, 3)]
    assert out_of_reach(labelled) == 2


# --- the fit -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(labelled_sets, thresholds)
def test_thresholds_stay_ordered(labelled: list[Example], current: tuple[float, float]) -> None:
    labelled = labelled + _separable()
    fit = fit_thresholds(labelled, *current)
    assert fit.level_1.threshold >= fit.level_2.threshold >= 0


@settings(max_examples=150, deadline=None)
@given(labelled_sets, thresholds)
def test_the_reported_shares_are_what_the_thresholds_give(
    labelled: list[Example], current: tuple[float, float]
) -> None:
    labelled = labelled + _separable()
    fit = fit_thresholds(labelled, *current)
    placed = placements(labelled, fit.level_1.threshold, fit.level_2.threshold)
    at_one = [truth for level, truth in placed if level == 1]
    assert fit.level_1.placed == len(at_one)
    assert fit.level_1.right == at_one.count(1)
    if fit.level_1.met:
        assert at_one.count(1) / len(at_one) >= TARGET_SHARE
    urgent = [truth for level, truth in placed if level <= 2]
    assert fit.level_2.placed == len(urgent)
    assert fit.level_2.right == sum(1 for truth in urgent if truth <= 2)


@settings(max_examples=100, deadline=None)
@given(thresholds, st.floats(min_value=0.5, max_value=50))
def test_separable_labels_are_fitted_perfectly(current: tuple[float, float], gap: float) -> None:
    labelled = _separable(gap)
    fit = fit_thresholds(labelled, *current)
    assert fit.met and fit.level_1.recall == 1.0 and fit.level_2.recall == 1.0
    placed = placements(labelled, fit.level_1.threshold, fit.level_2.threshold)
    for row in reliability(placed)[:2]:
        assert row.share == 1.0
    assert all(level == truth for level, truth in placed if truth <= 2)


@settings(max_examples=60, deadline=None)
@given(labelled_sets, thresholds, st.randoms(use_true_random=False))
def test_the_fit_does_not_depend_on_order(
    labelled: list[Example], current: tuple[float, float], shuffler: random.Random
) -> None:
    labelled = labelled + _separable()
    shuffled = list(labelled)
    shuffler.shuffle(shuffled)
    assert fit_thresholds(labelled, *current) == fit_thresholds(shuffled, *current)


@settings(max_examples=100, deadline=None)
@given(labelled_sets, thresholds)
def test_a_threshold_that_cannot_meet_the_target_stays_where_it_is(
    labelled: list[Example], current: tuple[float, float]
) -> None:
    labelled = labelled + _separable()
    fit = fit_thresholds(labelled, *current)
    if not fit.level_1.met:
        assert fit.level_1.threshold == current[0]
    if not fit.level_2.met:
        assert fit.level_2.threshold == min(current[1], fit.level_1.threshold)


def test_scores_that_do_not_separate_the_levels_change_nothing() -> None:
    labelled = [Example(5.0, 1, 1 + index % 3) for index in range(60)]
    fit = fit_thresholds(labelled, 65.0, 40.0)
    assert not fit.met
    assert (fit.level_1.threshold, fit.level_2.threshold) == (65.0, 40.0)


def test_current_thresholds_are_kept_when_they_are_among_the_best() -> None:
    # level 1 at 200..209, level 2 at 180..189, level 3 at 80..89: 195 and 150 separate them
    fit = fit_thresholds(_separable(), 195.0, 150.0)
    assert (fit.level_1.threshold, fit.level_2.threshold) == (195.0, 150.0)


def test_new_thresholds_sit_halfway_between_neighbouring_scores() -> None:
    # level 1 at 200..209, level 2 at 180..189, level 3 at 80..89
    fit = fit_thresholds(_separable(), 65.0, 40.0)
    assert fit.level_1.threshold == pytest.approx((189.0 + 200.0) / 2)
    assert fit.level_2.threshold == pytest.approx((89.0 + 180.0) / 2)


def test_level_one_needs_the_target_share_before_recall() -> None:
    # above 100: 8 of level 1 and 2 of level 2 (80%); the rest below mixes 1 and 2 evenly
    top = [Example(150.0 + i, 1, 1) for i in range(8)] + [Example(150.5, 1, 2)] * 2
    mixed = [Example(60.0 + i, 1, 1 + i % 2) for i in range(20)]
    rest = _enough(3, 0.0)
    fit = fit_thresholds(top + mixed + rest, 65.0, 40.0)
    assert fit.level_1.met and fit.level_1.share is not None
    assert fit.level_1.share >= TARGET_SHARE
    assert fit.level_1.right >= 8


def test_reports_informational_by_rule_are_left_aside() -> None:
    labelled = _separable() + [Example(999.0, 4, 1)] * 50
    assert fit_thresholds(labelled, 65.0, 40.0) == fit_thresholds(_separable(), 65.0, 40.0)


@pytest.mark.parametrize(
    ("dropped", "named"),
    [(1, "level 1: 9"), (2, "level 2: 9"), (3, "level 3 or 4: 9")],
)
def test_too_few_reports_of_a_level_are_refused_naming_it(dropped: int, named: str) -> None:
    labelled = _separable()
    labelled = [e for e in labelled if e.true_level != dropped] + [
        e for e in labelled if e.true_level == dropped
    ][1:]
    if dropped == 3:  # level 4 examples count with level 3: drop them too
        labelled = [e for e in labelled if e.true_level != 4]
    with pytest.raises(CalibrationRefused, match=named):
        fit_thresholds(labelled, 65.0, 40.0)


def test_no_labels_at_all_are_refused() -> None:
    with pytest.raises(CalibrationRefused):
        fit_thresholds([], 65.0, 40.0)


# --- the refitted weights file -------------------------------------------------------------


def test_refitted_weights_change_the_version_and_thresholds_only() -> None:
    packaged = load_weights()
    content = packaged.content.replace(b"[priority]", b"[priority]  # the levels", 1)
    original = parse_weights(content)
    refitted = refitted_weights(original, 70.25, 33.5, "refit-7")
    assert (refitted.version, refitted.level_1, refitted.level_2) == ("refit-7", 70.25, 33.5)
    assert refitted.weights == original.weights
    assert refitted.content.count(b"#") == original.content.count(b"#")  # comments kept


def test_a_weights_file_the_rewrite_cannot_follow_is_refused() -> None:
    packaged = load_weights()
    quoted = parse_weights(packaged.content.replace(b"\nlevel_1 =", b'\n"level_1" =', 1))
    with pytest.raises(WeightsRefused, match="no line"):
        refitted_weights(quoted, 70.0, 30.0, "refit-7")


def test_refitted_weights_need_a_new_version() -> None:
    packaged = load_weights()
    with pytest.raises(WeightsRefused, match="new version"):
        refitted_weights(packaged, 70.0, 30.0, packaged.version)
