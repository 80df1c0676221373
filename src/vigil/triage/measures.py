"""The measures scoring weighs: for each reason, how strongly it holds (0..1) and what was
found, from one reading of a report. Pure; docs/triage.md documents each."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from vigil.store.models.intake import FileVerdict
from vigil.store.shared.vocabulary import CLASSIFICATION_MEANINGS
from vigil.triage.contact import (
    Contact,
    LastContact,
    contact_signs,
    days_between,
    decay,
    fading,
    last_contact,
    reported_at,
)
from vigil.triage.facts import ReportFacts
from vigil.triage.free_text import (
    DANGER_NOW,
    OLD_MATERIAL,
    PEER_MINORS,
    RESOLVED,
    SERIOUS,
    Signal,
    read_signals,
)
from vigil.triage.spread import Spread, viral_spread
from vigil.triage.weights import REASON_DIRECTIONS, Weights

PREPUBESCENT = frozenset({"A1", "A2"})
PUBESCENT = frozenset({"B1", "B2"})
NOT_PRODUCED_NOW = frozenset({"generativeAi", "animeDrawingVirtualHentai"})
MINOR_TO_MINOR = "minorToMinorInteraction"
MAX_QUOTES = 3
ESCALATION = "escalation"
NOTE = "analyst's note"


@dataclass(frozen=True)
class Reading:
    """One report read once: its facts and what the text, contact and spread say."""

    facts: ReportFacts
    weights: Weights
    signals: tuple[Signal, ...]
    contact: Contact
    last: LastContact
    spread: Spread

    def said(self, name: str, source: str | None = None) -> list[Signal]:
        return [s for s in self.signals if s.name == name and source in (None, s.source)]

    def contact_fading(self) -> float:
        weights = self.weights
        return fading(self.last.days, weights.contact_half_life_days, weights.contact_floor)


def read(facts: ReportFacts, weights: Weights) -> Reading:
    # People's reasons first: the text read is bounded (free_text.MAX_TOTAL_CHARS).
    texts = [(ESCALATION, facts.escalation), *((NOTE, note) for note in facts.note_texts)]
    texts += facts.texts
    return Reading(
        facts,
        weights,
        read_signals(texts, weights.imminent_words),
        contact_signs(facts),
        last_contact(facts),
        viral_spread(facts, weights),
    )


Found = tuple[float, str] | None
Measure = Callable[[Reading], Found]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _quotes(signals: list[Signal]) -> str:
    shown = "; ".join(signal.quoted() for signal in signals[:MAX_QUOTES])
    more = len(signals) - MAX_QUOTES
    return shown + (f" (and {more} more)" if more > 0 else "")


# --- what people wrote --------------------------------------------------------------------


def _escalation(reading: Reading) -> Found:
    text = reading.facts.escalation
    if not text:
        return None
    lowering = [
        s for name in (OLD_MATERIAL, RESOLVED, PEER_MINORS) for s in reading.said(name, ESCALATION)
    ]
    if lowering and not reading.said(DANGER_NOW, ESCALATION):
        return None  # its own words say it is not urgent; the lowering reason quotes them
    return 1.0, f'the reporting company wrote: "{text[:200]}"'


def _danger_now(reading: Reading) -> Found:
    signals = reading.said(DANGER_NOW)
    if not signals:
        return None
    detail = _quotes(signals)
    if reading.last.source == "the text":  # the text also says when contact last happened
        return reading.contact_fading(), (
            detail + f"; last contact {reading.last.days:.0f} days ago (from the text)"
        )
    return 1.0, detail


def _said(name: str) -> Measure:
    def measure(reading: Reading) -> Found:
        signals = reading.said(name)
        return (1.0, _quotes(signals)) if signals else None

    return measure


def _peer_minors(reading: Reading) -> Found:
    signals = reading.said(PEER_MINORS)
    annotated = MINOR_TO_MINOR in reading.facts.report_annotations
    if not signals and not annotated:
        return None
    found = (["report annotated minorToMinorInteraction"] if annotated else []) + (
        [_quotes(signals)] if signals else []
    )
    return 1.0, "; ".join(found)


def _analyst_note(reading: Reading) -> Found:
    count = len(reading.facts.note_texts)
    return (1.0, f"{_plural(count, 'analyst note')}") if count else None


# --- contact and time ----------------------------------------------------------------------


def _contact(reading: Reading) -> Found:
    contact = reading.contact
    if not contact.strength:
        return None
    detail = "; ".join(contact.signs)
    fade = reading.contact_fading()
    if fade < 1.0:
        detail += (
            f"; last contact {reading.last.days:.0f} days ago (from {reading.last.source}): "
            f"urgency x{fade:.2f}"
        )
    return contact.strength * fade, detail


def _recent_incident(reading: Reading) -> Found:
    facts, weights = reading.facts, reading.weights
    if facts.incident_time is None:
        return None
    days = days_between(facts.incident_time, reported_at(facts))
    if days >= weights.recent_incident_days:
        return None
    half_life, horizon = weights.recency_half_life_days, weights.recent_incident_days
    return decay(days, half_life), (
        f"the incident was {days:.1f} days before the report (half every {half_life} days, "
        f"nothing after {horizon})"
    )


# --- the files -----------------------------------------------------------------------------


def _annotation(annotations: frozenset[str], noun: str) -> Measure:
    def measure(reading: Reading) -> Found:
        files = reading.facts.files
        count = sum(1 for file in files if file.annotations & annotations)
        if not count:
            return None
        return 1.0, f"{_plural(count, 'file')} of {len(files)} annotated {noun}"

    return measure


def _age(classes: frozenset[str], excluded: frozenset[str] = frozenset()) -> Measure:
    def measure(reading: Reading) -> Found:
        files = reading.facts.files
        if any(file.classification in excluded for file in files):
            return None  # the youngest apparent age is the one that counts
        matching = [file for file in files if file.classification in classes]
        if not matching:
            return None
        labels = sorted({str(file.classification) for file in matching})
        labelled = sum(1 for file in matching if file.analyst_label)
        detail = f"{_plural(len(matching), 'file')} classified " + ", ".join(
            f"{label} ({CLASSIFICATION_MEANINGS[label]})" for label in labels
        )
        if labelled:
            detail += f"; {labelled} by an analyst's label"
        return 1.0, detail

    return measure


def _new_material(reading: Reading) -> Found:
    """New files that may be abuse going on now: not supplemental context (a chat
    screenshot supporting the report) and not believed generated or drawn."""
    new = [file for file in reading.facts.files if file.verdict is FileVerdict.NEW]
    produced = [f for f in new if not f.supplemental and not f.annotations & NOT_PRODUCED_NOW]
    if not produced:
        return None
    detail = f"{_plural(len(produced), 'file')} of {len(reading.facts.files)} never seen"
    left = len(new) - len(produced)
    if left:
        detail += f"; {left} more new but supplemental or generated: not counted"
    return 1.0, detail


def _known_only(reading: Reading) -> Found:
    files = reading.facts.files
    if not files or any(file.verdict is not FileVerdict.KNOWN for file in files):
        return None
    return 1.0, (
        "the file is" if len(files) == 1 else f"all {len(files)} files are"
    ) + " known, labelled material"


def _file_count(reading: Reading) -> Found:
    count, cap = len(reading.facts.files), reading.weights.file_count_cap
    if not count:
        return None
    return math.log1p(count) / math.log1p(cap), f"{_plural(count, 'file')} (full weight at {cap})"


def _generative_ai(reading: Reading) -> Found:
    files = reading.facts.files
    count = sum(1 for file in files if "generativeAi" in file.annotations)
    if not count:
        return None
    return count / len(files), f"{_plural(count, 'file')} of {len(files)} believed generated"


# --- links and spread ----------------------------------------------------------------------


def _linked_reports(reading: Reading) -> Found:
    """Reports sharing an account or identifier; reports sharing only the file count too,
    unless the file spread virally (then the copies are the spread, not a lead)."""
    facts, cap = reading.facts, reading.weights.linked_reports_cap
    count = facts.entity_linked if reading.spread.value else facts.linked_reports
    if not count:
        return None
    return min(count, cap) / cap, (
        f"{_plural(count, 'other report')} share an account, identifier or file "
        f"(full weight at {cap})"
    )


def _other_companies(reading: Reading) -> Found:
    facts, cap = reading.facts, reading.weights.other_companies_cap
    count = facts.entity_companies if reading.spread.value else facts.other_companies
    if not count:
        return None
    return min(count, cap) / cap, (
        f"linked reports come from {_plural(count, 'other company')} (full weight at {cap})"
    )


def _viral_bundle(reading: Reading) -> Found:
    spread = reading.spread
    return (spread.value, spread.detail) if spread.value else None


MEASURES: dict[str, Measure] = {
    "escalation": _escalation,
    "contact": _contact,
    "danger_now": _danger_now,
    "serious": _said(SERIOUS),
    "infant": _annotation(frozenset({"infant"}), "infant"),
    "prepubescent": _age(PREPUBESCENT),
    "pubescent": _age(PUBESCENT, excluded=PREPUBESCENT),
    "new_material": _new_material,
    "live_streaming": _annotation(frozenset({"liveStreaming"}), "live streaming"),
    "physical_harm": _annotation(
        frozenset({"physicalHarm", "violenceGore"}), "physical harm or violence"
    ),
    "self_production": _annotation(
        frozenset({"possibleSelfProduction"}), "possible self-production"
    ),
    "linked_reports": _linked_reports,
    "other_companies": _other_companies,
    "file_count": _file_count,
    "recent_incident": _recent_incident,
    "analyst_note": _analyst_note,
    "known_only": _known_only,
    "viral_bundle": _viral_bundle,
    "generative_ai": _generative_ai,
    "old_material": _said(OLD_MATERIAL),
    "peer_minors": _peer_minors,
    "resolved": _said(RESOLVED),
}

assert set(MEASURES) == set(REASON_DIRECTIONS), "every weighed reason needs a measure"
