"""People's decisions as labelled reports for the next calibration: for each report an
analyst overrode or an agency accepted or declined, the level the decision implies, with the
report's score and levels under the weights in use (docs/triage-calibration.md).

What a decision says about the true level, in this order:

* an analyst's override: the level they chose;
* otherwise the agencies' own words: a decline reason or an outcome note that states a level
  ("imminent danger", "not urgent", "informational", "level 2", ... in STATEMENTS, not
  negated just before: "no imminent danger" states nothing); several statements must agree.

Accepting a referral, declining it for another reason (jurisdiction, a wrong agency) and an
outcome's kind (an arrest, no action) say nothing about how urgent the report was: such
reports are left out, and counted by the reason, so the export says how much it could not use.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from vigil.store.models import Referral, ReferralState, ReportTriage
from vigil.store.models.agencies import ReferralOutcome
from vigil.triage.calibration import Example, placed_level
from vigil.triage.facts import UnknownReport, gather_facts
from vigil.triage.labels_file import MAX_EXAMPLES, LabelledReport, Labels
from vigil.triage.scoring import score
from vigil.triage.weights import Weights

PAGE = 500
DECIDED_STATES = (ReferralState.ACCEPTED, ReferralState.DECLINED)

# Words an agency uses for a level; matched whole, case-insensitively.
STATEMENTS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, ("imminent danger", "in danger now", "at risk now", "level 1")),
    (2, ("refer soon", "level 2")),
    (3, ("not urgent", "not time-sensitive", "not time sensitive", "low priority", "level 3")),
    (4, ("informational", "level 4")),
)
NEGATION = re.compile(r"\b(?:not|no|never|nothing|without)\b|n't\b")
NEGATION_WORDS = 2  # how many words before a statement a negation cancels it

LEFT_DISAGREE = "agencies' statements disagree"
LEFT_DECLINED = "declined for a reason that states no level"
LEFT_ACCEPTED = "accepted; no outcome note states a level"
LEFT_GONE = "the report is gone"
LEFT_MODEL = "its level does not follow the calibration's level model"
LEFT_BEYOND = "beyond the export's limit"


@dataclass(frozen=True)
class Decisions:
    """What people decided about one report."""

    override: int | None = None
    declines: tuple[str, ...] = ()  # the decline reasons
    notes: tuple[str, ...] = ()  # the outcome notes
    accepted: bool = False


@dataclass(frozen=True)
class Implied:
    """The true level a report's decisions imply, and who said it; or no level and why."""

    level: int | None
    source: str


# --- what a decision says (pure) -----------------------------------------------------------


def stated_levels(text: str) -> frozenset[int]:
    """The levels ``text`` states in STATEMENTS' words, each not negated just before."""
    words = " ".join(text.casefold().split())
    found = set()
    for level, phrases in STATEMENTS:
        for phrase in phrases:
            for match in re.finditer(rf"\b{re.escape(phrase)}\b", words):
                before = words[: match.start()].split()[-NEGATION_WORDS:]
                if not NEGATION.search(" ".join(before)):
                    found.add(level)
    return frozenset(found)


def implied_level(decisions: Decisions) -> Implied:
    if decisions.override is not None:
        return Implied(decisions.override, "override")
    said: dict[str, set[int]] = {
        "declined": _stated(decisions.declines),
        "outcome": _stated(decisions.notes),
    }
    levels = set().union(*said.values())
    if len(levels) > 1:
        return Implied(None, LEFT_DISAGREE)
    if not levels:
        return Implied(None, LEFT_DECLINED if decisions.declines else LEFT_ACCEPTED)
    sources = [source for source, stated in said.items() if stated]
    return Implied(levels.pop(), sources[0] if len(sources) == 1 else "agency")


def _stated(texts: Iterable[str]) -> set[int]:
    return set().union(*(stated_levels(text) for text in texts))


# --- reading the store ---------------------------------------------------------------------


def _decided() -> ColumnElement[bool]:
    referral = exists().where(
        Referral.report_id == ReportTriage.report_id, Referral.state.in_(DECIDED_STATES)
    )
    return or_(ReportTriage.override_priority.is_not(None), referral)


