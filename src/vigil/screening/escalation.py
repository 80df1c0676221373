"""Why a case was escalated at intake, in words: a platform flagged content as urgent
(POST /v1/flags with source ``escalation``). The sentence is stored on the case when the
flag escalates it (``Case.escalation_reason``), shown on the case page and sent as the
CyberTipline report's escalateToHighPriority, until a reviewer's own reason replaces it.

It says what the flag said and what screening found, never who inside Vigil sent it (an API
key's prefix means nothing to the report's reader)."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.screening.matcher import ListMatch
from vigil.screening.rules import FLAGS

MAX_NOTE_QUOTED = 1000  # of the flag's note; the report's field holds 2,000 characters
MAX_REASON = 2000


def intake_escalation_reason(
    *,
    content_id: str,
    note: str | None,
    reasons: Sequence[str],
    matches: Sequence[ListMatch],
) -> str:
    """The flag, its note, the screening rules that fired besides the flag itself, and the
    classification a list gave the content, if any."""
    parts = [f"Flagged as urgent by the platform when received (content ID {content_id})"]
    said = (note or "").strip()
    if said:
        parts[0] += f', with the note: "{_cut(said, MAX_NOTE_QUOTED)}"'
    found = [reason for reason in reasons if reason not in FLAGS.values()]
    if found:
        parts.append(f"Screening: {'; '.join(found)}")
    known = next((match for match in matches if match.classification), None)
    if known is not None:
        entry = known.external_id or str(known.entry_id)
        parts.append(f"List {known.list} entry {entry} classifies it as {known.classification}")
    return _cut(". ".join(parts) + ".", MAX_REASON)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
