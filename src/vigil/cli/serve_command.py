"""`vigil serve`: the screening service under uvicorn.

Everything that must happen once happens here, before any worker starts: the port is taken
(first, so that a busy port fails before anything is created or any password shown), the
embedded database is migrated, the first administrator is created (its one-time password
shown on a terminal, else written to a private file: vigil.cli.one_time_password_output), the
evidence master key is found or created, and the index snapshot is built, so N
workers open one shared, memory-mapped snapshot instead of racing to build it. The workers
serve the socket opened here, and run the background jobs unless ``--no-jobs`` leaves them to
``vigil worker``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import typer
import uvicorn
from rich.console import Console

from vigil.cli.database_access import command_errors, error_console, fail
from vigil.cli.demo_data import DEMO_LIST, DEMO_REVIEWER, seed_demo
from vigil.cli.one_time_password_output import FILE_PREFIX, hand_over, password_file
from vigil.core.settings import Settings, load_settings
from vigil.jobs import WEB_ONLY_ENV
from vigil.screening.live_index import LiveIndex, index_root
from vigil.store import open_database
from vigil.store.accounts import bootstrap_admin
from vigil.store.accounts.bootstrap import BOOTSTRAP_USERNAME
from vigil.store.evidence.keys import ensure_master_key
from vigil.store.migrate import prepare_schema

APP_FACTORY = "vigil.server.app:create_app_from_env"
# A worker opens the database, the index and the classifiers before it answers uvicorn's
# health check; on a busy machine that took over uvicorn's 5 s and the worker was killed.
WORKER_START_SECONDS = 60


def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default: 127.0.0.1)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port (default: 8000)."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (one per core)."),
    config: Path | None = typer.Option(
        None, "--config", exists=True, dir_okay=False, help="Settings file (TOML)."
    ),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="Seed demo data (benign pictures, a "
        "demo list, cases waiting, a reviewer account) first.",
    ),
    no_jobs: bool = typer.Option(
        False,
        "--no-jobs",
        help="Serve only: run no background "
        "job (webhooks, retention, ...); run `vigil worker` for them.",
    ),
) -> None:
    """Run the screening API and the console (sign in at /login; API documentation at
    /docs)."""
    console = error_console()
    if config is not None:
        os.environ["VIGIL_CONFIG"] = str(config.resolve())  # the workers read it too
    if no_jobs:
        os.environ[WEB_ONLY_ENV] = "1"  # read by each worker's create_app_from_env
    else:
        os.environ.pop(WEB_ONLY_ENV, None)  # the flag says, not a leftover of the environment
    with command_errors(console):
        settings = load_settings()
    host, port = host or settings.server.host, port or settings.server.port
    with _listen(host, port, console) as listening:
        with command_errors(console):
            handed_over = _prepare(settings, console)
            if demo:
                _seed(settings, console)
        _how_to_sign_in(console, host, port, demo=demo, just_written=handed_over)
        if no_jobs:
            console.print(
                "Background jobs are off (--no-jobs): webhooks, retention and "
                "report sending wait for `vigil worker`.",
                markup=False,
            )
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            fd=listening.fileno(),
            workers=workers,
            log_level=log_level,
            server_header=False,
            timeout_worker_healthcheck=WORKER_START_SECONDS,
            **proxy_options(settings.server.trusted_proxies),
        )


def proxy_options(trusted_proxies: list[str]) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For from loopback by default; Vigil believes it only
    from the proxies the operator names (``[server] trusted_proxies``)."""
    if not trusted_proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(trusted_proxies)}


def _listen(host: str, port: int, console: Console) -> socket.socket:
    """The service's socket, bound now (uvicorn's workers serve it): nothing is set up, and
    no one-time password used up, for a service that could not start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        listening.bind((host, port))
    except OSError as exc:
        listening.close()
        fail(
            console,
            f"cannot listen on {host}:{port}: {exc.strerror or exc}. Nothing was "
            "set up: stop what uses the port, or choose another with --port.",
        )
    listening.set_inheritable(True)  # for the worker processes
    return listening


def _how_to_sign_in(
    console: Console, host: str, port: int, *, demo: bool, just_written: Path | None = None
) -> None:
    """On every start: one-time passwords are shown once, this is shown each time. A file
    ``just_written`` on this start was named already; a waiting file of an earlier start is
    named here."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    users = f"{BOOTSTRAP_USERNAME!r} (administrator)"
    if demo:
        users += f", {DEMO_REVIEWER!r} (reviewer)"
    waiting = password_file(BOOTSTRAP_USERNAME)
    console.print(
        f"Console: {base}/login  API documentation: {base}/docs\n"
        f"Sign in as {users}. A one-time password is given only when the account is "
        "created or reset (shown on a terminal, otherwise written to "
        f"{waiting.parent / FILE_PREFIX}USERNAME); to get a new one: "
        "vigil admin reset-password USERNAME",
        markup=False,
    )
    if waiting.exists() and waiting != just_written:
        console.print(
            f"The one-time password of {BOOTSTRAP_USERNAME!r} is in {waiting} "
            "(delete the file once the password is changed).",
            markup=False,
        )


def _prepare(settings: Settings, console: Console) -> Path | None:
    """Key, schema, first administrator and index ready; returns the one-time password
    file written on this start, if any."""
    written = None
    _, created_key = ensure_master_key(settings)
    if created_key is not None:
        console.print(
            f"Created the evidence master key {created_key}. Back it up apart from "
            "the data directory: without it, kept evidence cannot be read.",
            style="yellow",
            markup=False,
        )
    with open_database(settings) as database:
        prepare_schema(settings, database)
        with database.transaction(write=True) as session:
            password = bootstrap_admin(session)
        if password is not None:  # never into a service log: a terminal, else a file
            written = hand_over(
                console,
                password,
                BOOTSTRAP_USERNAME,
                headline=f"First run: created the administrator {BOOTSTRAP_USERNAME!r}",
            )
            console.print("The console asks for a new password at the first sign-in.", markup=False)
        LiveIndex.open(database, index_root(settings.data_dir)).close()
    return written


def _seed(settings: Settings, console: Console) -> None:
    seeded = seed_demo(settings)
    if not seeded.created:
        console.print(f"Demo data already seeded (list {DEMO_LIST!r}).", markup=False)
        return
    console.print(
        f"Demo data: list {DEMO_LIST!r}, {seeded.cases} accounts with cases waiting.", markup=False
    )
    if seeded.reviewer_password:
        console.print(
            f"Demo reviewer: {DEMO_REVIEWER!r} with the password "
            f"{seeded.reviewer_password} (shown only now).",
            style="bold yellow",
            markup=False,
        )
