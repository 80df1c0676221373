"""Write the independent triage cases into a Vigil database as real clearinghouse intake
reports, through the intake's own operations in the order the /ispws endpoints run them:
open (/submit), add each file (/upload, sealed in an evidence vault under a report hold), its
file details (/fileinfo), finish (/finish) with the finish hook the server installs (file
verdicts known/seen/new against the hash lists, viral bundling into incidents, entity links,
then deconfliction). Nothing is written around the intake, so every verdict, link and incident
is Vigil's own computation.

Two things the public path cannot carry are set up beside it, the way an operator would:
the four reporting companies (`add_company`) and a labelled hash list holding the MD5 of each
known file, with its class (`add_entries`), which is what makes those files "known".

Reports arrive one after another, 30 s apart, in the case file's order, the last one at
``now``; each incident happened ``hours_ago`` before its report arrived.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.triage_cases.case import Case, load_cases
from benchmarks.triage_cases.documents import (
    company_username,
    details_document,
    file_bytes,
    report_document,
)
from vigil.clearinghouse import intake
from vigil.clearinghouse.assignment import deconflict_on_finish
from vigil.clearinghouse.companies import add_company
from vigil.clearinghouse.known_or_new import FinishHook, make_finish_hook, own_list
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.store import Database
from vigil.store.evidence import EvidenceVault, HoldPolicy, LocalEvidenceBackend, MasterKey
from vigil.store.lists.manual_entries import MAX_SIGNALS, NewSignal, add_entries
from vigil.store.models import IntakeReport, ReportingCompany, SignalType, utcnow

CATALOGUE = "triage-bench-catalogue"
ACTOR = "triage-bench"
ARRIVAL_GAP = timedelta(seconds=30)


def load(
    database: Database,
    work_dir: Path,
    cases: Sequence[Case] | None = None,
    *,
    now: datetime | None = None,
) -> dict[int, int]:
    """Send every case (default: the case file) through the intake; {report id: true level},
    in arrival order. ``work_dir`` holds the evidence vault and the match index."""
    cases = load_cases() if cases is None else list(cases)
    now = now or utcnow()
    with database.transaction(write=True) as session:
        _companies(session, sorted({case.company for case in cases}))
        _catalogue(session, cases)
    vault = EvidenceVault(
        LocalEvidenceBackend(work_dir / "evidence"),
        MasterKey.generate(),
        max_bytes=1 << 20,
        retention=timedelta(days=365),
    )
    levels: dict[int, int] = {}
    with _finish_hook(database, work_dir / "index") as hook:
        for position, case in enumerate(cases):
            arrival = now - ARRIVAL_GAP * (len(cases) - 1 - position)
            levels[send_case(database, vault, hook, case, arrival)] = case.level
    return levels


def send_case(
    database: Database, vault: EvidenceVault, hook: FinishHook, case: Case, arrival: datetime
) -> int:
    """One case as a company sends it: /submit, /upload and /fileinfo per file, /finish."""
    username = company_username(case.company)
    with database.transaction(write=True) as session:
        report = intake.open_report(
            session,
            _company(session, username),
            report_document(case, arrival),
            uuid.uuid4().hex,
            now=arrival,
        )
        report_id = report.id
    file_ids = []
    for file in case.files:
        with database.session(write=True) as session:  # add_file commits
            record = intake.add_file(
                session,
                vault,
                report_id,
                _company(session, username),
                file_bytes(file),
                f"{file.ref}.bin",
                hold_policy=HoldPolicy(),
                now=arrival,
            )
            file_ids.append(record.public_id)
    with database.transaction(write=True) as session:
        company = _company(session, username)
        for file, file_id in zip(case.files, file_ids, strict=True):
            details = details_document(file, report_id, file_id)
            intake.add_file_details(session, company, details, now=arrival)
        intake.finish(session, report_id, company, on_finished=hook, now=arrival)
    return report_id


@contextmanager
def _finish_hook(database: Database, index_root: Path) -> Iterator[FinishHook]:
    """The hook vigil.server.app installs: classify, bundle and link, then deconflict."""
    with LiveIndex.open(database, index_root) as live:
        classify = make_finish_hook(Matcher(live))

        def on_finished(session: Session, report: IntakeReport) -> None:
            classify(session, report)
            deconflict_on_finish(session, report)

        yield on_finished


def _companies(session: Session, names: Sequence[str]) -> None:
    for name in names:
        if _find_company(session, company_username(name)) is None:
            # Nobody signs in as these companies: the password only has to pass the policy.
            add_company(session, name, company_username(name), secrets.token_urlsafe(24))


def _company(session: Session, username: str) -> ReportingCompany:
    found = _find_company(session, username)
    if found is None:
        raise LookupError(f"no reporting company {username!r}")
    return found


def _find_company(session: Session, username: str) -> ReportingCompany | None:
    return session.scalar(select(ReportingCompany).where(ReportingCompany.username == username))


def _catalogue(session: Session, cases: Sequence[Case]) -> None:
    """The labelled list the known files are catalogued on: their MD5, with their class."""
    by_class: dict[str, set[str]] = {}
    for case in cases:
        for file in case.files:
            if file.status == "known" and file.classification:
                md5 = hashlib.md5(file_bytes(file)).hexdigest()
                by_class.setdefault(file.classification, set()).add(md5)
    if not by_class:
        return
    hash_list = own_list(
        session, CATALOGUE, actor=ACTOR, description="made-up catalogue of the triage set"
    )
    for classification, digests in sorted(by_class.items()):
        ordered = sorted(digests)
        for start in range(0, len(ordered), MAX_SIGNALS):
            add_entries(
                session,
                hash_list,
                [NewSignal(SignalType.MD5, md5) for md5 in ordered[start : start + MAX_SIGNALS]],
                actor=ACTOR,
                reason="independent triage set: catalogued files",
                classification=classification,
            )
