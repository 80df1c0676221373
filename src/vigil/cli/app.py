"""The `vigil` command: one Typer application, one module per command group."""

from __future__ import annotations

import typer

from vigil.cli import (
    db_command,
    hash_command,
    lists_command,
    match_command,
    scan_command,
    serve_command,
    worker_command,
)
from vigil.cli.admin_command import app as admin_app
from vigil.cli.agency_command import app as agency_app
from vigil.cli.audit_command import app as audit_app
from vigil.cli.clearinghouse_command import app as clearinghouse_app
from vigil.cli.evidence_command import app as evidence_app
from vigil.cli.exchanges_command import app as exchanges_app
from vigil.cli.package_command import app as package_app
from vigil.cli.scan_jobs_command import app as scan_jobs_app
from vigil.cli.stats_command import app as stats_app
from vigil.cli.triage_command import app as triage_app
from vigil.core.private_files import restrict_umask

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Vigil: fingerprint, match, review and report child sexual abuse material.",
)
app.command("hash")(hash_command.hash_files)
app.command("match")(match_command.match_files)
app.command("scan")(scan_command.scan_files)
app.command("serve")(serve_command.serve)
app.command("worker")(worker_command.worker)
app.add_typer(lists_command.app, name="lists")
app.add_typer(exchanges_app, name="exchanges")
app.add_typer(db_command.app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(admin_app, name="admin")
app.add_typer(evidence_app, name="evidence")
app.add_typer(clearinghouse_app, name="clearinghouse")
app.add_typer(agency_app, name="agency")
app.add_typer(triage_app, name="triage")
app.add_typer(stats_app, name="stats")
app.add_typer(scan_jobs_app, name="scan-jobs")
app.add_typer(package_app, name="package")


@app.callback()
def root() -> None:
    """Vigil: fingerprint, match, review and report child sexual abuse material."""


def main() -> None:
    # Before anything is created: SQLite's -wal/-shm, temporary files and anything written on
    # our behalf are then private too, not only the files Vigil creates 0600 itself.
    restrict_umask()
    app()
