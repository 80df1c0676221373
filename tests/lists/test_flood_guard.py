"""The flood-guard rule: a surge is more than max(min_matches, threshold x usual hourly rate,
confirmed rate), judged only once live matches were counted long enough."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.lists.flood_guard import FloodGuardRule, judge_hour

HOUR = datetime(2024, 5, 1, 13, tzinfo=UTC)
RULE = FloodGuardRule(threshold=10.0, min_matches=50, baseline_hours=168)
WATCHED = HOUR - timedelta(days=30)  # live matches counted for a month: every entry judged


def _hours_before(count: int, matches: int) -> list[tuple[datetime, int]]:
    return [(HOUR - timedelta(hours=n), matches) for n in range(1, count + 1)]


def test_a_new_entry_is_judged_against_min_matches() -> None:
    assert not judge_hour(HOUR, 50, [], RULE, counting_since=WATCHED).surge
    verdict = judge_hour(HOUR, 51, [], RULE, counting_since=WATCHED)
    assert verdict.surge
    assert verdict.limit == 50 and verdict.baseline_rate == 0


def test_a_busy_entry_is_judged_against_its_usual_rate() -> None:
    history = _hours_before(168, 20)  # usually 20 an hour: the limit is 200
    assert not judge_hour(HOUR, 200, history, RULE, counting_since=WATCHED).surge
    verdict = judge_hour(HOUR, 201, history, RULE, counting_since=WATCHED)
    assert verdict.surge
    assert verdict.baseline_rate == 20 and verdict.limit == 200


def test_hours_without_matches_count_as_zero() -> None:
    # 168 matches in one hour of the week: a usual rate of 1 an hour, so min_matches rules.
    verdict = judge_hour(HOUR, 60, [(HOUR - timedelta(hours=3), 168)], RULE, counting_since=WATCHED)
    assert verdict.baseline_rate == 1 and verdict.limit == 50 and verdict.surge


def test_buckets_outside_the_window_are_ignored() -> None:
    history = [
        (HOUR - timedelta(hours=169), 100_000),  # older than the baseline window
        (HOUR, 100_000),  # the hour being judged is not its own baseline
        (HOUR + timedelta(hours=1), 100_000),
    ]
    assert judge_hour(HOUR, 51, history, RULE, counting_since=WATCHED).baseline_rate == 0


def test_the_explanation_says_why() -> None:
    verdict = judge_hour(HOUR, 612, _hours_before(10, 168), RULE, counting_since=WATCHED)
    assert verdict.surge
    text = verdict.explanation
    assert "612 matches" in text and "2024-05-01T13:00" in text
    assert "more than the limit of 100" in text and "10 x the usual 10.00 per hour" in text
    quiet = judge_hour(HOUR, 3, [], RULE, counting_since=WATCHED)
    assert "within the limit" in quiet.explanation


@pytest.mark.parametrize(
    "fields",
    [{"threshold": 1.0}, {"min_matches": 0}, {"baseline_hours": 0}, {"min_history_hours": -1}],
)
def test_invalid_rules_are_refused(fields: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FloodGuardRule(**fields)  # type: ignore[arg-type]


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        judge_hour(HOUR, -1, [], RULE, counting_since=WATCHED)


@given(
    matches=st.integers(0, 10_000),
    counts=st.lists(st.integers(1, 500), max_size=30),
    threshold=st.floats(1.01, 50),
    min_matches=st.integers(1, 500),
)
def test_surge_exactly_above_the_documented_limit(
    matches: int, counts: list[int], threshold: float, min_matches: int
) -> None:
    rule = FloodGuardRule(threshold=threshold, min_matches=min_matches, baseline_hours=24)
    history = [(HOUR - timedelta(hours=n + 1), count) for n, count in enumerate(counts)]
    usual = sum(counts[:24]) / 24
    verdict = judge_hour(HOUR, matches, history, rule, counting_since=WATCHED)
    assert verdict.surge == (matches > max(min_matches, threshold * usual))


def test_nothing_is_judged_before_enough_history() -> None:
    # A new install: a popular listed file is not a surge against a baseline of zero.
    for since in (None, HOUR - timedelta(hours=23)):
        verdict = judge_hour(HOUR, 10_000, [], RULE, counting_since=since)
        assert not verdict.surge and not verdict.judged
        assert "not judged" in verdict.explanation
    verdict = judge_hour(HOUR, 10_000, [], RULE, counting_since=HOUR - timedelta(hours=24))
    assert verdict.surge and verdict.judged


def test_no_history_needed_when_the_setting_says_so() -> None:
    rule = FloodGuardRule(min_matches=50, min_history_hours=0)
    assert judge_hour(HOUR, 51, [], rule, counting_since=None).surge


def test_a_confirmed_rate_is_not_flagged_again() -> None:
    assert not judge_hour(HOUR, 300, [], RULE, counting_since=WATCHED, accepted_rate=300).surge
    verdict = judge_hour(HOUR, 301, [], RULE, counting_since=WATCHED, accepted_rate=300)
    assert verdict.surge and verdict.limit == 300
    assert "confirmed 300 per hour" in verdict.explanation


def test_negative_accepted_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        judge_hour(HOUR, 1, [], RULE, counting_since=WATCHED, accepted_rate=-1)
