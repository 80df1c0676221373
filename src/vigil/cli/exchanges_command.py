"""`vigil exchanges`: connect Vigil's lists to hash exchanges (NCMEC, StopNCII,
ThreatExchange, Tech Against Terrorism), fetch them, show how they are doing. See
docs/exchanges.md.

Credentials come from a JSON file read once (never from arguments, which shell history and
`ps` keep) and are stored sealed under the evidence master key; no command prints them.
Results go to stdout, messages and the progress line to stderr. Exit codes: 0 done, 1 a
fetch finished but skipped bad records, 2 nothing done or a fetch failed (the checkpoint
is at the last stored page: run the fetch again to resume), 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from vigil.cli.database_access import (
    EXIT_OK,
    EXIT_REJECTED,
    command_errors,
    configured_database,
    default_actor,
    error_console,
    fail,
    store_session,
)
from vigil.cli.exchange_credentials_file import read_credentials_file, readable_by_others
from vigil.cli.exchanges_output import (
    fetch_progress,
    print_exchanges,
    print_fetch_report,
    print_status,
)
from vigil.core.settings import load_settings
from vigil.exchanges.clients import build_client
from vigil.exchanges.configuring import (
    checked_options,
    exchange_type,
    service_root,
)
from vigil.exchanges.fetch_liveness import with_live_states
from vigil.exchanges.fetching import FetchProgress, FetchReport, fetch_exchange
from vigil.exchanges.protocol import ExchangeType
from vigil.store.database import Database
from vigil.store.evidence.keys import MasterKey, load_master_key
from vigil.store.exchanges.catalogue import (
    DEFAULT_FETCH_INTERVAL_SECONDS,
    create_exchange,
    get_exchange,
    remove_exchange,
    replace_credentials,
    set_exchange_enabled,
    set_feedback_enabled,
    set_retro_after_fetch,
)
from vigil.store.exchanges.status import exchange_status, exchange_statuses
from vigil.store.lists.errors import UnknownList

EXIT_INTERRUPTED = 130
_TYPES = ", ".join(t.value for t in ExchangeType)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Hash exchanges: add one feeding your lists, fetch it, show its status, "
    "switch it off and on, replace its credentials, remove it.",
)


@app.command("add")
def add(
    kind: str = typer.Argument(..., help=f"The service: {_TYPES}.", show_default=False),
    name: str = typer.Argument(..., help="A name for this exchange.", show_default=False),
    list_name: list[str] = typer.Option(
        ..., "--list", help="A list it feeds (it must exist); repeat for several."
    ),
    credentials_file: Path = typer.Option(
        ...,
        "--credentials-file",
        help="JSON file with the service's credential fields (see docs/exchanges.md).",
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        show_default=False,
        help="The service root as published; overrides the environment's.",
    ),
    environment: str | None = typer.Option(
        None,
        "--environment",
        show_default=False,
        help="NCMEC only: which environment, e.g. industry or test_industry.",
    ),
    option: list[str] = typer.Option(
        [],
        "--option",
        show_default=False,
        help="A client setting as KEY=VALUE, e.g. privacy_group=123 for ThreatExchange.",
    ),
    interval: int = typer.Option(
        DEFAULT_FETCH_INTERVAL_SECONDS,
        "--interval",
        help="Seconds between scheduled fetches (60 to 604800).",
    ),
) -> None:
    """Add an exchange feeding existing lists; its credentials are read once and sealed."""
    console = error_console()
    with command_errors(console):
        service = exchange_type(kind)
        root = service_root(service, environment, base_url)
        options = checked_options(service, _options(console, option))
        credentials = read_credentials_file(credentials_file, service)
        master_key = load_master_key(load_settings())
    _warn_if_readable(console, credentials_file)
    with store_session(console, write=True) as session:
        try:
            exchange = create_exchange(
                session,
                name,
                kind=service.value,
                base_url=root,
                credentials=credentials,
                list_names=list_name,
                master_key=master_key,
                actor=default_actor(),
                environment=environment,
                options=options,
                fetch_interval_seconds=interval,
            )
        except UnknownList as exc:
            raise UnknownList(f"{exc}; create it first with `vigil lists create NAME`") from None
        added = (exchange.name, exchange.base_url)
    typer.echo(
        f"added {service.value} exchange {added[0]!r} ({added[1]}) feeding {', '.join(list_name)}"
    )
    console.print(
        f"fetch it now with `vigil exchanges fetch {added[0]}`, or let the exchanges "
        "background job fetch it",
        markup=False,
    )


@app.command("fetch")
def fetch(name: str = typer.Argument(..., help="The exchange.", show_default=False)) -> None:
    """Fetch what the exchange has new into its lists, from the stored checkpoint.

    Resumable: after a crash, an error or Ctrl-C, run it again and it goes on after the
    last stored page. Exit code 0: fetched; 1: some records skipped; 2: failed."""
    console = error_console()
    with command_errors(console):
        master_key = load_master_key(load_settings())
        report = _fetch(console, name, master_key)
    print_fetch_report(_stdout(), report)
    if report.failure is not None:
        fail(
            console,
            f"fetch of {report.exchange!r} failed ({report.failure.kind.value}): "
            f"{report.failure}. {_resume_hint(report)}",
        )
    raise typer.Exit(EXIT_REJECTED if report.error_count else EXIT_OK)


@app.command("list")
def list_command() -> None:
    """Every exchange with its state, last success, counts and feedback queue."""
    console = error_console()
    with _status_reading(console) as (database, session):
        print_exchanges(_stdout(), with_live_states(database, exchange_statuses(session)))


@app.command("status")
def status(
    name: str | None = typer.Argument(
        None, help="One exchange (default: all of them).", show_default=False
    ),
) -> None:
    """State, last fetch times, counts, last error and its kind, and the feedback queue."""
    console = error_console()
    out = _stdout()
    with _status_reading(console) as (database, session):
        statuses = [exchange_status(session, name)] if name else exchange_statuses(session)
        statuses = with_live_states(database, statuses)
        if not statuses:
            print_exchanges(out, [])
        for number, shown in enumerate(statuses):
            if number:
                out.print()
            print_status(out, shown)


@app.command("enable")
def enable(name: str = typer.Argument(..., help="The exchange.", show_default=False)) -> None:
    """Fetch it again (on schedule and by hand) and send its feedback."""
    _switch(name, True)


@app.command("disable")
def disable(name: str = typer.Argument(..., help="The exchange.", show_default=False)) -> None:
    """Stop fetching it and sending its feedback; its checkpoint and list entries stay."""
    _switch(name, False)


@app.command("feedback")
def feedback(
    name: str = typer.Argument(..., help="The exchange.", show_default=False),
    switch: str = typer.Argument(..., help="on or off.", metavar="on|off", show_default=False),
) -> None:
    """Whether reviewers' verdicts on its entries are queued for it (on by default)."""
    _on_off(name, switch, set_feedback_enabled, "feedback to {name}")


