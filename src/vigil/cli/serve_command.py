"""`vigil serve`: the screening service under uvicorn.

Everything that must happen once happens here, before any worker starts: the embedded
database is migrated, the first administrator is created (its one-time password printed), the
evidence master key is found or created, and the index snapshot is built, so N workers open
one shared, memory-mapped snapshot instead of racing to build it.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
import uvicorn
from rich.console import Console

from vigil.cli.database_access import command_errors, error_console
from vigil.cli.demo_data import DEMO_LIST, DEMO_REVIEWER, seed_demo
from vigil.screening.live_index import LiveIndex, index_root
from vigil.store import Settings, load_settings, open_database
from vigil.store.accounts import bootstrap_admin
from vigil.store.evidence.keys import ensure_master_key
from vigil.store.migrate import prepare_schema

APP_FACTORY = "vigil.api.app:create_app_from_env"


def serve(
    host: str | None = typer.Option(None, help="Address to listen on [default: 127.0.0.1]."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port [default: 8000]."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (one per core)."),
    config: Path | None = typer.Option(None, "--config", exists=True, dir_okay=False,
                                       help="Settings file (TOML)."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    demo: bool = typer.Option(False, "--demo", help="Seed demo data (benign pictures, a "
                              "demo list, cases waiting, a reviewer account) first."),
) -> None:
    """Run the screening API (OpenAPI at /docs, after signing in)."""
    console = error_console()
    if config is not None:
        os.environ["VIGIL_CONFIG"] = str(config.resolve())  # the workers read it too
    with command_errors(console):
        settings = load_settings()
        _prepare(settings, console)
        if demo:
            _seed(settings, console)
    uvicorn.run(APP_FACTORY, factory=True, host=host or settings.server.host,
                port=port or settings.server.port, workers=workers, log_level=log_level,
                server_header=False)


def _prepare(settings: Settings, console: Console) -> None:
    _, created_key = ensure_master_key(settings)
    if created_key is not None:
        console.print(f"Created the evidence master key {created_key}. Back it up apart from "
                      "the data directory: without it, kept evidence cannot be read.",
                      style="yellow", markup=False)
    with open_database(settings) as database:
        prepare_schema(settings, database)
        with database.transaction(write=True) as session:
            password = bootstrap_admin(session)
        if password is not None:
            console.print("First run: created the administrator 'admin' with the one-time "
                          f"password {password}\nSign in and change it now; it is not shown "
                          "again.", style="bold yellow", markup=False)
        LiveIndex.open(database, index_root(settings.data_dir)).close()


def _seed(settings: Settings, console: Console) -> None:
    seeded = seed_demo(settings)
    if not seeded.created:
        console.print("Demo data already seeded.", markup=False)
        return
    console.print(f"Demo data: list {DEMO_LIST!r}, {seeded.cases} accounts with cases waiting.",
                  markup=False)
    if seeded.reviewer_password:
        console.print(f"Demo reviewer: {DEMO_REVIEWER} / {seeded.reviewer_password} (shown "
                      "once). Open the console at /review.", style="bold yellow", markup=False)
