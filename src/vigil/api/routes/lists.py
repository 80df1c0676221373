"""The hash lists this service matches against: names, settings, versions and sizes, and one
entry's origin and the feedback on it. Hashes themselves are not served: a list is shared
under its owner's terms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request

from vigil.api.answers.lists import ListEntryRecord, Lists, Suspects
from vigil.http.dependencies import ListsReading
from vigil.http.error_answers import AUTHENTICATED, answers
from vigil.http.errors import ApiError
from vigil.http.state import service_state
from vigil.store.exchanges.entry_record import (
    MAX_ENTRY_REFERENCE_CHARS,
    EntryRecord,
    entry_record,
)
from vigil.store.lists.catalogue import MAX_NAME_CHARS as MAX_LIST_NAME_CHARS
from vigil.store.lists.catalogue import ListSummary, list_summaries
from vigil.store.lists.errors import UnknownEntry, UnknownList
from vigil.store.lists.suspicions import SuspectView, open_suspicions
from vigil.store.models import EntryStatus

router = APIRouter(prefix="/v1/lists", tags=["lists"], responses=AUTHENTICATED)


@router.get("", response_model=Lists)
def lists(
    request: Request,
    _principal: ListsReading,
) -> dict[str, Any]:
    with service_state(request).database.transaction() as session:
        return {"lists": [_summary(item) for item in list_summaries(session)]}


@router.get("/suspects", response_model=Suspects)
def suspects(
    request: Request,
    _principal: ListsReading,
) -> dict[str, Any]:
    """Entries the flood guard holds as suspect: they match, but every match goes to review
    until a person confirms or quarantines them (`vigil lists confirm-suspect|quarantine`)."""
    with service_state(request).database.transaction() as session:
        return {"suspects": [_suspect(item) for item in open_suspicions(session)]}


@router.get(
    "/{list_name:path}/entries/{entry}", response_model=ListEntryRecord, responses=answers(404)
)
def list_entry(
    request: Request,
    _principal: ListsReading,
    list_name: str = Path(min_length=1, max_length=MAX_LIST_NAME_CHARS),
    entry: str = Path(
        min_length=1,
        max_length=MAX_ENTRY_REFERENCE_CHARS,
        description="The entry's id, or its hash (hex) within the list.",
    ),
) -> dict[str, Any]:
    """One entry: where it came from (exchange, its id there, member, classification, tags)
    and reviewers' feedback on it (pending, sent, failed with why). Not its hash. The list
    name may hold "/" (the path up to /entries/ is the name)."""
    with service_state(request).database.transaction() as session:
        try:
            return _entry(entry_record(session, list_name, entry))
        except UnknownList as exc:
            raise ApiError(404, str(exc), code="unknown_list") from None
        except UnknownEntry as exc:
            raise ApiError(404, str(exc), code="unknown_entry") from None


def _entry(item: EntryRecord) -> dict[str, Any]:
    origin = item.provenance
    return {
        "list": item.list_name,
        "entry_id": item.entry_id,
        "signal_type": item.signal_type,
        "status": item.status,
        "status_reason": item.status_reason,
        "added_at": item.added_at.isoformat(),
        "source": origin.source,
        "exchange": origin.exchange,
        "exchange_kind": origin.exchange_kind,
        "external_id": origin.external_id,
        "member": origin.member,
        "classification": origin.classification,
        "tags": list(origin.tags),
        "takes_feedback": origin.takes_feedback,
        "feedback": [
            {"verdict": line.verdict, "state": line.state, "reason": line.reason, "text": line.text}
            for line in item.feedback
        ],
    }


def _suspect(item: SuspectView) -> dict[str, Any]:
    return {
        "list": item.list_name,
        "entry_id": item.entry_id,
        "external_id": item.external_id,
        "signal_type": item.signal_type,
        "status": item.entry_status.value,
        "hour": item.hour.isoformat(),
        "matches": item.matches,
        "limit": item.limit,
        "explanation": item.explanation,
        "raised_at": item.raised_at.isoformat(),
    }


def _summary(item: ListSummary) -> dict[str, Any]:
    return {
        "name": item.name,
        "enabled": item.enabled,
        "allow_list": item.is_allow_list,
        "version": item.version,
        "pdq_distance": item.pdq_distance,
        "min_quality": item.min_quality,
        "entries": item.total,
        "active_entries": item.count(EntryStatus.ACTIVE),
    }
