"""Calibration measured honestly: the level thresholds fitted on one evaluation set's labels
and measured on the other, never on the set they were fitted on.

    python benchmarks/bench_triage_calibration.py [--backend sqlite|postgresql]
        [--reports 2000] [--seed 1] [--batch 200] [--weights FILE]

Both sets of bench_triage.py (synthetic, independent) are loaded into fresh databases and
scored with the weights. Each set's true levels are written as analysts' overrides and
exported with vigil.triage.labelled.export_labels (what `vigil triage labels export` writes),
then fitted with vigil.triage.calibration.fit_thresholds (what `vigil triage refit` runs);
the overrides are removed again before anything is measured. Then, both ways (fit on
synthetic -> measure independent; fit on independent -> measure synthetic): the thresholds
chosen and how they did on the set they were fitted on, and on the OTHER set the queue and
the reliability table under the weights' own thresholds and under the fitted ones (the
other set re-scored with them). Nothing here changes the packaged weights.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update

from benchmarks.bench_triage import (
    SETS,
    Loaded,
    database_for,
    mark_stale,
    measured,
    ordering_line,
    reliability_lines,
    score_all,
    set_loader,
)
from benchmarks.machine import describe
from vigil.store import Database
from vigil.store.models import ReportTriage
from vigil.triage.calibration import (
    CalibrationRefused,
    Example,
    Fit,
    LevelFit,
    fit_thresholds,
    out_of_reach,
)
from vigil.triage.labelled import export_labels
from vigil.triage.levels import LEVELS
from vigil.triage.weights import Weights, load_weights


def labelled_examples(
    database: Database, levels: Mapping[int, int], weights: Weights
) -> tuple[list[Example], dict[str, int]]:
    """The set's true levels as overrides, exported as labels and turned into examples (and
    what the export left out, by reason); the overrides are removed afterwards."""
    with database.transaction(write=True) as session:
        for level in LEVELS:
            ids = [report_id for report_id, truth in levels.items() if truth == level]
            session.execute(
                update(ReportTriage)
                .where(ReportTriage.report_id.in_(ids))
                .values(override_priority=level)
            )
    try:
        with database.transaction() as session:
            labels = export_labels(session, weights)
    finally:
        with database.transaction(write=True) as session:
            session.execute(update(ReportTriage).values(override_priority=None))
    return labels.examples(), dict(labels.left_out)


def objective(name: str, level: LevelFit) -> str:
    share = "-" if level.share is None else f"{level.share:.1%}"
    return (
        f"  {name} on the fit set: {level.right} of {level.placed} placed are right "
        f"({share}, {'met' if level.met else 'NOT met'}); {level.recall:.1%} of "
        f"{level.reachable} found"
    )


def fit_lines(name: str, examples: Sequence[Example], left_out: Mapping[str, int], fit: Fit,
              weights: Weights) -> list[str]:  # fmt: skip
    left = ", ".join(f"{why}: {count}" for why, count in sorted(left_out.items())) or "none"
    return [
        f"fitted on {name}: {len(examples)} labelled reports (left out: {left}); kept by the "
        f"rules below their true level (no threshold helps): {out_of_reach(examples)}",
        "  thresholds     level_1  level_2",
        f"  weights'      {weights.level_1:>8g} {weights.level_2:>8g}",
        f"  fitted        {fit.level_1.threshold:>8g} {fit.level_2.threshold:>8g}",
        objective("level 1", fit.level_1),
        objective("levels 1-2", fit.level_2),
    ]


def measure_lines(
    database: Database, loaded: Loaded, weights: Weights, batch: int, title: str
) -> list[str]:
    """The set re-scored with ``weights``: its queue and reliability table."""
    mark_stale(database, list(loaded.levels))
    score_all(database, weights, batch)
    result = measured(database, loaded.levels, loaded.arrival)
    return [
        title,
        ordering_line("triage queue", result.triaged),
        *reliability_lines(loaded.levels, result.computed),
    ]


def cross(
    fit_name: str,
    measure_name: str,
    databases: Mapping[str, Database],
    sets: Mapping[str, Loaded],
    labelled: Mapping[str, tuple[list[Example], dict[str, int]]],
    weights: Weights,
    batch: int,
) -> list[str]:
    """Fit on ``fit_name``'s labels, measure on ``measure_name``."""
    examples, left_out = labelled[fit_name]
    head = f"\n== fit on {fit_name} -> measure on {measure_name} =="
    try:
        fit = fit_thresholds(examples, weights.level_1, weights.level_2)
    except CalibrationRefused as exc:
        return [head, f"fit refused: {exc}"]
    fitted = replace(weights, level_1=fit.level_1.threshold, level_2=fit.level_2.threshold)
    database, loaded = databases[measure_name], sets[measure_name]
    return [
        head,
        *fit_lines(fit_name, examples, left_out, fit, weights),
        *measure_lines(
            database, loaded, weights, batch,
            f"{measure_name}, weights' thresholds "
            f"({weights.level_1:g} / {weights.level_2:g}):",
        ),
        *measure_lines(
            database, loaded, fitted, batch,
            f"{measure_name}, thresholds fitted on {fit_name} "
            f"({fitted.level_1:g} / {fitted.level_2:g}):",
        ),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=2000, help="synthetic reports")
    parser.add_argument("--seed", type=int, default=1, help="of the synthetic set")
    parser.add_argument("--batch", type=int, default=200, help="score_pending limit per poll")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--weights", type=Path, default=None, help="default: packaged")
    args = parser.parse_args()
    weights = load_weights(args.weights)
    print(f"machine: {describe()}")
    print(
        f"backend: {args.backend}; weights {weights.version} ({weights.sha256[:12]}); "
        f"synthetic: {args.reports} reports, seed {args.seed}"
    )
    with contextlib.ExitStack() as stack:
        databases = {name: stack.enter_context(database_for(args.backend)) for name in SETS}
        sets = {name: set_loader(name, args.reports, args.seed)(databases[name]) for name in SETS}
        for name in SETS:
            score_all(databases[name], weights, args.batch)
            print(f"{name}: {sets[name].summary}")
        labelled = {
            name: labelled_examples(databases[name], sets[name].levels, weights) for name in SETS
        }
        for fit_name, measure_name in (SETS, SETS[::-1]):
            print(
                "\n".join(
                    cross(fit_name, measure_name, databases, sets, labelled, weights, args.batch)
                )
            )


if __name__ == "__main__":
    main()