def decided_reports(session: Session, *, after: int = 0, limit: int = PAGE) -> list[int]:
    """Triaged reports with a decision, by id, after ``after``."""
    return list(
        session.scalars(
            select(ReportTriage.report_id)
            .where(_decided(), ReportTriage.report_id > after)
            .order_by(ReportTriage.report_id)
            .limit(limit)
        )
    )


def count_decided(session: Session, *, after: int = 0) -> int:
    query = select(func.count()).where(_decided(), ReportTriage.report_id > after)
    return int(session.scalar(query.select_from(ReportTriage)) or 0)


def decisions_of(session: Session, report_ids: Sequence[int]) -> dict[int, Decisions]:
    """Each report's override, decline reasons, outcome notes and whether one was accepted."""
    overrides = dict(
        session.execute(
            select(ReportTriage.report_id, ReportTriage.override_priority).where(
                ReportTriage.report_id.in_(report_ids)
            )
        ).all()
    )
    declines: defaultdict[int, list[str]] = defaultdict(list)
    accepted: set[int] = set()
    for report_id, state, reason in session.execute(
        select(Referral.report_id, Referral.state, Referral.decline_reason)
        .where(Referral.report_id.in_(report_ids), Referral.state.in_(DECIDED_STATES))
        .order_by(Referral.id)
    ).all():
        if state is ReferralState.DECLINED:
            declines[report_id].append(reason or "")
        else:
            accepted.add(report_id)
    notes: defaultdict[int, list[str]] = defaultdict(list)
    for report_id, note in session.execute(
        select(Referral.report_id, ReferralOutcome.note)
        .join(Referral, Referral.id == ReferralOutcome.referral_id)
        .where(Referral.report_id.in_(report_ids))
        .order_by(ReferralOutcome.id)
    ).all():
        notes[report_id].append(note or "")
    return {
        report_id: Decisions(
            overrides.get(report_id),
            tuple(declines[report_id]),
            tuple(notes[report_id]),
            report_id in accepted,
        )
        for report_id in report_ids
    }


# --- the export ----------------------------------------------------------------------------


def export_labels(session: Session, weights: Weights, *, limit: int = MAX_EXAMPLES) -> Labels:
    """Every decided report (at most ``limit``, oldest id first) with a label, scored under
    ``weights`` as of its latest scoring; the others counted by why they are left out."""
    limit = min(max(1, limit), MAX_EXAMPLES)
    reports: list[LabelledReport] = []
    left_out: Counter[str] = Counter()
    read, after = 0, 0
    while read < limit and (
        ids := decided_reports(session, after=after, limit=min(PAGE, limit - read))
    ):
        for report_id, decisions in decisions_of(session, ids).items():
            implied = implied_level(decisions)
            labelled = _labelled(session, report_id, weights, implied)
            if isinstance(labelled, str):
                left_out[labelled] += 1
            else:
                reports.append(labelled)
        read, after = read + len(ids), ids[-1]
    if read >= limit and (beyond := count_decided(session, after=after)):
        left_out[LEFT_BEYOND] = beyond
    return Labels(weights.version, weights.sha256, tuple(reports), dict(left_out))


def _labelled(
    session: Session, report_id: int, weights: Weights, implied: Implied
) -> LabelledReport | str:
    """The labelled report, or why it is left out."""
    if implied.level is None:
        return implied.source
    triage = session.get(ReportTriage, report_id)
    if triage is None:
        return LEFT_GONE
    try:
        # as of its latest scoring: the urgency it had when people decided, not months later
        facts = gather_facts(session, report_id, triage.computed_at)
    except UnknownReport:
        return LEFT_GONE
    result = score(facts, weights)
    best = score(facts, replace(weights, level_1=0.0, level_2=0.0)).priority
    example = Example(result.score, best, implied.level)
    if placed_level(example, weights.level_1, weights.level_2) != result.priority:
        return LEFT_MODEL
    return LabelledReport(
        report_id, result.score, result.priority, best, implied.level, implied.source
    )
