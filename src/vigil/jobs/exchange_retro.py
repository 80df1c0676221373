"""The exchanges job's round: fetch the due exchanges, then, when a fetch of an exchange
whose administrator turned on ``retro_after_fetch`` stored a change (an entry added,
updated or deleted), one round of retroactive matching over the stored backlog
fingerprints (the round `vigil scan-jobs retro` runs), so stored objects matching what the
exchange just shared go to review without a person starting it.

One round follows all of this run's fetches: it matches every change since the last
round's checkpoint, those of all the exchanges fetched (and any reviewer's decision), so
one pass over the stores serves them all. A round that fails never marks a fetch failed
(the fetch stored its entries; the exchange's last error is about the service): it is
logged with the exchanges' names and recorded on the retro state (time, by whom, the
error), where `vigil scan-jobs list` shows it; the checkpoint stays, so the next round does
the changes again. A round already running elsewhere is left to finish: its end is where
the next round starts, so no change is skipped.

A fetch an administrator starts over HTTP is followed by the same step
(``fetch_one_then_retro``): the switch means "after each fetch that stored a change",
whoever started it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vigil.exchanges.clients import build_client
from vigil.exchanges.fetching import FetchReport
from vigil.exchanges.scheduled import ClientFactory, fetch_due_exchanges, fetch_one
from vigil.screening.backlog.retro_round import RetroRound, RetroRunning, live_retro_round
from vigil.store.database import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import retro_after_fetch_of

log = logging.getLogger(__name__)

BY_EXCHANGE = "after fetching "  # the retro state's "by": followed by the exchanges' names


@dataclass(frozen=True, slots=True)
class FetchRound:
    """What one run of the exchanges job did."""

    reports: list[FetchReport]
    retro: RetroRound | None = None  # None: no round ran (or it failed: see retro_error)
    retro_error: str | None = None


def fetch_then_retro(
    database: Database,
    master_key: MasterKey,
    data_dir: Path,
    *,
    now: datetime | None = None,
    client_for: ClientFactory = build_client,
) -> FetchRound:
    reports = fetch_due_exchanges(database, master_key, now=now, client_for=client_for)
    return after_fetching(database, data_dir, reports)


def fetch_one_then_retro(
    database: Database,
    name: str,
    master_key: MasterKey,
    data_dir: Path,
    *,
    actor: str,
    client_for: ClientFactory = build_client,
) -> FetchRound:
    """One exchange's fetch started by a person (over HTTP), then the scheduled job's step."""
    report = fetch_one(database, name, master_key, client_for, actor=actor)
    return after_fetching(database, data_dir, [] if report is None else [report])


def after_fetching(database: Database, data_dir: Path, reports: list[FetchReport]) -> FetchRound:
    """One retro round when a fetch in ``reports`` stored a change of an exchange whose
    switch is on; a round that fails or runs elsewhere leaves the fetches as they are."""
    wanting = _wanting_retro(database, reports)
    if not wanting:
        return FetchRound(reports)
    names = ", ".join(wanting)
    try:
        done = live_retro_round(database, data_dir, by=BY_EXCHANGE + names)
    except RetroRunning:
        log.info("retroactive matching after fetching %s: a round is running elsewhere", names)
        return FetchRound(reports)
    except Exception as exc:
        log.exception("retroactive matching after fetching %s failed", names)
        return FetchRound(reports, retro_error=f"{type(exc).__name__}: {exc}")
    log.info(
        "retroactive matching after fetching %s: %d changed entries, %d stored objects "
        "newly match (%d matches new for review)",
        names,
        done.entries,
        done.objects,
        done.queued,
    )
    return FetchRound(reports, done)


def _wanting_retro(database: Database, reports: Sequence[FetchReport]) -> list[str]:
    """The fetched exchanges that stored a change and whose switch is on."""
    changed = [report.exchange for report in reports if report.entries > 0]
    if not changed:
        return []
    with database.session() as session:
        return retro_after_fetch_of(session, changed)
