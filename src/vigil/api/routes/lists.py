"""The hash lists this service matches against: names, settings, versions and sizes.
Hashes themselves are not served: a list is shared under its owner's terms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from vigil.api.auth import require
from vigil.api.state import service_state
from vigil.store.accounts import Permission, Principal
from vigil.store.banks import ListSummary, list_summaries
from vigil.store.models import EntryStatus

router = APIRouter(prefix="/v1/lists", tags=["lists"])


@router.get("")
def lists(request: Request, _principal: Principal = Depends(require(Permission.LISTS_READ)),
          ) -> dict[str, Any]:
    with service_state(request).database.transaction() as session:
        return {"lists": [_summary(item) for item in list_summaries(session)]}


def _summary(item: ListSummary) -> dict[str, Any]:
    return {"name": item.name, "enabled": item.enabled, "allow_list": item.is_allow_list,
            "version": item.version, "pdq_distance": item.pdq_distance,
            "min_quality": item.min_quality, "entries": item.total,
            "active_entries": item.count(EntryStatus.ACTIVE)}
