"""The hash lists this service matches against: names, settings, versions and sizes.
Hashes themselves are not served: a list is shared under its owner's terms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from vigil.api.answers.lists import Lists, Suspects
from vigil.http.dependencies import ListsReading
from vigil.http.error_answers import AUTHENTICATED
from vigil.http.state import service_state
from vigil.store.lists.catalogue import ListSummary, list_summaries
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
