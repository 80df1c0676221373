"""How `vigil lists show NAME --entry ENTRY` shows one entry: where it came from and the
feedback reviewers' verdicts left on it, the fields GET /v1/lists/{list}/entries/{entry}
answers (and, like it, not the hash)."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from vigil.store.exchanges.entry_record import EntryRecord


def print_entry(console: Console, record: EntryRecord) -> None:
    origin = record.provenance
    status = record.status + (f" ({record.status_reason})" if record.status_reason else "")
    lines = [
        ("Entry", f"{record.entry_id} of list {record.list_name}"),
        ("Signal type", record.signal_type),
        ("Status", status),
        ("Added", record.added_at.strftime("%Y-%m-%d %H:%M")),
        ("Source", origin.source or "-"),
        ("Exchange", f"{origin.exchange} ({origin.exchange_kind})" if origin.exchange else "-"),
        ("External id", origin.external_id or "-"),
        ("Member", origin.member or "-"),
        ("Class", origin.classification or "-"),
        ("Tags", ", ".join(origin.tags) or "-"),
        ("Takes feedback", "yes" if origin.takes_feedback else "no"),
    ]
    for label, value in lines:
        # Text, not markup: names and tags come from outside and may hold "[...]".
        console.print(Text.assemble((f"{label + ':':<16}", "bold"), value))
    if not record.feedback:
        console.print(Text.assemble(("Feedback:", "bold"), "       none"))
        return
    console.print(Text("Feedback:", style="bold"))
    for line in record.feedback:
        console.print(Text(f"  {line.text}"))
