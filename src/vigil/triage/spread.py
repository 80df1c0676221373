"""Viral or shared: how far a report's file spread, and among whom. Pure.

Viral means spread widely by people with nothing to do with each other: many reports of the
same file from accounts with no shared identifier, across companies, or material the
reporter itself calls a meme. A second copy is not viral, and reports that share an account
or identifier with this one are the opposite: an offender and his associates passing
pictures around, which is a lead, not noise. docs/triage.md gives the formula.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.triage.facts import ReportFacts
from vigil.triage.weights import Weights

MEME_ANNOTATIONS = frozenset({"viral", "potentialMeme"})
MIN_UNRELATED = 2  # one other report of a file is a copy, not a spread


@dataclass(frozen=True)
class Spread:
    value: float  # 0 (not viral) .. 1 (widely spread by unrelated people)
    detail: str


def viral_spread(facts: ReportFacts, weights: Weights) -> Spread:
    """How viral the report is, with what was found."""
    declared = _declared(facts)
    if declared:
        return Spread(1.0, declared)
    others = max(0, facts.viral_bundle_size - 1)
    unrelated = max(0, others - facts.bundle_linked)
    if unrelated < MIN_UNRELATED:
        return Spread(0.0, "")
    value = min(1.0, unrelated / weights.viral_reports_cap)
    detail = (
        f"the same file came in {facts.viral_bundle_size} reports from "
        f"{facts.bundle_companies} compan{'y' if facts.bundle_companies == 1 else 'ies'}; "
        f"{unrelated} share no account with this one (fully viral at "
        f"{weights.viral_reports_cap})"
    )
    if facts.bundle_companies < weights.viral_companies_min:
        value /= 2
        detail += f"; fewer than {weights.viral_companies_min} companies: half"
    if facts.bundle_linked:
        value *= unrelated / others
        detail += f"; {facts.bundle_linked} share an account with it: shared, not viral"
    return Spread(value, detail)


def _declared(facts: ReportFacts) -> str:
    """What the reporter said: every reported file annotated viral or meme, or the report
    batched as viral (``<batchedReport reason="VIRAL_POTENTIAL_MEME">``)."""
    if facts.bundle_linked:
        return ""  # an associate's copy, whatever the label
    reported = [file for file in facts.files if not file.supplemental]
    if reported and all(file.annotations & MEME_ANNOTATIONS for file in reported):
        return "every reported file is annotated viral or potential meme"
    if facts.batched:
        return "the company sent it batched as viral or a potential meme"
    return ""
