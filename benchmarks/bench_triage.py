"""Triage quality and speed: synthetic clearinghouse reports with known urgency, scored by the
packaged weights, against reading them in arrival order (a unit without triage).

    python benchmarks/bench_triage.py [--reports 2000] [--seed 1] [--batch 200]
        [--backend sqlite|postgresql] [--weights FILE]

The reports are real intake rows (vigil.triage.synthetic: parsed documents, files with
verdicts, classifications and annotations, viral incidents, shared identifiers; no media).
Their level (1 = a child may be in imminent danger .. 4 = informational) comes from the
scenario that made them, never from the scorer. Measured:

* share of level-1 reports in the top K of the queue, K = the number of level-1 reports
  (precision at K, which equals recall at K here), recall within 2K, and the same at K=50;
* pairwise ordering accuracy (pairs of different levels in the right order) and
  Goodman-Kruskal gamma, for the queue and for arrival order, and their ratio;
* the reliability table: of the reports placed at level N, how many are level N in truth,
  and how their true levels spread (vigil.triage.calibration);
* scoring time per report, in the job's batches (score_pending, limit --batch), and for one
  report alone: a report is scored within poll_seconds + that time of its /finish.

Another evaluation set is measured the same way with ``evaluate(database, levels)``: its
reports already scored in ``database``, ``levels`` mapping each report id to its true level.

SQLite runs in a temporary directory; PostgreSQL in a fresh database at 127.0.0.1:5432
(dropped at the end, as in bench_intake.py).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from benchmarks.machine import describe
from vigil.core.settings import load_settings
from vigil.store import Database, open_database, upgrade_database
from vigil.store.models import IntakeReport, ReportTriage
from vigil.triage.calibration import reliability, render_reliability
from vigil.triage.evaluation import Ordering, measure
from vigil.triage.service import score_pending, triage_queue
from vigil.triage.synthetic import generate
from vigil.triage.weights import Weights, load_weights


@contextlib.contextmanager
def database_for(backend: str) -> Iterator[Database]:
    if backend == "postgresql":
        from benchmarks.bench_intake import fresh_database

        with fresh_database(keep=False) as url:
            yield _migrated(url)
        return
    with tempfile.TemporaryDirectory() as directory:
        yield _migrated(f"sqlite:///{directory}/triage.db")


def _migrated(url: str) -> Database:
    upgrade_database(load_settings(database_url=url, data_dir=Path(tempfile.gettempdir())))
    return open_database(url)


def score_all(database: Database, weights: Weights, batch: int) -> tuple[int, float, float]:
    """(reports scored, seconds in total, slowest batch in seconds)."""
    scored, total, slowest = 0, 0.0, 0.0
    while True:
        started = time.perf_counter()
        with database.transaction(write=True) as session:
            done = score_pending(session, weights, limit=batch)
        elapsed = time.perf_counter() - started
        if not done:
            return scored, total, slowest
        scored, total, slowest = scored + len(done), total + elapsed, max(slowest, elapsed)


def queue_order(database: Database, levels: Mapping[int, int]) -> list[int]:
    """The queue as an investigator reads it, keeping only the reports in ``levels``."""
    order: list[int] = []
    read = 0
    with database.transaction() as session:
        while page := triage_queue(session, limit=500, offset=read):
            read += len(page)
            order += [entry.report_id for entry in page if entry.report_id in levels]
    return order


def arrival_order(database: Database, levels: Mapping[int, int]) -> list[int]:
    """The reports in ``levels`` in the order they were finished: a unit without triage."""
    with database.transaction() as session:
        rows = session.execute(
            select(IntakeReport.id)
            .where(IntakeReport.id.in_(list(levels)))
            .order_by(IntakeReport.finished_at, IntakeReport.id)
        )
        return [report_id for (report_id,) in rows]


def computed_levels(database: Database, levels: Mapping[int, int]) -> dict[int, int]:
    """The level the scorer gave each report in ``levels`` (not a person's override)."""
    with database.transaction() as session:
        rows = session.execute(
            select(ReportTriage.report_id, ReportTriage.priority).where(
                ReportTriage.report_id.in_(list(levels))
            )
        )
        return {report_id: priority for report_id, priority in rows}


def one_report_seconds(database: Database, weights: Weights, seed: int) -> float:
    with database.transaction(write=True) as session:
        generate(session, 1, seed=seed + 1)
    started = time.perf_counter()
    with database.transaction(write=True) as session:
        score_pending(session, weights, limit=1)
    return time.perf_counter() - started


def share_in_top(order: Sequence[int], levels: Mapping[int, int], k: int) -> float:
    urgent = sum(1 for level in levels.values() if level == 1)
    found = sum(1 for report_id in order[:k] if levels[report_id] == 1)
    return found / min(k, urgent) if urgent else 0.0


def confusion(levels: Mapping[int, int], computed: Mapping[int, int]) -> list[str]:
    counts = Counter((truth, computed.get(report_id)) for report_id, truth in levels.items())
    lines = ["ground truth -> computed level (reports)"]
    for truth in (1, 2, 3, 4):
        row = "  ".join(f"{level}:{counts[(truth, level)]:>4}" for level in (1, 2, 3, 4))
        lines.append(f"  level {truth}:  {row}")
    return lines


def reliability_lines(levels: Mapping[int, int], computed: Mapping[int, int]) -> list[str]:
    """Of the reports placed at level N, how many are level N in truth (unscored left out)."""
    pairs = [(computed[r], truth) for r, truth in levels.items() if r in computed]
    return [
        "reliability: computed level -> true level (reports)",
        render_reliability(reliability(pairs)),
    ]


def evaluate(
    database: Database, levels: Mapping[int, int], arrival: Sequence[int] | None = None
) -> list[str]:
    """The queue of the scored reports in ``levels`` (report id -> true level) against
    arrival order (``arrival``; default: finished time): ordering, level-1 reports in the top
    50, the confusion table and the reliability table, as printed lines."""
    order = queue_order(database, levels)
    arrival = list(arrival) if arrival is not None else arrival_order(database, levels)
    triaged, baseline = measure(order, levels), measure(arrival, levels)
    computed = computed_levels(database, levels)
    return [
        ordering_line("triage queue", triaged),
        ordering_line("arrival order", baseline),
        f"ratio (queue / arrival): level-1 in top K "
        f"{ratio(triaged.precision_at_k, baseline.precision_at_k)}, "
        f"pairwise {ratio(triaged.pairwise, baseline.pairwise)}",
        f"level-1 in the top 50: queue {share_in_top(order, levels, 50):.1%}, "
        f"arrival {share_in_top(arrival, levels, 50):.1%}",
        *confusion(levels, computed),
        *reliability_lines(levels, computed),
    ]


def ordering_line(name: str, result: Ordering) -> str:
    return (
        f"{name:<14} level-1 in top K={result.top_k}: {result.precision_at_k:6.1%}  "
        f"within 2K: {result.recall_at_2k:6.1%}  pairwise: {result.pairwise:6.1%}  "
        f"gamma: {result.gamma:+.3f}"
    )


def ratio(measured: float, reference: float) -> str:
    return f"{measured / reference:.1f}x" if reference else "n/a (reference 0)"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=200, help="score_pending limit per poll")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--weights", type=Path, default=None, help="default: packaged")
    args = parser.parse_args()
    weights = load_weights(args.weights)
    print(f"machine: {describe()}")
    print(
        f"backend: {args.backend}; weights {weights.version} ({weights.sha256[:12]}); "
        f"{args.reports} synthetic reports, seed {args.seed}"
    )
    with database_for(args.backend) as database:
        try:
            started = time.perf_counter()
            with database.transaction(write=True) as session:
                made = generate(session, args.reports, seed=args.seed)
            print(
                f"generated in {time.perf_counter() - started:.1f} s; levels "
                + ", ".join(
                    f"{level}: {count}"
                    for level, count in sorted(Counter(r.level for r in made).items())
                )
            )
            scored, seconds, slowest = score_all(database, weights, args.batch)
            print(
                f"scored {scored} reports in {seconds:.2f} s: "
                f"{seconds / max(1, scored) * 1000:.2f} ms a report; slowest batch of "
                f"{args.batch}: {slowest * 1000:.0f} ms"
            )
            levels = {report.report_id: report.level for report in made}
            arrival = [r.report_id for r in sorted(made, key=lambda r: r.finished_at)]
            print("\n".join(evaluate(database, levels, arrival)))
            single = one_report_seconds(database, weights, args.seed)
            print(
                f"one report alone: {single * 1000:.1f} ms to score; with the job's default "
                f"poll of 0.5 s a report is scored within {0.5 + single:.2f} s of /finish"
            )
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
