"""What an analyst reads first on a received report, in plain words: the reporting company's
escalation, the victims' ages, the reported person's identifiers, and the triage level with
its strongest reasons. Taken from the one typed reading of the report
(vigil.reporting.cybertipline.received) and the stored triage; the full field table stays
below it on the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from vigil.reporting.cybertipline.model import IpCaptureEvent, Person
from vigil.reporting.cybertipline.received import ReceivedReport
from vigil.reporting.cybertipline.xml_writer import xml_value
from vigil.store.models import ReportTriage

MAX_SHOWN = 40  # identifiers of one kind; the field table has them all
MAX_CHARS = 500
TOP_REASONS = 3


@dataclass(frozen=True, slots=True)
class Lead:
    escalation: str  # "" when the company did not escalate
    victim_ages: list[str]  # "13 years old", "born 2012-04-01 (13 years old)", "age not given"
    identifiers: list[tuple[str, str]]  # (what, value) of the reported person or user
    level: int | None  # the level in the triage queue; None until scored
    overridden: bool
    reasons: list[tuple[str, str]]  # (name, what was found), strongest first


def lead_of(document: ReceivedReport, triage: ReportTriage | None) -> Lead:
    when = document.incident_summary.incident_date_time
    return Lead(
        escalation=(document.incident_summary.escalate_to_high_priority or "")[:MAX_CHARS],
        victim_ages=[_age(victim.person, when) for victim in document.victim],
        identifiers=list(_identifiers(document))[: MAX_SHOWN * 4],
        level=triage.effective_priority if triage else None,
        overridden=bool(triage and triage.override_priority is not None),
        reasons=_reasons(triage),
    )


def _age(person: Person, when: datetime | None) -> str:
    if person.age is not None:
        return f"{person.age} years old"
    born = person.date_of_birth
    if born is None:
        return "age not given"
    on = (when or datetime.now(UTC)).date()
    return f"born {born.isoformat()} ({_years(born, on)} years old at the incident)"


def _years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _identifiers(document: ReceivedReport) -> Iterator[tuple[str, str]]:
    for reported in document.person_or_user_reported:
        if reported.person is not None:
            yield from _person(reported.person)
        yield from _named("Account", [reported.esp_identifier])
        yield from _named("Service", [reported.esp_service])
        yield from _named("Screen name", [reported.screen_name])
        yield from _named("Display name", reported.display_name)
        yield from _named("Profile", reported.profile_url)
        yield from _named("IP address", _addresses(reported.ip_capture_event))
        yield from _named("Device", [f"{d.id_type} {d.id_value}" for d in reported.device_id])


def _person(person: Person) -> Iterator[tuple[str, str]]:
    name = " ".join(part for part in (person.first_name, person.last_name) if part)
    yield from _named("Name", [name])
    if person.age is not None:
        yield "Age", str(person.age)
    yield from _named("Email", [email.address for email in person.email])
    yield from _named("Phone", [phone.number for phone in person.phone])


def _addresses(events: Iterable[IpCaptureEvent]) -> list[str]:
    return [
        f"{e.ip_address} ({xml_value(e.date_time)})" if e.date_time else e.ip_address
        for e in events
    ]


def _named(what: str, values: Iterable[str | None]) -> Iterator[tuple[str, str]]:
    shown = [value[:MAX_CHARS] for value in values if value]
    for value in dict.fromkeys(shown[:MAX_SHOWN]):
        yield what, value


def _reasons(triage: ReportTriage | None) -> list[tuple[str, str]]:
    if triage is None:
        return []
    found = [r for r in triage.reasons or [] if isinstance(r, dict) and r.get("points")]
    rules = [r for r in triage.reasons or [] if isinstance(r, dict) and not r.get("points")]
    return [
        (str(r.get("name", "")), str(r.get("detail", ""))[:MAX_CHARS])
        for r in (found[:TOP_REASONS] + rules)
    ]
