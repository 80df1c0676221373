"""Triage quality and speed on two evaluation sets with known urgency, scored by the packaged
weights, against reading them in arrival order (a unit without triage).

    python benchmarks/bench_triage.py [--set synthetic|independent|both] [--reports 2000]
        [--seed 1] [--batch 200] [--backend sqlite|postgresql] [--weights FILE]
        [--cases FILE]

The sets (each in its own fresh database, scored by score_pending as the job does):

* synthetic: vigil.triage.synthetic's real intake rows (parsed documents, files with
  verdicts, classifications and annotations, viral incidents, shared identifiers; no media),
  each report's level from the scenario that made it, never from the scorer;
* independent: benchmarks/triage_cases, 267 cases written apart from the synthetic set and
  the scorer, sent through the clearinghouse intake (load.py), each with its author's level;
  ``--cases FILE`` measures another case file of the same schema (e.g. heldout.json).

Their true levels are for measuring only: nothing is tuned on either set here, and
bench_triage_calibration.py fits the thresholds on one set and measures them on the other.
Measured per set:

* share of level-1 reports in the top K of the queue, K = the number of level-1 reports
  (precision at K, which equals recall at K here), recall within 2K, and the same at K=50;
* pairwise ordering accuracy (pairs of different levels in the right order) and
  Goodman-Kruskal gamma, for the queue and for arrival order, and their ratio;
* the reliability table: of the reports placed at level N, how many are level N in truth,
  and how their true levels spread (vigil.triage.calibration);
* scoring time per report, in the job's batches (score_pending, limit --batch), and for one
  report alone (a scored report made stale and re-scored by itself, median of SINGLES): a
  report is scored within poll_seconds + that time of its /finish;
* issue 20's targets, PASS or FAIL (TARGETS).

Another evaluation set is measured the same way with ``evaluate(database, levels)``: its
reports already scored in ``database``, ``levels`` mapping each report id to its true level.

The code measured is whatever ``vigil`` imports: with PYTHONPATH at an older checkout's src/
this benchmark measures that code (the reliability table then comes from this tree's
calibration module, which is pure, when the older code has none).

SQLite runs in a temporary directory; PostgreSQL in a fresh database at 127.0.0.1:5432
(dropped at the end, as in bench_intake.py).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, update

from benchmarks.machine import describe
from benchmarks.triage_cases.case import CASES_FILE, Case
from benchmarks.triage_cases.case import load_cases as read_cases
from benchmarks.triage_cases.load import load as load_cases
from vigil.core.settings import load_settings
from vigil.store import Database, open_database, upgrade_database
from vigil.store.models import IntakeReport, ReportTriage
from vigil.triage.evaluation import Ordering, measure
from vigil.triage.service import score_pending, triage_queue
from vigil.triage.synthetic import generate
from vigil.triage.weights import Weights, load_weights

SETS = ("synthetic", "independent")
SINGLES = 25  # reports re-scored one at a time for "one report alone"
POLL_SECONDS = 0.5  # the triage job's default poll

# Issue 20's targets, on both sets.
TARGET_TOP_K = 0.85  # level-1 reports in the top K
TARGET_PAIRWISE = 0.90
TARGET_LEVEL_1_SHARE = 0.75  # of the reports placed at level 1, level 1 in truth
TARGET_MS = 20.0  # scoring a report, on PostgreSQL


def _calibration() -> ModuleType:
    """vigil.triage.calibration, or this tree's copy when the vigil measured predates it."""
    try:
        return importlib.import_module("vigil.triage.calibration")
    except ModuleNotFoundError:
        path = Path(__file__).resolve().parent.parent / "src/vigil/triage/calibration.py"
        spec = importlib.util.spec_from_file_location("bench_triage_calibration_table", path)
        if spec is None or spec.loader is None:
            raise
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while defined
        spec.loader.exec_module(module)
        return module


calibration = _calibration()


@contextlib.contextmanager
def database_for(backend: str) -> Iterator[Database]:
    if backend == "postgresql":
        from benchmarks.bench_intake import fresh_database

        with fresh_database(keep=False) as url:
            database = _migrated(url)
            try:
                yield database
            finally:
                database.dispose()
        return
    with tempfile.TemporaryDirectory() as directory:
        database = _migrated(f"sqlite:///{directory}/triage.db")
        try:
            yield database
        finally:
            database.dispose()


def _migrated(url: str) -> Database:
    upgrade_database(load_settings(database_url=url, data_dir=Path(tempfile.gettempdir())))
    return open_database(url)


