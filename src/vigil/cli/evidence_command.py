"""`vigil evidence`: retention purge, orphan sweep, master keys and legal holds.

Exit codes as for the other database commands: 0 done, 2 nothing done (bad input or
configuration, unknown item or hold, no master key, database or bucket unavailable).
Placing and releasing holds is audited in the same transaction as the change itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from vigil.agency.signing import default_signing_key_path
from vigil.cli.database_access import (
    command_errors,
    configured_database,
    default_actor,
    error_console,
    fail,
)
from vigil.core.settings import Settings, load_settings
from vigil.store.evidence import EvidenceVault, HoldPolicy, sweep_orphans
from vigil.store.evidence.holds import (
    holds_of_item,
    locked_hold,
    preserve_item,
    release_audited,
)
from vigil.store.evidence.keys import (
    default_master_key_path,
    load_master_key,
    read_master_key_file,
    write_master_key_file,
)
from vigil.store.evidence.retention_job import RetentionJob, items_due
from vigil.store.key_rotation import BATCH_SIZE, RotationResult, rotate_master_key
from vigil.store.models import LegalHold, utcnow

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="The encrypted evidence store: purge expired items, keys, legal holds.",
)

_ITEM_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_REASON = 2000
MAX_REQUESTER = 200
MAX_HOLD_ID = 2**63 - 1


@app.command("new-key")
def new_key(
    out: Path | None = typer.Option(
        None,
        "--out",
        metavar="PATH",
        dir_okay=False,
        help="Where to write the key (default: the per-user config folder).",
    ),
) -> None:
    """Write a new random master key to a private file; prints its path, never the key."""
    console = error_console()
    path = (out or default_master_key_path()).expanduser().absolute()
    with command_errors(console):
        settings = load_settings()
        _refuse_key_in_data_dir(console, settings, path)
        key = write_master_key_file(path)
    typer.echo(f"{path}\tkey id {key.key_id}")
    if path != default_master_key_path():
        console.print(f"Vigil finds it with: VIGIL_EVIDENCE__MASTER_KEY_FILE={path}", markup=False)
    console.print(
        "WARNING: back this key file up NOW, somewhere apart from the data directory and its "
        "backups. Without it no evidence can ever be read again; stored beside the evidence "
        "it protects nothing.",
        markup=False,
        style="bold yellow",
    )


@app.command("rotate-key")
def rotate_key(
    new_key: Path = typer.Option(
        ...,
        "--new-key",
        metavar="PATH",
        dir_okay=False,
        help="The new key file (from `vigil evidence new-key --out PATH`).",
    ),
    batch_size: int = typer.Option(
        BATCH_SIZE, "--batch-size", min=1, max=10_000, help="Rows per transaction."
    ),
) -> None:
    """Move everything sealed under the current master key to a new one: evidence data keys,
    webhook and second-factor secrets. Stop the service first; safe to run again after an
    interruption. Prints what to change so that Vigil uses the new key."""
    console = error_console()
    path = new_key.expanduser().absolute()
    with command_errors(console):
        settings = load_settings()
        _refuse_key_in_data_dir(console, settings, path)
        old, new = load_master_key(settings), read_master_key_file(path)
        with configured_database(settings) as database:
            result = rotate_master_key(
                database,
                old,
                new,
                actor=default_actor(),
                batch_size=batch_size,
                on_batch=lambda kind, count: console.print(f"{kind}: {count} moved", markup=False),
            )
    _print_rotation(result)
    _print_key_switch(console, settings, path)


@app.command("purge")
def purge(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be destroyed; change nothing."
    ),
) -> None:
    """Destroy every item whose retention expired and that no legal hold protects."""
    console = error_console()
    with command_errors(console):
        settings = load_settings()
        if dry_run:
            _print_due(settings)
            return
        vault = EvidenceVault.from_settings(settings)
        with configured_database(settings) as database:
            run = RetentionJob(database, vault).run_once()
    for item_id in run.purged:
        typer.echo(f"purged\t{item_id}")
    typer.echo(f"purged {len(run.purged)} evidence items, removed {run.orphans} orphan blobs")


@app.command("sweep")
def sweep() -> None:
    """Delete blobs no live item references (crash leftovers) older than an hour."""
    console = error_console()
    with command_errors(console):
        settings = load_settings()
        vault = EvidenceVault.from_settings(settings)
        with _session(console, settings) as session:
            removed = sweep_orphans(session, vault)
    for blob_id in removed:
        typer.echo(f"removed\t{blob_id}")
    typer.echo(f"removed {len(removed)} orphan blobs")


@app.command("holds")
def holds(item_id: str = typer.Argument(..., help="The evidence item's id.")) -> None:
    """Every legal hold on an item, active or not, oldest first."""
    console = error_console()
    item_id = _checked_item_id(console, item_id)
    with _session(console) as session:
        rows = holds_of_item(session, item_id)
    if not rows:
        typer.echo(f"no legal holds on evidence item {item_id}")
    now = utcnow()
    for hold in rows:
        typer.echo(_hold_line(hold, now))


@app.command("preserve")
def preserve(
    item_id: str = typer.Argument(..., help="The evidence item's id."),
    reason: str = typer.Option(..., "--reason", help="The request, e.g. its reference."),
    days: int | None = typer.Option(
        None,
        "--days",
        min=1,
        max=3650,
        help="Extension past the latest active hold (default: evidence.preservation_days).",
    ),
    requested_by: str | None = typer.Option(
        None, "--requested-by", help="The requesting agency or officer."
    ),
) -> None:
    """Record a law-enforcement preservation request: extends the item's legal hold."""
    console = error_console()
    item_id = _checked_item_id(console, item_id)
    reason = _checked_text(console, "--reason", reason, MAX_REASON)
    if requested_by is not None:
        requested_by = _checked_text(console, "--requested-by", requested_by, MAX_REQUESTER)
    with command_errors(console):
        settings = load_settings()
    policy = HoldPolicy.from_settings(settings)
    if days is not None:
        policy = dataclasses.replace(policy, preservation_days=days)
    with _session(console, settings, write=True) as session:
        # Commits the hold and the audit record together, or raises and rolls both back.
        hold = preserve_item(
            session,
            item_id,
            actor=default_actor(),
            reason=reason,
            requested_by=requested_by,
            policy=policy,
        )
    typer.echo(f"hold #{hold.id} on evidence item {item_id} until {_timestamp(hold.expires_at)}")


