"""benchmarks/bench_triage.py's evaluate(), on both backends, as a second evaluation set will
call it: scored reports in a database and their true levels in; the ordering, confusion and
reliability tables out, counting only the reports named (others in the queue are skipped)."""

from __future__ import annotations

from collections import Counter

from benchmarks.bench_triage import computed_levels, evaluate
from tests.triage import triage_rows as rows
from vigil.store import Database
from vigil.store.models import FileVerdict
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
