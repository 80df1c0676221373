"""`vigil lists suspects`, `confirm-suspect` and `quarantine`: the flood guard's suspect
entries and a person's decision on each. A suspect entry keeps matching; its matches go to
review until someone confirms it (normal again, the surge rate accepted) or quarantines it
(it stops matching). See docs/lists.md, "The flood guard"."""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich.console import Console
from rich.text import Text

from vigil.cli.database_access import default_actor, error_console, fail, store_session
from vigil.store.lists.entry_status import quarantine_entry, resolve_entry_id
from vigil.store.lists.suspicions import (
    SuspectView,
    confirm_suspect,
    open_suspicion_of,
    open_suspicions,
    quarantine_suspect,
)

ACTOR_HELP = "Who decides, for the audit trail (default: your login name)."
LIST_ARGUMENT = typer.Argument(..., help="The list.", show_default=False)
ENTRY_OPTION = typer.Option(
    ..., "--entry", show_default=False, help="The entry (its id or its hash)."
)


def suspects(
    name: str | None = typer.Argument(None, help="Only this list's suspects.", show_default=False),
) -> None:
    """Entries the flood guard made suspect, waiting for a person's decision."""
    console = error_console()
    with store_session(console) as session:
        found = open_suspicions(session, name)
    print_suspects(Console(highlight=False, soft_wrap=True), found)


def confirm(
    name: str = LIST_ARGUMENT,
    entry: str = ENTRY_OPTION,
    reason: str = typer.Option(..., "--reason", show_default=False, help="Why it is right."),
    actor: str | None = typer.Option(None, "--actor", show_default=False, help=ACTOR_HELP),
) -> None:
    """A suspect entry is right: normal again, the same surge rate not flagged again."""
    console = error_console()
    with store_session(console, write=True) as session:
        suspicion = confirm_suspect(
            session,
            resolve_entry_id(session, name, entry),
            actor=actor or default_actor(),
            reason=reason,
            list_name=name,
        )
        entry_id, rate = suspicion.entry_id, suspicion.accepted_rate
    typer.echo(
        f"entry {entry_id} of {name!r} confirmed: it matches as before; up to {rate} "
        "matches an hour are no longer a surge"
    )


def quarantine(
    name: str = LIST_ARGUMENT,
    entry: str = ENTRY_OPTION,
    reason: str = typer.Option(..., "--reason", show_default=False, help="Why it is wrong."),
    actor: str | None = typer.Option(None, "--actor", show_default=False, help=ACTOR_HELP),
) -> None:
    """Stop an entry (e.g. a wrong suspect) from matching; `enable` undoes it."""
    console = error_console()
    if not reason.strip():
        fail(console, "give a --reason for quarantining an entry")
    who = actor or default_actor()
    with store_session(console, write=True) as session:
        entry_id = resolve_entry_id(session, name, entry)
        if open_suspicion_of(session, entry_id) is not None:
            change = quarantine_suspect(session, entry_id, actor=who, reason=reason, list_name=name)
        else:
            change = quarantine_entry(session, entry_id, actor=who, reason=reason, list_name=name)
    if change.changed:
        typer.echo(
            f"entry {change.entry_id} of {name!r} quarantined "
            f"(was {change.old_status.value}): it no longer matches"
        )
    else:
        typer.echo(f"entry {change.entry_id} of {name!r} was already quarantined")


def print_suspects(console: Console, found: Sequence[SuspectView]) -> None:
    if not found:
        console.print("no suspect entries", markup=False)
        return
    for view in found:
        console.print(
            Text(
                f"entry {view.entry_id} of {view.list_name!r} ({view.signal_type} "
                f"{view.signal[:16]}..., {view.entry_status.value}, {view.total_matches} live "
                f"matches counted) suspect since {view.raised_at:%Y-%m-%d %H:%M} UTC: "
                f"{view.explanation}"
            )
        )
    console.print(
        Text(
            "each match of a suspect entry goes to review; decide with "
            "`vigil lists confirm-suspect` or `vigil lists quarantine`"
        )
    )
