"""Background (declared in vigil.jobs.registry): unfinished intake reports past the documented
window become expired, as the documentation says the clearinghouse deletes them (their files
stay held as evidence)."""

from __future__ import annotations

import logging

from vigil.clearinghouse.intake import expire_stale
from vigil.reporting.cybertipline.expiry import Windows
from vigil.store.database import Database

log = logging.getLogger(__name__)


class IntakeExpiryJob:
    def __init__(self, database: Database, windows: Windows) -> None:
        self.database, self.windows = database, windows

    def run_once(self) -> int:
        with self.database.transaction(write=True) as session:
            expired = expire_stale(session, windows=self.windows)
        if expired:
            log.info("intake: %d unfinished reports expired", expired)
        return expired
