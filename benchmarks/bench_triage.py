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
* scoring time per report, in the job's batches (score_pending, limit --batch), and for one
  report alone: a report is scored within poll_seconds + that time of its /finish.

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
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from benchmarks.machine import describe
from vigil.core.settings import load_settings
from vigil.store import Database, open_database, upgrade_database
from vigil.store.models import ReportTriage
from vigil.triage.evaluation import Ordering, measure
from vigil.triage.service import score_pending, triage_queue
from vigil.triage.synthetic import SyntheticReport, generate
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


def queue_order(database: Database, count: int) -> list[int]:
    order: list[int] = []
    with database.transaction() as session:
        while len(order) < count:
            page = triage_queue(session, limit=500, offset=len(order))
            if not page:
                break
            order += [entry.report_id for entry in page]
    return order


def one_report_seconds(database: Database, weights: Weights, seed: int) -> float:
    with database.transaction(write=True) as session:
        generate(session, 1, seed=seed + 1)
    started = time.perf_counter()
    with database.transaction(write=True) as session:
        score_pending(session, weights, limit=1)
    return time.perf_counter() - started


def share_in_top(order: list[int], levels: dict[int, int], k: int) -> float:
    urgent = sum(1 for level in levels.values() if level == 1)
    return sum(1 for report_id in order[:k] if levels[report_id] == 1) / min(k, urgent)


def confusion(database: Database, made: list[SyntheticReport]) -> list[str]:
    with database.transaction() as session:
        computed = dict(
            session.execute(select(ReportTriage.report_id, ReportTriage.priority)).all()
        )
    counts = Counter((report.level, computed.get(report.report_id)) for report in made)
    lines = ["ground truth -> computed level (reports)"]
    for truth in (1, 2, 3, 4):
        row = "  ".join(f"{level}:{counts[(truth, level)]:>4}" for level in (1, 2, 3, 4))
        lines.append(f"  level {truth}:  {row}")
    return lines


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
            order = queue_order(database, len(made))
            arrival = [r.report_id for r in sorted(made, key=lambda r: r.finished_at)]
            triaged, baseline = measure(order, levels), measure(arrival, levels)
            print(ordering_line("triage queue", triaged))
            print(ordering_line("arrival order", baseline))
            print(
                f"ratio (queue / arrival): level-1 in top K "
                f"{ratio(triaged.precision_at_k, baseline.precision_at_k)}, "
                f"pairwise {ratio(triaged.pairwise, baseline.pairwise)}"
            )
            print(
                f"level-1 in the top 50: queue {share_in_top(order, levels, 50):.1%}, "
                f"arrival {share_in_top(arrival, levels, 50):.1%}"
            )
            print("\n".join(confusion(database, made)))
            single = one_report_seconds(database, weights, args.seed)
            print(
                f"one report alone: {single * 1000:.1f} ms to score; with the job's default "
                f"poll of 0.5 s a report is scored within {0.5 + single:.2f} s of /finish"
            )
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
