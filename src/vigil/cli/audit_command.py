"""`vigil audit`: verify the security audit log's hash chain and show recent records.

`verify` exits 0 when the chain is intact, 1 when it is broken (the first broken sequence
number is printed), 2 when nothing could be checked (database unavailable, bad anchor).
"""

from __future__ import annotations

import json

import typer

from vigil.cli.database_access import (
    EXIT_FATAL,
    EXIT_OK,
    EXIT_REJECTED,
    error_console,
    fail,
    store_session,
)
from vigil.store.audit import AuditLog, AuditRecord, ChainReport, verify_chain

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="The security audit log: verify its hash chain, show recent records.",
)

_HASH_DIGITS = frozenset("0123456789abcdef")


@app.command("verify")
def verify(
    anchor: list[str] = typer.Option(
        [],
        "--anchor",
        metavar="SEQ:HASH",
        help="A record hash kept outside the database; repeat for several.",
    ),
) -> None:
    """Check every record's hash and link; report the first broken sequence number."""
    console = error_console()
    anchors = _parse_anchors(anchor)
    with store_session(console) as session:
        report = verify_chain(session, anchors=anchors)
    _print_report(report)
    raise typer.Exit(EXIT_OK if report.intact else EXIT_REJECTED)


@app.command("show")
def show(limit: int = typer.Option(20, "--limit", min=1, help="How many records.")) -> None:
    """The newest records, newest first (details never hold secrets or media)."""
    with store_session(error_console()) as session:
        records = AuditLog(session).recent(limit)
    for record in records:
        typer.echo(_record_line(record))


def _parse_anchors(values: list[str]) -> dict[int, str]:
    anchors: dict[int, str] = {}
    for value in values:
        seq, _, digest = value.partition(":")
        digest = digest.strip().lower()
        if not seq.strip().isdigit() or len(digest) != 64 or not _HASH_DIGITS.issuperset(digest):
            fail(
                error_console(),
                f"--anchor {value!r}: expected SEQ:HASH (64 hex digits)",
                EXIT_FATAL,
            )
        anchors[int(seq)] = digest
    return anchors


def _print_report(report: ChainReport) -> None:
    if report.broken is None:
        typer.echo(
            f"audit log intact: {report.records} records, head {report.last_seq} {report.last_hash}"
        )
        return
    typer.echo(
        f"audit log BROKEN at seq {report.broken.seq}: {report.broken.reason} "
        f"({report.records} records verified before it)"
    )


def _record_line(record: AuditRecord) -> str:
    subject = f"{record.subject_type}:{record.subject_id}" if record.subject_type else "-"
    details = json.dumps(record.details, sort_keys=True, separators=(",", ":"))
    at = record.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{record.seq}\t{at}\t{record.actor}\t{record.action.value}\t{subject}\t{details}"