# --- the sets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """An evaluation set in a database: report id -> true level, the arrival order, and a
    line saying what was loaded."""

    levels: dict[int, int]
    arrival: list[int]
    summary: str


def load_synthetic(database: Database, reports: int, seed: int) -> Loaded:
    started = time.perf_counter()
    with database.transaction(write=True) as session:
        made = generate(session, reports, seed=seed)
    levels = {report.report_id: report.level for report in made}
    arrival = [r.report_id for r in sorted(made, key=lambda r: (r.finished_at, r.report_id))]
    return Loaded(levels, arrival, _summary("generated", levels, started))


def load_independent(database: Database, cases: Sequence[Case] | None = None) -> Loaded:
    """The independent cases (default: the whole case file) sent through the intake."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work_dir:
        levels = load_cases(database, Path(work_dir), cases)
    return Loaded(levels, list(levels), _summary("sent through the intake", levels, started))


def _summary(how: str, levels: Mapping[int, int], started: float) -> str:
    counts = sorted(Counter(levels.values()).items())
    return (
        f"{len(levels)} reports {how} in {time.perf_counter() - started:.1f} s; true levels "
        + ", ".join(f"{level}: {count}" for level, count in counts)
    )


def set_loader(
    name: str, reports: int, seed: int, cases_file: Path = CASES_FILE
) -> Callable[[Database], Loaded]:
    if name == "synthetic":
        return lambda database: load_synthetic(database, reports, seed)
    return lambda database: load_independent(database, read_cases(cases_file))


# --- scoring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    scored: int
    seconds: float
    slowest_batch: float
    batch: int
    single: Sequence[float]  # seconds to score one report alone, each time

    @property
    def batch_ms(self) -> float:
        return self.seconds / max(1, self.scored) * 1000

    @property
    def single_ms(self) -> float:
        return statistics.median(self.single) * 1000 if self.single else 0.0

    def lines(self) -> list[str]:
        worst = max(self.single, default=0.0) * 1000
        return [
            f"scored {self.scored} reports in {self.seconds:.2f} s: {self.batch_ms:.2f} ms a "
            f"report; slowest batch of {self.batch}: {self.slowest_batch * 1000:.0f} ms",
            f"one report alone ({len(self.single)} times): median {self.single_ms:.1f} ms, "
            f"slowest {worst:.1f} ms; with the job's poll of {POLL_SECONDS} s a report is "
            f"scored within {POLL_SECONDS + self.single_ms / 1000:.2f} s of /finish",
        ]


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


def mark_stale(database: Database, report_ids: Sequence[int]) -> None:
    """Flag these triaged reports for re-scoring (as a new fact would)."""
    with database.transaction(write=True) as session:
        session.execute(
            update(ReportTriage)
            .where(ReportTriage.report_id.in_(list(report_ids)))
            .values(stale=True)
        )


