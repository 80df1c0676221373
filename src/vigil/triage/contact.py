"""Signs of contact with a child and how fresh they are. Pure.

Not every sign weighs the same: an enticement or sextortion report is contact by definition,
a solicitation annotation or a named victim alone is not (a victim is named in most reports
of pictures too). And contact that ended long ago is no longer urgent: its strength fades
towards a floor (serious still, not imminent) with the age of the last contact, read from
the text ("last contact 3 months ago") or else the incident time. docs/triage.md lists the
strengths; the half-life and floor are weights-file values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vigil.triage.facts import ReportFacts
from vigil.triage.free_text import last_contact_days

# How strongly each sign alone says someone was in contact with a child (0..1).
CONTACT_INCIDENT_TYPES = {
    "Online Enticement of Children for Sexual Acts": 1.0,
    "Child Sex Trafficking": 1.0,
    "Child Sexual Molestation": 1.0,
    "Child Sex Tourism": 1.0,
    "Unsolicited Obscene Material Sent to a Child": 0.6,
}
CONTACT_REPORT_ANNOTATIONS = {
    "sextortion": 1.0,
    "sadisticOnlineExploitation": 1.0,
    "csamSolicitation": 0.4,
}
# Contact in person (or sold): never "only a request", whatever else is annotated.
IN_PERSON_TYPES = frozenset(
    {"Child Sex Trafficking", "Child Sexual Molestation", "Child Sex Tourism"}
)
# A threat: coercion is going on while the offender holds something over the child.
THREAT_ANNOTATIONS = frozenset({"sextortion", "sadisticOnlineExploitation"})
SOLICITATION = "csamSolicitation"
NAMED_VICTIM = 0.3
EACH_FURTHER_SIGN = 0.1  # a second or third sign adds a little, never past 1


@dataclass(frozen=True)
class Contact:
    strength: float  # 0..1 before fading
    signs: tuple[str, ...]  # plain descriptions, strongest first
    # The company said what the contact was, a request for images, and nothing says threat
    # or contact in person: serious, but by itself no sign of danger now (docs/triage.md).
    request_only: bool = False


def contact_signs(facts: ReportFacts) -> Contact:
    """Every sign of contact in the report and their combined strength."""
    signs: list[tuple[float, str]] = []
    if facts.incident_type in CONTACT_INCIDENT_TYPES:
        signs.append(
            (CONTACT_INCIDENT_TYPES[facts.incident_type], f"incident type {facts.incident_type}")
        )
    signs += [
        (CONTACT_REPORT_ANNOTATIONS[name], f"report annotated {name}")
        for name in sorted(facts.report_annotations & set(CONTACT_REPORT_ANNOTATIONS))
    ]
    if facts.victim:
        signs.append((NAMED_VICTIM, "a victim is named in the report"))
    if not signs:
        return Contact(0.0, ())
    signs.sort(key=lambda sign: -sign[0])
    strength = min(1.0, signs[0][0] + EACH_FURTHER_SIGN * (len(signs) - 1))
    annotations = facts.report_annotations
    request_only = (
        SOLICITATION in annotations
        and not annotations & THREAT_ANNOTATIONS
        and facts.incident_type not in IN_PERSON_TYPES
    )
    return Contact(strength, tuple(text for _, text in signs), request_only)


def decay(days: float, half_life: float) -> float:
    """1 now, 0.5 after ``half_life`` days, and so on; a future time counts as now."""
    return float(0.5 ** (max(0.0, days) / half_life))


def fading(days: float | None, half_life: float, floor: float) -> float:
    """What is left of a contact's urgency ``days`` after it: from 1 down to ``floor``.
    An unknown age keeps it whole: nothing says it is over."""
    if days is None:
        return 1.0
    return floor + (1.0 - floor) * decay(days, half_life)


@dataclass(frozen=True)
class LastContact:
    days: float | None  # days before ``now``; None: unknown
    source: str  # "the text" or "the incident time"


def reported_at(facts: ReportFacts) -> datetime:
    """The moment ages are counted to: when the company finished the report (else now).
    Not the scoring time: a report must not sink in the queue because it waited there, and
    re-scoring (a new weights file, a note) must not lower it for the same reason."""
    return facts.received_at or facts.now


def last_contact(facts: ReportFacts) -> LastContact:
    """How long before the report contact last happened, as far as the report says: a date
    or age in its text ("last contact 3 months ago"), else the incident time."""
    texts = [facts.escalation, *facts.note_texts, *(text for _, text in facts.texts)]
    written = reported_at(facts)
    stated = last_contact_days(texts, written)
    if stated is not None:
        return LastContact(stated, "the text")
    if facts.incident_time is not None:
        return LastContact(days_between(facts.incident_time, written), "the incident time")
    return LastContact(None, "")


def days_between(earlier: datetime, later: datetime) -> float:
    try:
        return max(0.0, (later - earlier).total_seconds() / 86400)
    except TypeError:  # a naive time against an aware one: count it as now
        return 0.0