@app.command("release-hold")
def release(
    hold_id: int = typer.Argument(..., min=1, max=MAX_HOLD_ID, help="The hold's number."),
    reason: str = typer.Option(..., "--reason", help="Why, e.g. the case was closed."),
) -> None:
    """End a legal hold early; the hold's row and the reason stay on record."""
    console = error_console()
    reason = _checked_text(console, "--reason", reason, MAX_REASON)
    actor = default_actor()
    with _session(console, write=True) as session:
        hold = locked_hold(session, hold_id)
        if hold is None:
            fail(console, f"no legal hold #{hold_id}")
        if hold.released_at is not None:
            typer.echo(
                f"hold #{hold_id} was already released at "
                f"{_timestamp(hold.released_at)} by {hold.released_by}"
            )
            return
        hold = release_audited(session, hold, actor=actor, reason=reason)  # commits both
    typer.echo(f"hold #{hold_id} on evidence item {hold.item_id} released")


def _refuse_key_in_data_dir(console: Console, settings: Settings, path: Path) -> None:
    if path.resolve().is_relative_to(settings.data_dir) or path.resolve().is_relative_to(
        settings.evidence_dir.resolve()
    ):
        fail(
            console,
            f"{path} is inside the data directory {settings.data_dir}: a key "
            "kept with the evidence is in the same backups and protects nothing",
        )


def _print_rotation(result: RotationResult) -> None:
    moved = ", ".join(
        f"{count} {kind.replace('_', ' ')}" for kind, count in result.rewritten.items()
    )
    typer.echo(
        f"rotated from key {result.old_key_id} to key {result.new_key_id}: {moved} "
        f"moved by this run; none is left under {result.old_key_id}"
    )


def _print_key_switch(console: Console, settings: Settings, path: Path) -> None:
    """What the operator changes so that Vigil loads the new key: the key itself is found
    through the configuration (keys.load_master_key), which this command does not edit."""
    signing_key = default_signing_key_path(settings)
    switched = settings.model_copy(
        update={
            "evidence": settings.evidence.model_copy(
                update={"master_key": None, "master_key_file": path}
            )
        }
    )
    lines = [
        "Now point Vigil at the new key, restart it, and retire the old key:",
        f"  VIGIL_EVIDENCE__MASTER_KEY_FILE={path}  (or evidence.master_key_file in "
        "the configuration file)",
    ]
    if settings.evidence.master_key is not None:
        lines.append(
            "  and remove VIGIL_EVIDENCE__MASTER_KEY (evidence.master_key): it "
            "takes precedence and holds the old key"
        )
    if default_signing_key_path(switched) != signing_key:
        # The agency signing key is found beside the master key unless configured.
        lines.append(
            f"  and VIGIL_AGENCY__SIGNING_KEY_FILE={signing_key}  (the agency "
            "signing key stays where it is)"
        )
    lines.append(
        "Then delete the old key once no backup taken before this rotation is kept "
        "(such backups open only with the old key)."
    )
    console.print("\n".join(lines), markup=False, style="bold yellow")


@contextlib.contextmanager
def _session(
    console: Console, settings: Settings | None = None, *, write: bool = False
) -> Iterator[Session]:
    """A session on the configured database. Not a transaction block: the evidence
    functions commit their own work, because their ordering is part of their guarantees."""
    with command_errors(console):
        settings = settings or load_settings()
        with configured_database(settings) as database, database.session(write=write) as session:
            yield session


def _print_due(settings: Settings) -> None:
    with configured_database(settings) as database, database.session() as session:
        due = items_due(session)
    for item in due:
        typer.echo(
            f"would purge\t{item.item_id}\t{_timestamp(item.retain_until)}\t{item.retention_policy}"
        )
    typer.echo(f"{len(due)} evidence items would be purged (dry run: nothing destroyed)")


def _checked_item_id(console: Console, value: str) -> str:
    value = value.strip().lower()
    if not _ITEM_ID.fullmatch(value):
        fail(console, "ITEM_ID: expected an evidence item id (32 hex digits)")
    return value


def _checked_text(console: Console, option: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value:
        fail(console, f"{option} must not be empty")
    if len(value) > limit:
        fail(console, f"{option} is longer than {limit} characters")
    # Control characters (tabs, newlines, escapes) would forge lines in the listings.
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        fail(console, f"{option} must be a single line of text without control characters")
    return value


def _hold_line(hold: LegalHold, now: datetime) -> str:
    if hold.released_at is not None:
        status = f"released {_timestamp(hold.released_at)} by {hold.released_by}"
    else:
        status = "active" if hold.is_active(now) else "expired"
    return (
        f"#{hold.id}\t{hold.kind.value}\t{status}\tplaced {_timestamp(hold.placed_at)} "
        f"by {hold.placed_by}\tuntil {_timestamp(hold.expires_at)}\t{hold.reason}"
    )


def _timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
