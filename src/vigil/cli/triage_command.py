"""`vigil triage`: the weights in force, applying a new weights version (audited with the OS
user as actor; re-scores the open queue), re-scoring pending reports, the queue, and the
calibration commands (`labels export`, `refit`: vigil.cli.triage_calibration_command).

Which weights: --file, else [triage] weights_file, else the packaged default.
"""

from __future__ import annotations

from pathlib import Path

import typer

from vigil.cli.database_access import (
    default_actor,
    error_console,
    fail,
    store_session,
)
from vigil.cli.triage_calibration_command import configured_weights, labels_app, refit
from vigil.triage.levels import level_label
from vigil.triage.service import (
    applied_weights,
    apply_weights,
    mark_all_stale,
    score_pending,
    triage_queue,
)
from vigil.triage.weights import WeightsRefused

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Triage: weights, re-scoring and the queue of clearinghouse reports.",
)
weights_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="The versioned weights file."
)
app.add_typer(weights_app, name="weights")

FILE_OPTION = typer.Option(
    None,
    "--file",
    help="A weights file (TOML); default: the "
    "configured triage.weights_file, else the packaged default.",
)


@weights_app.command("show")
def show(
    path: Path | None = FILE_OPTION,
    applied: bool = typer.Option(
        False, "--applied", help="List the versions applied to the database."
    ),
) -> None:
    """Print the weights file (version, SHA-256, content); --applied: their history."""
    if applied:
        with store_session(error_console()) as session:
            lines = [
                f"{s.version}\t{s.sha256}\t{s.applied_at:%Y-%m-%d %H:%M}\t"
                f"{s.applied_by}\trescored {s.rescored}"
                for s in applied_weights(session)
            ]
        typer.echo("\n".join(lines) if lines else "no weights applied yet")
        return
    weights = configured_weights(path)
    typer.echo(f"# version {weights.version}  sha256 {weights.sha256}")
    typer.echo(weights.content.decode("utf-8"), nl=False)


@weights_app.command("apply")
def apply(path: Path | None = FILE_OPTION) -> None:
    """Apply a new weights version: stored, audited, and every open report re-scored."""
    console = error_console()
    weights = configured_weights(path)
    with store_session(console, write=True) as session:
        try:
            rescored = apply_weights(session, weights, default_actor())
        except WeightsRefused as exc:
            fail(console, str(exc))
    if rescored == 0:
        typer.echo(f"weights {weights.version} were already applied (or nothing to re-score)")
    else:
        typer.echo(f"applied weights {weights.version}: {rescored} reports re-scored")


@app.command("rescore")
def rescore(
    path: Path | None = FILE_OPTION,
    everything: bool = typer.Option(False, "--all", help="Re-score every triaged report too."),
    batch: int = typer.Option(
        500, "--batch", min=1, max=10_000, help="Reports scored per transaction."
    ),
) -> None:
    """Score finished reports not scored yet and stale ones (--all: every one)."""
    weights = configured_weights(path)
    total = 0
    with store_session(error_console(), write=True) as session:
        if everything:
            mark_all_stale(session)
        while scored := score_pending(session, weights, limit=batch):
            total += len(scored)
    typer.echo(f"scored {total} reports with weights {weights.version}")


@app.command("queue")
def queue(
    limit: int = typer.Option(20, "--limit", min=1, max=500, help="How many reports."),
    offset: int = typer.Option(
        0, "--offset", min=0, help="Skip this many of the most urgent first."
    ),
) -> None:
    """The queue, most urgent first: level, score, report, company and the top reasons."""
    with store_session(error_console()) as session:
        entries = triage_queue(session, limit=limit, offset=offset)
    if not entries:
        typer.echo("the triage queue is empty")
        return
    for entry in entries:
        marker = " (override)" if entry.overridden else ""
        reasons = "; ".join(
            f"{reason['name']} {reason['points']:+g}" for reason in entry.top_reasons()
        )
        typer.echo(
            f"level {level_label(entry.priority)}{marker}\tscore {entry.score:g}\t"
            f"report {entry.report_id}\t{entry.company}\t{reasons}"
        )


app.add_typer(labels_app, name="labels")
app.command("refit")(refit)
