"""Background: unfinished intake reports past the documented window become expired, as the
documentation says the clearinghouse deletes them (their files stay held as evidence)."""

from __future__ import annotations

import logging
import threading

from vigil.clearinghouse.intake import Windows, expire_stale
from vigil.store.database import Database
from vigil.core.periodic import repeat_until_stopped, start_daemon

log = logging.getLogger(__name__)


class IntakeExpiryJob:
    def __init__(self, database: Database, windows: Windows, *,
                 interval_seconds: float = 60.0) -> None:
        self.database, self.windows, self.interval = database, windows, interval_seconds

    def run_once(self) -> int:
        with self.database.transaction(write=True) as session:
            expired = expire_stale(session, windows=self.windows)
        if expired:
            log.info("intake: %d unfinished reports expired", expired)
        return expired

    def run_forever(self, stop: threading.Event) -> None:
        repeat_until_stopped(self.run_once, stop, self.interval, what="intake expiry", log=log)

    def start_in_thread(self) -> tuple[threading.Thread, threading.Event]:
        return start_daemon(self.run_forever, "vigil-intake-expiry")