@app.command("retro")
def retro(
    name: str = typer.Argument(..., help="The exchange.", show_default=False),
    switch: str = typer.Argument(..., help="on or off.", metavar="on|off", show_default=False),
) -> None:
    """Whether each scheduled fetch of it that changes its lists is followed by retroactive
    matching of the stored backlog fingerprints (off by default; see vigil scan-jobs retro)."""
    _on_off(name, switch, set_retro_after_fetch, "retroactive matching after fetching {name}")


def _on_off(name: str, switch: str, setter: Callable[..., bool], what: str) -> None:
    """An administrator's on|off switch of one exchange, audited by the store's setter."""
    console = error_console()
    if switch not in ("on", "off"):
        fail(console, f"say on or off, not {switch!r}")
    enabled = switch == "on"
    with store_session(console, write=True) as session:
        changed = setter(session, name, enabled, actor=default_actor())
    subject = what.format(name=repr(name.strip()))
    typer.echo(f"{subject} is now {switch}" if changed else f"{subject} was already {switch}")


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The exchange.", show_default=False),
    force: bool = typer.Option(
        False, "--force", help="Remove it even with feedback waiting to be sent (dropped)."
    ),
) -> None:
    """Remove the exchange and its feedback queue; its lists and their entries stay."""
    console = error_console()
    with store_session(console, write=True) as session:
        dropped = remove_exchange(session, name, actor=default_actor(), force=force)
    typer.echo(f"removed exchange {name.strip()!r} ({dropped} feedback item(s) went with it)")


@app.command("set-credentials")
def set_credentials(
    name: str = typer.Argument(..., help="The exchange.", show_default=False),
    credentials_file: Path = typer.Option(
        ..., "--credentials-file", help="JSON file with the service's credential fields."
    ),
) -> None:
    """Replace the credentials (e.g. a rotated password); the next fetch resumes."""
    console = error_console()
    with command_errors(console):
        master_key = load_master_key(load_settings())
    with store_session(console) as session:
        service = exchange_type(get_exchange(session, name).kind)
    with command_errors(console):
        credentials = read_credentials_file(credentials_file, service)
    _warn_if_readable(console, credentials_file)
    with store_session(console, write=True) as session:
        replace_credentials(
            session, name, credentials, master_key=master_key, actor=default_actor()
        )
    typer.echo(f"replaced the credentials of {name.strip()!r}; the checkpoint is kept")


@contextmanager
def _status_reading(console: Console) -> Iterator[tuple[Database, Session]]:
    """A read of the statuses with the database at hand, to probe the fetch locks."""
    with (
        command_errors(console),
        configured_database() as database,
        database.transaction() as session,
    ):
        yield database, session


def _fetch(console: Console, name: str, master_key: MasterKey) -> FetchReport:
    stored = {"pages": 0}

    with configured_database() as database:
        with database.session() as session:
            client = build_client(get_exchange(session, name), master_key)
        with closing(client), fetch_progress(console, name.strip()) as show:

            def progress(done: FetchProgress) -> None:
                stored["pages"] = done.pages
                show(done)

            try:
                return fetch_exchange(
                    database, name, client, actor=default_actor(), on_progress=progress
                )
            except KeyboardInterrupt:
                console.print(
                    f"interrupted after {stored['pages']} stored page(s) of this run; the "
                    f"checkpoint is at the last of them: run `vigil exchanges fetch "
                    f"{name.strip()}` again to resume",
                    markup=False,
                    style="bold yellow",
                )
                raise typer.Exit(EXIT_INTERRUPTED) from None


def _resume_hint(report: FetchReport) -> str:
    return (
        f"{report.pages} page(s) were stored before it; the checkpoint is at the last of "
        f"them, so `vigil exchanges fetch {report.exchange}` resumes from there"
    )


def _switch(name: str, enabled: bool) -> None:
    console = error_console()
    word = "enabled" if enabled else "disabled"
    with store_session(console, write=True) as session:
        changed = set_exchange_enabled(session, name, enabled, actor=default_actor())
    typer.echo(
        f"{word} exchange {name.strip()!r}" if changed else f"{name.strip()!r} was already {word}"
    )


def _options(console: Console, pairs: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(console, f"--option takes KEY=VALUE, not {pair!r}")
        options[key.strip()] = value.strip()
    return options


def _warn_if_readable(console: Console, path: Path) -> None:
    if readable_by_others(path):
        console.print(
            f"warning: {path} can be read by other users; the credentials are now stored "
            "sealed, so delete the file or make it private (chmod 600)",
            markup=False,
            style="bold yellow",
        )


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)
