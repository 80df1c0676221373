"""Scoring: a report's facts and a weights file in, an explained priority out. Pure.

Each reason has a value from 0 to 1 (how strongly the fact holds) and earns value x weight
points; reasons that lower (known_only, viral_bundle, generative_ai, old_material,
peer_minors, resolved) subtract. The score is the sum, never below 0. The level follows from
the score and the rules in docs/triage.md; the rules that applied are listed among the
reasons with 0 points, so the page shows them. The free text is read by free_text.py, the
contact's strength and age by contact.py, the viral spread by spread.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from vigil.store.models.triage import Disposition
from vigil.triage.facts import ReportFacts
from vigil.triage.free_text import RESOLVED
from vigil.triage.levels import INFORMATIONAL
from vigil.triage.measures import MEASURES, Reading, read
from vigil.triage.weights import Weights

MAX_DETAIL = 300

# Plain words for people: what each reason means (the detail says what was found).
REASON_TITLES = {
    "escalation": "The reporting company escalated the report",
    "contact": "A sign of contact with a child",
    "danger_now": "The text says a child may be in danger now",
    "serious": "The text says volume or a repeat offender",
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
    "known_only": "Only known material",
    "viral_bundle": "Spread widely by unrelated people (viral or meme)",
    "generative_ai": "Believed made by generative AI",
    "old_material": "The text says the material is old, known or a meme",
    "peer_minors": "An exchange between minors of similar age",
    "resolved": "The text says the child is safe or police are involved",
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


def score(facts: ReportFacts, weights: Weights) -> TriageResult:
    """The explained priority of ``facts`` under ``weights``."""
    reading = read(facts, weights)
    reasons = _reasons(reading)
    total = round(max(0.0, sum(reason.points for reason in reasons)), 2)
    fired = {reason.name: reason for reason in reasons}
    rules: list[Reason] = []
    disposition = _disposition(reading, fired, rules)
    priority = (
        INFORMATIONAL
        if disposition is Disposition.INFORMATIONAL
        else _level(total, reading, fired, rules)
    )
    ordered = sorted(reasons, key=lambda reason: (-abs(reason.points), reason.name))
    return TriageResult(priority, total, tuple(ordered + rules), disposition)


def _reasons(reading: Reading) -> list[Reason]:
    found = []
    for name, measure in MEASURES.items():
        measured = measure(reading)
        if measured is None or measured[0] <= 0:
            continue
        value = round(min(1.0, measured[0]), 4)
        weight = reading.weights.signed(name)
        found.append(
            Reason(name, weight, value, round(weight * value, 2), measured[1][:MAX_DETAIL])
        )
    return found


# --- disposition and level -----------------------------------------------------------------

Fired = dict[str, Reason]
CALMING = ("resolved", "peer_minors")  # said of the child or the exchange: contact is over


def _signs_of_danger_now(reading: Reading, fired: Fired) -> set[str]:
    """The reasons that say a child may be in danger now: something was streamed live; the
    text says so, unless it also says in its own words the child is safe or contact is over
    (a negated danger phrase does not calm another one); or contact strong and fresh enough
    (urgent_contact) that is more than a request for images, unless the report also says the
    child is safe or the exchange was between minors."""
    weights = reading.weights
    signs = {"live_streaming"} & set(fired)
    danger = fired.get("danger_now")  # faded when the text says contact ended long ago
    calmed = any(not signal.negated for signal in reading.said(RESOLVED))
    if danger and danger.value >= weights.urgent_contact and not calmed:
        signs.add("danger_now")
    contact = fired.get("contact")
    if (
        contact
        and contact.value >= weights.urgent_contact
        and not reading.contact.request_only
        and not set(CALMING) & set(fired)
    ):
        signs.add("contact")
    return signs


def _disposition(reading: Reading, fired: Fired, rules: list[Reason]) -> Disposition:
    weights = reading.weights
    viral = fired.get("viral_bundle")
    if (
        weights.viral_without_new_is_informational
        and viral is not None
        and viral.value >= weights.viral_informational_value
        and "new_material" not in fired
        and not _signs_of_danger_now(reading, fired)
    ):
        rules.append(
            _rule(
                "rule_informational",
                "the file spread among unrelated reporters (or is a meme), nothing new, no "
                "sign of danger now: kept and counted, not referred",
            )
        )
        return Disposition.INFORMATIONAL
    return Disposition.REFERRAL


def _level(total: float, reading: Reading, fired: Fired, rules: list[Reason]) -> int:
    weights = reading.weights
    level = 1 if total >= weights.level_1 else 2 if total >= weights.level_2 else 3
    signs = _signs_of_danger_now(reading, fired)
    # A listed reason counts when it fired; contact and danger_now only as signs of danger now.
    needs = {n for n in weights.level_1_needs if n in fired and n not in ("contact", "danger_now")}
    if level == 1 and weights.level_1_needs and not (needs | signs) & weights.level_1_needs:
        level = 2
        rules.append(
            _rule(
                "rule_level_1_needs",
                "the score reaches level 1 but none of "
                + ", ".join(sorted(weights.level_1_needs))
                + " holds as a sign of danger now: level 2",
            )
        )
    best = weights.known_only_best_level
    context = signs or {"serious"} & set(fired)
    if "known_only" in fired and not context and level < best:
        level = best
        rules.append(
            _rule(
                "rule_known_only_level",
                "only known material, no sign of danger now and nothing serious in the "
                f"text: at best level {best}",
            )
        )
    return level


def _rule(name: str, detail: str) -> Reason:
    return Reason(name, 0.0, 1.0, 0.0, detail)
