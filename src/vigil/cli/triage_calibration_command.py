"""`vigil triage labels export` and `vigil triage refit`: people's decisions written out as
labelled reports, and the priority thresholds fitted to them, shown before and after (the
reliability table on the labels) and applied only with --apply, as a new weights version
through the audited weights path (docs/triage-calibration.md)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import typer

from vigil.cli.database_access import default_actor, error_console, fail, store_session
from vigil.core.files import create_atomically, write_atomically
from vigil.core.settings import load_settings
from vigil.triage.calibration import (
    TARGET_SHARE,
    CalibrationRefused,
    Fit,
    LevelFit,
    fit_thresholds,
    out_of_reach,
    placements,
    reliability,
    render_reliability,
)
from vigil.triage.labelled import export_labels
from vigil.triage.labels_file import MAX_EXAMPLES, Labels, LabelsRefused, labels_lines, read_labels
from vigil.triage.levels import LEVELS
from vigil.triage.refitted import refitted_weights
from vigil.triage.service import apply_weights
from vigil.triage.weights import Weights, WeightsRefused, load_weights

labels_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Labelled reports from analysts' overrides and agencies' decisions.",
)

WEIGHTS_OPTION = typer.Option(
    None,
    "--weights",
    help="A weights file (TOML); default: the configured triage.weights_file, else the "
    "packaged default.",
)


def configured_weights(path: Path | None) -> Weights:
    """The weights in ``path``, else the configured file, else the packaged default; a
    refused file ends the command with its one-line reason."""
    try:
        return load_weights(path or load_settings().triage.weights_file)
    except WeightsRefused as exc:
        fail(error_console(), str(exc))


@labels_app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="The labels file to write (JSON lines)."),
    path: Path | None = WEIGHTS_OPTION,
    limit: int = typer.Option(
        MAX_EXAMPLES, "--limit", min=1, max=MAX_EXAMPLES, help="At most this many reports."
    ),
) -> None:
    """Write every report with a decision and the level it implies, scored by the weights."""
    console = error_console()
    weights = configured_weights(path)
    with store_session(console) as session:
        labels = export_labels(session, weights, limit=limit)
    try:
        write_atomically(out, labels_lines(labels))
    except OSError as exc:
        fail(console, f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"wrote {len(labels.reports)} labelled reports (weights {weights.version}) to {out}")
    typer.echo(_summary(labels))


def _summary(labels: Labels) -> str:
    truths = Counter(report.true_level for report in labels.reports)
    lines = ["true levels: " + ", ".join(f"{level}: {truths[level]}" for level in LEVELS)]
    lines += [f"left out: {count}\t{why}" for why, count in sorted(labels.left_out.items())]
    return "\n".join(lines)


def refit(
    labels_path: Path = typer.Option(
        ..., "--labels", help="A labels file from `vigil triage labels export`."
    ),
    path: Path | None = WEIGHTS_OPTION,
    apply: bool = typer.Option(
        False, "--apply", help="Write the refitted weights and apply them (audited)."
    ),
    version: str | None = typer.Option(
        None, "--version", help="The new weights version (with --apply)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Where --apply writes the new weights file (a new file)."
    ),
) -> None:
    """Fit the level thresholds to labelled reports and show what changes; --apply applies."""
    console = error_console()
    weights = configured_weights(path)
    try:
        labels = read_labels(labels_path)
    except LabelsRefused as exc:
        fail(console, str(exc))
    if labels.weights_sha256 != weights.sha256:
        fail(
            console,
            f"the labels were scored with weights {labels.weights_version}, not "
            f"{weights.version}: export them again with these weights (--weights)",
        )
    try:
        fit = fit_thresholds(labels.examples(), weights.level_1, weights.level_2)
    except CalibrationRefused as exc:
        fail(console, str(exc))
    typer.echo(_shown(labels, weights, fit))
    if apply:
        _apply(weights, fit, version, out)
    else:
        typer.echo("nothing applied: add --apply --version V --out FILE to apply")


def _shown(labels: Labels, weights: Weights, fit: Fit) -> str:
    examples = labels.examples()
    before = reliability(placements(examples, weights.level_1, weights.level_2))
    after = reliability(placements(examples, fit.level_1.threshold, fit.level_2.threshold))
    return "\n".join(
        [
            f"{len(examples)} labelled reports, weights {weights.version}",
            _summary(labels),
            f"{'':<10}{'level_1':>9}{'level_2':>9}",
            f"{'current':<10}{weights.level_1:>9g}{weights.level_2:>9g}",
            f"{'proposed':<10}{fit.level_1.threshold:>9g}{fit.level_2.threshold:>9g}",
            _objective("level 1", fit.level_1),
            _objective("levels 1-2", fit.level_2),
            f"kept by the rules below their true level (no threshold helps): "
            f"{out_of_reach(examples)}",
            "before (current thresholds):",
            render_reliability(before),
            "after (proposed thresholds):",
            render_reliability(after),
        ]
    )


def _objective(name: str, level: LevelFit) -> str:
    share = "-" if level.share is None else f"{level.share:.1%}"
    met = "met" if level.met else "NOT met"
    return (
        f"{name}: {level.right} of {level.placed} placed are right ({share}, target "
        f"{TARGET_SHARE:.0%}: {met}); {level.recall:.1%} of {level.reachable} found"
    )


def _apply(weights: Weights, fit: Fit, version: str | None, out: Path | None) -> None:
    console = error_console()
    if version is None or out is None:
        fail(console, "--apply needs --version (the new weights version) and --out (its file)")
    if not fit.met:
        fail(console, "the proposed thresholds do not meet the objective: not applied")
    proposed = (fit.level_1.threshold, fit.level_2.threshold)
    if proposed == (weights.level_1, weights.level_2):
        fail(console, "the proposed thresholds are the current ones: nothing to apply")
    try:
        refitted = refitted_weights(weights, *proposed, version)
        create_atomically(out, refitted.content)
    except WeightsRefused as exc:
        fail(console, str(exc))
    except FileExistsError:
        fail(console, f"{out} exists: give the new weights file a new name")
    except OSError as exc:
        fail(console, f"cannot write {out}: {exc.strerror or exc}")
    with _removed_on_failure(out), store_session(console, write=True) as session:
        try:
            rescored = apply_weights(session, refitted, default_actor())
        except WeightsRefused as exc:
            fail(console, str(exc))
    typer.echo(
        f"wrote {out} and applied weights {version}: {rescored} reports re-scored; set "
        f"[triage] weights_file = {out} so the triage job scores new reports with them"
    )


@contextlib.contextmanager
def _removed_on_failure(path: Path) -> Iterator[None]:
    """The new file goes when the weights are not applied: nothing half done is left."""
    try:
        yield
    except BaseException:
        path.unlink(missing_ok=True)
        raise
