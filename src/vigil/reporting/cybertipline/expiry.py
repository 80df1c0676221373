"""How long an unfinished CyberTipline report lives: NCMEC deletes it 24 hours after it was
opened or 1 hour after its last modification, whichever is later (documented). The platform
side uses it to know when a report it is filing is gone (reporting/sending.py); the
clearinghouse to expire what it received (clearinghouse/intake.py), with windows its
settings may lengthen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from vigil.core.settings import (
    DOCUMENTED_IDLE_HOURS,
    DOCUMENTED_OPEN_HOURS,
    ClearinghouseSettings,
)

OPEN_WINDOW = timedelta(hours=DOCUMENTED_OPEN_HOURS)
IDLE_WINDOW = timedelta(hours=DOCUMENTED_IDLE_HOURS)


@dataclass(frozen=True, slots=True)
class Windows:
    open: timedelta = OPEN_WINDOW  # after opening ...
    idle: timedelta = IDLE_WINDOW  # ... or after the last modification, whichever is later

    @classmethod
    def configured(cls, settings: ClearinghouseSettings) -> Windows:
        """The clearinghouse's windows, from ``[clearinghouse] open_hours``/``idle_hours``."""
        return cls(timedelta(hours=settings.open_hours), timedelta(hours=settings.idle_hours))


def expiry_deadline(
    opened_at: datetime, last_modification: datetime | None, windows: Windows = Windows()
) -> datetime:
    """When an unfinished report opened at ``opened_at`` is deleted."""
    deadline = opened_at + windows.open
    if last_modification is None:
        return deadline
    return max(deadline, last_modification + windows.idle)
