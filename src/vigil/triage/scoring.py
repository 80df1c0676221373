"""Scoring: a report's facts and a weights file in, an explained priority out. Pure.

Each reason has a value from 0 to 1 (how strongly the fact holds) and earns value x weight
points; reasons that lower (known_only, viral_bundle, generative_ai) subtract. The score is
the sum, never below 0. The level follows from the score and the rules in docs/triage.md;
the rules that applied are listed among the reasons with 0 points, so the page shows them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

from vigil.store.models.intake import FileVerdict
from vigil.store.models.triage import Disposition
from vigil.store.shared.vocabulary import CLASSIFICATION_MEANINGS
from vigil.triage.facts import ReportFacts
from vigil.triage.levels import INFORMATIONAL
from vigil.triage.weights import REASON_DIRECTIONS, Weights

PREPUBESCENT = frozenset({"A1", "A2"})
PUBESCENT = frozenset({"B1", "B2"})
VIRAL_ANNOTATIONS = frozenset({"viral", "potentialMeme"})
MAX_DETAIL = 300

# Plain words for people: what each reason means (the detail says what was found).
REASON_TITLES = {
    "escalation": "The reporting company escalated the report",
    "contact": "A sign of contact with a child",
    "infant": "An infant is depicted",
    "prepubescent": "A prepubescent child (A1/A2)",
    "pubescent": "A pubescent child (B1/B2)",
    "new_material": "New material: possibly abuse going on now",
    "live_streaming": "Streamed live",
    "physical_harm": "Physical harm or violence",
    "self_production": "Believed self-produced",
    "linked_reports": "The account appears in other reports",
    "other_companies": "Reported by other companies too",
    "file_count": "Number of files",
    "recent_incident": "A recent incident",
    "analyst_note": "An analyst wrote a note",
    "imminent_note": "An analyst's note says a child may be in danger now",
    "known_only": "Only known material",
    "viral_bundle": "Part of a viral or meme bundle",
    "generative_ai": "Believed made by generative AI",
    "rule_informational": "Rule: informational",
    "rule_known_only_level": "Rule: known material only",
    "rule_level_1_needs": "Rule: level 1 needs a sign of danger now",
}


def reason_title(name: str) -> str:
    """The words for a reason (a key of REASON_TITLES), on every screen that lists reasons."""
    return REASON_TITLES.get(name, name.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Reason:
    name: str
    weight: float  # signed: negative for reasons that lower the score
    value: float  # 0..1, how strongly the fact holds
    points: float
    detail: str

    @property
    def title(self) -> str:
        return reason_title(self.name)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class TriageResult:
    priority: int  # 1 = a child may be in imminent danger .. 3; 4 = informational
    score: float
    reasons: tuple[Reason, ...]  # strongest first; rules last, with 0 points
    disposition: Disposition


Measure = Callable[[ReportFacts, Weights], tuple[float, str] | None]


def score(facts: ReportFacts, weights: Weights) -> TriageResult:
    """The explained priority of ``facts`` under ``weights``."""
    reasons = _reasons(facts, weights)
    total = round(max(0.0, sum(reason.points for reason in reasons)), 2)
    fired = {reason.name for reason in reasons}
    rules: list[Reason] = []
    disposition = _disposition(facts, weights, fired, rules)
    priority = (
        INFORMATIONAL
        if disposition is Disposition.INFORMATIONAL
        else _level(total, weights, fired, rules)
    )
    ordered = sorted(reasons, key=lambda reason: (-abs(reason.points), reason.name))
    return TriageResult(priority, total, tuple(ordered + rules), disposition)


def _reasons(facts: ReportFacts, weights: Weights) -> list[Reason]:
    found = []
    for name, measure in MEASURES.items():
        measured = measure(facts, weights)
        if measured is None or measured[0] <= 0:
            continue
        value = round(min(1.0, measured[0]), 4)
        weight = weights.signed(name)
        found.append(
            Reason(name, weight, value, round(weight * value, 2), measured[1][:MAX_DETAIL])
        )
    return found


# --- disposition and level -----------------------------------------------------------------


def _urgent(fired: set[str]) -> bool:
    """Signs that override the rules that lower a report."""
    return bool(fired & {"escalation", "contact", "imminent_note"})


def _disposition(
    facts: ReportFacts, weights: Weights, fired: set[str], rules: list[Reason]
) -> Disposition:
    if (
        weights.viral_without_new_is_informational
        and "viral_bundle" in fired
        and "new_material" not in fired
        and not _urgent(fired)
    ):
        rules.append(
            _rule(
                "rule_informational",
                "viral or meme material with nothing new, no "
                "sign of contact and no escalation: kept and counted, not referred",
            )
        )
        return Disposition.INFORMATIONAL
    return Disposition.REFERRAL


def _level(total: float, weights: Weights, fired: set[str], rules: list[Reason]) -> int:
    level = 1 if total >= weights.level_1 else 2 if total >= weights.level_2 else 3
    if level == 1 and weights.level_1_needs and not fired & weights.level_1_needs:
        level = 2
        rules.append(
            _rule(
                "rule_level_1_needs",
                "the score reaches level 1 but none of "
                + ", ".join(sorted(weights.level_1_needs))
                + " holds: level 2",
            )
        )
    best = weights.known_only_best_level
    if "known_only" in fired and not _urgent(fired) and level < best:
        level = best
        rules.append(
            _rule(
                "rule_known_only_level",
                f"only known material, no sign of contact and no escalation: at best level {best}",
            )
        )
    return level


def _rule(name: str, detail: str) -> Reason:
    return Reason(name, 0.0, 1.0, 0.0, detail)


# --- the measures: (value 0..1, what was found) or None --------------------------------------


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _escalation(facts: ReportFacts, _: Weights) -> tuple[float, str] | None:
    if not facts.escalation:
        return None
    return 1.0, f'the reporting company wrote: "{facts.escalation[:200]}"'


def _contact(facts: ReportFacts, _: Weights) -> tuple[float, str] | None:
    signals = facts.contact_signals
    return (1.0, "; ".join(signals)) if signals else None


def _annotation(annotations: frozenset[str], noun: str) -> Measure:
    def measure(facts: ReportFacts, _: Weights) -> tuple[float, str] | None:
        count = sum(1 for file in facts.files if file.annotations & annotations)
        if not count:
            return None
        return 1.0, f"{_plural(count, 'file')} of {len(facts.files)} annotated {noun}"

    return measure


def _age(classes: frozenset[str], excluded: frozenset[str] = frozenset()) -> Measure:
    def measure(facts: ReportFacts, _: Weights) -> tuple[float, str] | None:
        if any(file.classification in excluded for file in facts.files):
            return None  # the youngest apparent age is the one that counts
        matching = [file for file in facts.files if file.classification in classes]
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


def _new_material(facts: ReportFacts, _: Weights) -> tuple[float, str] | None:
    new = facts.count(FileVerdict.NEW)
    if not new:
        return None
    return 1.0, f"{_plural(new, 'file')} of {len(facts.files)} never seen by the clearinghouse"


def _scaled(count: int, cap: int) -> float:
    return min(count, cap) / cap


def _linked_reports(facts: ReportFacts, weights: Weights) -> tuple[float, str] | None:
    if not facts.linked_reports:
        return None
    return (
        _scaled(facts.linked_reports, weights.linked_reports_cap),
        f"{_plural(facts.linked_reports, 'other report')} share an account, identifier "
        f"or file (full weight at {weights.linked_reports_cap})",
    )


def _other_companies(facts: ReportFacts, weights: Weights) -> tuple[float, str] | None:
    if not facts.other_companies:
        return None
    return (
        _scaled(facts.other_companies, weights.other_companies_cap),
        f"linked reports come from {_plural(facts.other_companies, 'other company')} "
        f"(full weight at {weights.other_companies_cap})",
    )


def _file_count(facts: ReportFacts, weights: Weights) -> tuple[float, str] | None:
    count = len(facts.files)
    if not count:
        return None
    value = math.log1p(count) / math.log1p(weights.file_count_cap)
    return value, f"{_plural(count, 'file')} (full weight at {weights.file_count_cap})"


def _recent_incident(facts: ReportFacts, weights: Weights) -> tuple[float, str] | None:
    if facts.incident_time is None:
        return None
    days = max(0.0, (facts.now - facts.incident_time).total_seconds() / 86400)
    value = 1.0 - days / weights.recent_incident_days
    if value <= 0:
        return None
    return value, (
        f"the incident was {days:.1f} days ago (nothing after {weights.recent_incident_days} days)"
    )


def _analyst_note(facts: ReportFacts, _: Weights) -> tuple[float, str] | None:
    count = len(facts.note_texts)
    return (1.0, f"{_plural(count, 'analyst note')}") if count else None


def _imminent_note(facts: ReportFacts, weights: Weights) -> tuple[float, str] | None:
    text = " ".join(note.casefold() for note in facts.note_texts)
    words = [word for word in weights.imminent_words if word in text]
    if not words:
        return None
    return 1.0, "a note says " + ", ".join(f'"{word}"' for word in words)


def _known_only(facts: ReportFacts, _: Weights) -> tuple[float, str] | None:
    if not facts.files or facts.count(FileVerdict.KNOWN) != len(facts.files):
        return None
    count = len(facts.files)
    return 1.0, (
        "the file is" if count == 1 else f"all {count} files are"
    ) + " known, labelled material"


def _viral_bundle(facts: ReportFacts, _: Weights) -> tuple[float, str] | None:
    if facts.viral_bundle_size:
        return 1.0, f"one of {_plural(facts.viral_bundle_size, 'report')} of the same file"
    if facts.files and all(file.annotations & VIRAL_ANNOTATIONS for file in facts.files):
        return 1.0, "every file is annotated viral or potential meme"
    return None


def _generative_ai(facts: ReportFacts, _: Weights) -> tuple[float, str] | None:
    count = sum(1 for file in facts.files if "generativeAi" in file.annotations)
    if not count:
        return None
    return (
        count / len(facts.files),
        f"{_plural(count, 'file')} of {len(facts.files)} believed made by generative AI",
    )


MEASURES: dict[str, Measure] = {
    "escalation": _escalation,
    "contact": _contact,
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
    "imminent_note": _imminent_note,
    "known_only": _known_only,
    "viral_bundle": _viral_bundle,
    "generative_ai": _generative_ai,
}

assert set(MEASURES) == set(REASON_DIRECTIONS), "every weighed reason needs a measure"