def single_seconds(database: Database, weights: Weights, report_ids: Sequence[int]) -> list[float]:
    """Seconds to score each of up to SINGLES reports (spread over ``report_ids``) alone,
    in its own transaction, as the job does when one report arrives between two polls."""
    step = max(1, len(report_ids) // SINGLES)
    times = []
    for report_id in list(report_ids)[::step][:SINGLES]:
        mark_stale(database, [report_id])
        started = time.perf_counter()
        with database.transaction(write=True) as session:
            score_pending(session, weights, limit=1)
        times.append(time.perf_counter() - started)
    return times


def timed_scoring(
    database: Database, weights: Weights, batch: int, report_ids: Sequence[int]
) -> Timing:
    scored, seconds, slowest = score_all(database, weights, batch)
    single = single_seconds(database, weights, report_ids)
    return Timing(scored, seconds, slowest, batch, single)


# --- measuring -----------------------------------------------------------------------------


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


def level_1_share(levels: Mapping[int, int], computed: Mapping[int, int]) -> float | None:
    """Of the reports placed at level 1, the share that are level 1 in truth."""
    placed = [levels[r] for r, level in computed.items() if level == 1 and r in levels]
    return sum(1 for truth in placed if truth == 1) / len(placed) if placed else None


def reliability_lines(levels: Mapping[int, int], computed: Mapping[int, int]) -> list[str]:
    """Of the reports placed at level N, how many are level N in truth (unscored left out)."""
    pairs = [(computed[r], truth) for r, truth in levels.items() if r in computed]
    table: str = calibration.render_reliability(calibration.reliability(pairs))
    return ["reliability: computed level -> true level (reports)", table]


@dataclass(frozen=True)
class Measured:
    """One scored set's queue against arrival order, and the levels it was given."""

    levels: Mapping[int, int]
    order: list[int]
    arrival: list[int]
    triaged: Ordering
    baseline: Ordering
    computed: dict[int, int]

    def lines(self) -> list[str]:
        triaged, baseline, levels = self.triaged, self.baseline, self.levels
        return [
            ordering_line("triage queue", triaged),
            ordering_line("arrival order", baseline),
            f"ratio (queue / arrival): level-1 in top K "
            f"{ratio(triaged.precision_at_k, baseline.precision_at_k)}, "
            f"pairwise {ratio(triaged.pairwise, baseline.pairwise)}",
            f"level-1 in the top 50: queue {share_in_top(self.order, levels, 50):.1%}, "
            f"arrival {share_in_top(self.arrival, levels, 50):.1%}",
            *confusion(levels, self.computed),
            *reliability_lines(levels, self.computed),
        ]


def measured(
    database: Database, levels: Mapping[int, int], arrival: Sequence[int] | None = None
) -> Measured:
    order = queue_order(database, levels)
    arrival = list(arrival) if arrival is not None else arrival_order(database, levels)
    computed = computed_levels(database, levels)
    return Measured(
        levels, order, arrival, measure(order, levels), measure(arrival, levels), computed
    )


def evaluate(
    database: Database, levels: Mapping[int, int], arrival: Sequence[int] | None = None
) -> list[str]:
    """The queue of the scored reports in ``levels`` (report id -> true level) against
    arrival order (``arrival``; default: finished time): ordering, level-1 reports in the top
    50, the confusion table and the reliability table, as printed lines."""
    return measured(database, levels, arrival).lines()


def ordering_line(name: str, result: Ordering) -> str:
    return (
        f"{name:<14} level-1 in top K={result.top_k}: {result.precision_at_k:6.1%}  "
        f"within 2K: {result.recall_at_2k:6.1%}  pairwise: {result.pairwise:6.1%}  "
        f"gamma: {result.gamma:+.3f}"
    )


def ratio(measured: float, reference: float) -> str:
    return f"{measured / reference:.1f}x" if reference else "n/a (reference 0)"


# --- the targets ---------------------------------------------------------------------------


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def target_lines(name: str, result: Measured, timing: Timing | None, backend: str) -> list[str]:
    """Issue 20's targets for one set, PASS or FAIL; time is judged on PostgreSQL only."""
    share = level_1_share(result.levels, result.computed)
    lines = [
        f"targets ({name}):",
        f"  level-1 in top K >= {TARGET_TOP_K:.0%}: {result.triaged.precision_at_k:.1%} "
        f"{verdict(result.triaged.precision_at_k >= TARGET_TOP_K)}",
        f"  pairwise >= {TARGET_PAIRWISE:.2f}: {result.triaged.pairwise:.3f} "
        f"{verdict(result.triaged.pairwise >= TARGET_PAIRWISE)}",
        f"  placed at level 1 that are level 1 >= {TARGET_LEVEL_1_SHARE:.0%}: "
        + (
            "none placed FAIL"
            if share is None
            else f"{share:.1%} {verdict(share >= TARGET_LEVEL_1_SHARE)}"
        ),
    ]
    if timing is not None:
        slowest = max(timing.batch_ms, timing.single_ms)
        judged = (
            verdict(slowest < TARGET_MS) if backend == "postgresql" else "(judged on PostgreSQL)"
        )
        lines.append(
            f"  scoring < {TARGET_MS:.0f} ms a report: batch {timing.batch_ms:.2f} ms, alone "
            f"{timing.single_ms:.1f} ms {judged}"
        )
    return lines


# --- the run -------------------------------------------------------------------------------


def run_set(name: str, args: argparse.Namespace, weights: Weights) -> None:
    """Load one set into a fresh database, score it, measure it and print the lines."""
    source = f", {args.cases.name}" if name == "independent" else ""
    print(f"\n== {name} set ({args.backend}{source}) ==")
    with database_for(args.backend) as database:
        loaded = set_loader(name, args.reports, args.seed, args.cases)(database)
        print(loaded.summary)
        timing = timed_scoring(database, weights, args.batch, loaded.arrival)
        result = measured(database, loaded.levels, loaded.arrival)
        print("\n".join([*timing.lines()[:1], *result.lines(), *timing.lines()[1:]]))
        print("\n".join(target_lines(name, result, timing, args.backend)))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--set", choices=(*SETS, "both"), default="both", dest="which")
    parser.add_argument("--reports", type=int, default=2000, help="synthetic reports")
    parser.add_argument("--seed", type=int, default=1, help="of the synthetic set")
    parser.add_argument("--batch", type=int, default=200, help="score_pending limit per poll")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--weights", type=Path, default=None, help="default: packaged")
    parser.add_argument("--cases", type=Path, default=CASES_FILE, help="the independent cases")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    weights = load_weights(args.weights)
    print(f"machine: {describe()}")
    print(
        f"backend: {args.backend}; weights {weights.version} ({weights.sha256[:12]}); "
        f"code: {Path(sys.modules['vigil'].__file__ or '').parent}; "
        f"synthetic: {args.reports} reports, seed {args.seed}"
    )
    for name in SETS if args.which == "both" else (args.which,):
        run_set(name, args, weights)


if __name__ == "__main__":
    main()
