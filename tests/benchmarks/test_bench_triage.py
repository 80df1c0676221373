"""benchmarks/bench_triage.py's evaluation path: evaluate() on both backends (scored reports
and their true levels in; the ordering, confusion and reliability tables out, counting only
the reports named), the independent case set loaded, scored and measured through it on
SQLite, and issue 20's targets judged PASS or FAIL."""

from __future__ import annotations

from collections import Counter

from benchmarks.bench_triage import (
    Measured,
    Timing,
    arrival_order,
    computed_levels,
    evaluate,
    level_1_share,
    load_independent,
    measured,
    target_lines,
    timed_scoring,
)
from benchmarks.triage_cases.case import Case, load_cases
from tests.triage import triage_rows as rows
from vigil.store import Database, open_database
from vigil.store.models import FileVerdict
from vigil.triage.evaluation import measure
from vigil.triage.levels import LEVELS
from vigil.triage.service import score_pending
from vigil.triage.weights import load_weights


def test_evaluate_measures_only_the_named_reports(database: Database) -> None:
    with database.transaction(write=True) as session:
        owner = rows.company(session)
        escalated = rows.report(
            session, owner, rows.document(escalation="a child is at risk"),
            [(FileVerdict.NEW, "A1", [])],
        )  # fmt: skip
        quiet = [rows.report(session, owner, files=[(FileVerdict.KNOWN, "B2", [])]) for _ in "ab"]
        rows.report(session, owner, files=[(FileVerdict.NEW, "A1", [])])  # not in the set
        score_pending(session, load_weights())
    levels = {escalated.id: 1, quiet[0].id: 3, quiet[1].id: 2}
    lines = evaluate(database, levels)
    computed = computed_levels(database, levels)
    assert set(computed) == set(levels)
    table = lines[lines.index("reliability: computed level -> true level (reports)") + 2 :]
    placed = Counter(computed.values())
    for level, line in enumerate(table, start=1):
        cells = line.split()
        assert cells[:3] == ["level", str(level), str(placed[level])]
        right = sum(1 for r, truth in levels.items() if truth == level == computed[r])
        assert int(cells[3]) == right
    assert "level-1 in top K=1" in lines[0]


def few_cases(per_level: int = 3) -> list[Case]:
    """The first ``per_level`` cases of each true level in the independent case file."""
    cases = load_cases()
    return [case for level in LEVELS for case in [c for c in cases if c.level == level][:per_level]]


def test_the_independent_set_runs_through_the_evaluation_path(sqlite_url: str) -> None:
    database = open_database(sqlite_url)
    try:
        cases = few_cases()
        loaded = load_independent(database, cases)
        assert sorted(loaded.levels.values()) == sorted(case.level for case in cases)
        assert loaded.arrival == arrival_order(database, loaded.levels)
        timing = timed_scoring(database, load_weights(), 5, loaded.arrival)
        result = measured(database, loaded.levels, loaded.arrival)
    finally:
        database.dispose()
    assert timing.scored == len(cases)
    assert len(timing.single) == len(cases)  # fewer than SINGLES: each re-scored alone
    assert set(result.computed) == set(loaded.levels)
    assert sorted(result.order) == sorted(loaded.levels)
    assert result.triaged.top_k == sum(1 for case in cases if case.level == 1)
    share = level_1_share(loaded.levels, result.computed)
    lines = target_lines("independent", result, timing, "sqlite")
    level_1_line = next(line for line in lines if "placed at level 1" in line)
    if share is None:
        assert level_1_line.endswith("none placed FAIL")
    else:
        assert level_1_line.endswith("PASS" if share >= 0.75 else "FAIL")
    assert lines[-1].endswith("(judged on PostgreSQL)")  # time is judged on PostgreSQL only


def test_targets_fail_when_nothing_is_placed_at_level_1() -> None:
    levels = {1: 1, 2: 2, 3: 3}
    computed = {1: 2, 2: 2, 3: 3}
    order = [1, 2, 3]
    result = Measured(
        levels, order, order, measure(order, levels), measure(order, levels), computed
    )
    slow = Timing(3, 0.09, 0.09, 3, [0.025])
    lines = target_lines("synthetic", result, slow, "postgresql")
    assert level_1_share(levels, computed) is None
    assert lines[1].endswith("PASS")  # the only level-1 report is first
    assert lines[3].endswith("none placed FAIL")
    assert lines[4].endswith("FAIL")  # 30 ms a report in batches, 25 ms alone
