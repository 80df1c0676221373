"""`vigil db`: create or upgrade the database tables."""

from __future__ import annotations

import typer

from vigil.cli.database_access import command_errors, error_console
from vigil.core.settings import load_settings
from vigil.store import head_revision, upgrade_database

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="The database: create or upgrade its tables."
)


@app.command("upgrade")
def upgrade() -> None:
    """Create the tables, or bring them to this Vigil's version (safe to repeat)."""
    console = error_console()
    with command_errors(console):
        settings = load_settings()
        upgrade_database(settings)
    typer.echo(f"database {settings.masked_database_url} is at revision {head_revision()}")
