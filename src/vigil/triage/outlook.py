"""What the analyst screens need to know of triage before a person acts: each report's level
for the intake list, and which one-click labels would lower a report's level (a labelled
file becomes known material, which can cap the level or make the report informational), so
the console asks before such a label is applied. Reads only; scores with scoring.score, the
rule the triage job applies, on the facts as they would be after the label.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.models import FileVerdict, IntakeReport, ReportTriage, utcnow
from vigil.store.shared.vocabulary import INDUSTRY_CLASSIFICATIONS
from vigil.triage.facts import gather_facts
from vigil.triage.scoring import score
from vigil.triage.service import active_weights
from vigil.triage.weights import Weights, load_weights

MAX_FILES_FORESEEN = 50  # a report with more files is labelled without a forecast
MAX_LEVELS_READ = 1000


def levels_of(session: Session, report_ids: Iterable[int]) -> dict[int, int]:
    """The level each report has in the triage queue (a person's override wins); reports
    not scored yet are left out."""
    ids = list(report_ids)[:MAX_LEVELS_READ]
    if not ids:
        return {}
    rows = session.execute(
        select(ReportTriage.report_id, ReportTriage.effective_priority).where(
            ReportTriage.report_id.in_(ids)
        )
    ).all()
    return {row.report_id: row.effective_priority for row in rows}


def lowering_labels(session: Session, report_id: int) -> dict[tuple[int, str], int]:
    """{(file id, classification): the level the report would fall to} for every label of
    one of its files that would lower the report's level in the queue. Empty when the report
    is not scored, a person's override holds its level, or it has too many files to foresee."""
    triage = session.get(ReportTriage, report_id)
    report = session.get(IntakeReport, report_id)
    if triage is None or report is None or triage.override_priority is not None:
        return {}
    file_ids = [file.id for file in report.files]
    if not file_ids or len(file_ids) > MAX_FILES_FORESEEN:
        return {}
    facts = gather_facts(session, report_id, utcnow())
    weights = _weights(session)
    lowered = {}
    for position, file_id in enumerate(file_ids):
        for classification in INDUSTRY_CLASSIFICATIONS:
            labelled = replace(
                facts.files[position],
                verdict=FileVerdict.KNOWN,
                classification=classification,
                analyst_label=True,
            )
            files = (*facts.files[:position], labelled, *facts.files[position + 1 :])
            level = score(replace(facts, files=files), weights).priority
            if level > triage.effective_priority:  # a higher number is a lower priority
                lowered[(file_id, classification)] = level
    return lowered


def _weights(session: Session) -> Weights:
    # The weights the triage job last applied; the packaged ones before it ever ran.
    return active_weights(session) or load_weights()
