"""Synthetic clearinghouse reports with a known ground-truth urgency, for evaluating triage.

Each report is written as real intake rows (IntakeReport with its document, written by the
CyberTipline writer and kept raw and parsed as the intake keeps it, IntakeFile rows with
their file details, verdicts, classifications and file annotations, viral incidents, shared
entities) so the evaluation runs the same fact gathering and scoring as production. No media: files
are made-up digests. The level of each report comes from its scenario, never from the
scorer; scenarios carry noise (file counts, incident ages, stray annotations, links) so the
ordering is not a restatement of the weights. Only for tests, benchmarks and demos.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from vigil.reporting.cybertipline.model import (
    Email,
    FileAnnotations,
    FileDetailsModel,
    IncidentSummary,
    Person,
    ReportAnnotations,
    Reporter,
    ReportModel,
    Victim,
)
from vigil.reporting.cybertipline.received import flags_of, stored_form
from vigil.reporting.cybertipline.xml_writer import file_details_xml, report_xml
from vigil.store.models import (
    FileVerdict,
    IntakeEntity,
    IntakeEntityLink,
    IntakeFile,
    IntakeIncident,
    IntakeReport,
    IntakeState,
    ReportingCompany,
    utcnow,
)

ENTICEMENT = "Online Enticement of Children for Sexual Acts"
POSSESSION = "Child Pornography (possession, manufacture, and distribution)"
COMPANIES = ("Synthetic Photos", "Synthetic Chat", "Synthetic Video", "Synthetic Cloud")
# Share of each ground-truth level among generated reports (level: weight).
LEVEL_MIX = {1: 0.06, 2: 0.2, 3: 0.4, 4: 0.34}


@dataclass
class _Draft:
    """A report being made up: the parts the scenario chooses."""

    incident_type: str = POSSESSION
    escalation: str = ""
    annotations: list[str] = field(default_factory=list)  # report annotations
    victim: bool = False
    batched: bool = False
    age_days: float = 10.0
    files: list[tuple[FileVerdict, str | None, list[str]]] = field(default_factory=list)
    viral: bool = False
    linked: int = 0  # other reports to share an identifier with


@dataclass(frozen=True)
class SyntheticReport:
    report_id: int
    level: int  # ground truth: 1 = a child may be in imminent danger .. 4 = informational
    scenario: str
    finished_at: datetime


Scenario = Callable[[random.Random], _Draft]


def _files(
    rng: random.Random,
    verdict: FileVerdict,
    low: int,
    high: int,
    classes: tuple[str | None, ...],
    extra: tuple[str, ...] = (),
    stray: float = 0.05,
) -> list[tuple[FileVerdict, str | None, list[str]]]:
    made = []
    for _ in range(rng.randint(low, high)):
        annotations = [name for name in extra if rng.random() < 0.7]
        if rng.random() < stray:  # noise: an annotation the scenario does not need
            annotations.append(rng.choice(["physicalHarm", "possibleSelfProduction", "infant"]))
        made.append((verdict, rng.choice(classes), annotations))
    return made


# --- level 1: a child may be in danger now --------------------------------------------------


def _enticement(rng: random.Random) -> _Draft:
    return _Draft(
        incident_type=ENTICEMENT,
        victim=rng.random() < 0.8,
        annotations=["sextortion"] if rng.random() < 0.6 else [],
        age_days=rng.uniform(0, 4),
        files=_files(rng, FileVerdict.NEW, 0, 3, (None, "B1", "B2")),
        linked=rng.choice([0, 0, 1, 2]),
    )


def _escalated_new(rng: random.Random) -> _Draft:
    return _Draft(
        escalation="The user appears to be abusing a child in their care.",
        age_days=rng.uniform(0, 7),
        files=_files(rng, FileVerdict.NEW, 1, 8, ("A1", "A2", None), ("infant",)),
    )


def _live_abuse(rng: random.Random) -> _Draft:
    return _Draft(
        age_days=rng.uniform(0, 2),
        files=_files(rng, FileVerdict.NEW, 1, 4, ("A1", "B1"), ("liveStreaming", "physicalHarm")),
        victim=rng.random() < 0.3,
    )


# --- level 2: new or linked material, no sign of danger now ---------------------------------


def _new_material(rng: random.Random) -> _Draft:
    return _Draft(
        age_days=rng.uniform(5, 90),
        files=_files(rng, FileVerdict.NEW, 1, 20, ("A2", "B1", "B2", None))
        + _files(rng, FileVerdict.KNOWN, 0, 5, ("A1", "B2")),
    )


def _linked_offender(rng: random.Random) -> _Draft:
    return _Draft(
        age_days=rng.uniform(2, 60),
        files=_files(rng, FileVerdict.SEEN, 1, 10, ("A1", "A2", "B1")),
        linked=rng.randint(2, 6),
    )


# --- level 3: known material, refer but nothing urgent --------------------------------------


def _known_possession(rng: random.Random) -> _Draft:
    return _Draft(
        age_days=rng.uniform(1, 400),
        files=_files(rng, FileVerdict.KNOWN, 1, 60, ("A1", "A2", "B1", "B2")),
        linked=rng.choice([0, 0, 0, 1]),
    )


def _generated(rng: random.Random) -> _Draft:
    return _Draft(
        age_days=rng.uniform(1, 120),
        files=_files(
            rng,
            FileVerdict.NEW,
            1,
            6,
            ("B2", None),
            ("generativeAi", "animeDrawingVirtualHentai"),
            stray=0.0,
        ),
    )


# --- level 4: informational ------------------------------------------------------------------


def _viral(rng: random.Random) -> _Draft:
    verdict = rng.choice([FileVerdict.KNOWN, FileVerdict.SEEN])
    return _Draft(
        batched=True,
        viral=True,
        age_days=rng.uniform(0, 30),
        files=_files(rng, verdict, 1, 1, ("B2", "A2", None), ("viral", "potentialMeme"), stray=0.0),
    )


SCENARIOS: dict[int, list[tuple[str, Scenario]]] = {
    1: [
        ("enticement", _enticement),
        ("escalated_new", _escalated_new),
        ("live_abuse", _live_abuse),
    ],
    2: [("new_material", _new_material), ("linked_offender", _linked_offender)],
    3: [("known_possession", _known_possession), ("generated", _generated)],
    4: [("viral", _viral)],
}


# --- writing rows ----------------------------------------------------------------------------


def generate(
    session: Session,
    count: int,
    *,
    seed: int = 0,
    now: datetime | None = None,
    viral_files: int = 8,
) -> list[SyntheticReport]:
    """``count`` finished synthetic reports, arriving in random order over 30 days before
    ``now``. Flushes; the caller commits."""
    rng = random.Random(seed)
    now = now or utcnow()
    companies = _companies(session)
    incidents = [_incident(session, f"viral-{uuid.uuid4().hex}") for _ in range(viral_files)]
    made: list[SyntheticReport] = []
    drafts: list[tuple[IntakeReport, _Draft]] = []
    levels = list(LEVEL_MIX)
    for _ in range(count):
        level = rng.choices(levels, weights=[LEVEL_MIX[lv] for lv in levels])[0]
        name, scenario = rng.choice(SCENARIOS[level])
        draft = scenario(rng)
        finished = now - timedelta(minutes=rng.uniform(1, 30 * 24 * 60))
        report = _report(session, rng.choice(companies), draft, finished)
        if draft.viral:
            _join_incident(session, report, draft, rng.choice(incidents))
        else:
            _write_files(session, report, draft)
        drafts.append((report, draft))
        made.append(SyntheticReport(report.id, level, name, finished))
    session.flush()
    _link(session, rng, drafts)
    session.flush()
    return made


def _companies(session: Session) -> list[ReportingCompany]:
    rows = []
    for name in COMPANIES:
        company = ReportingCompany(
            name=name,
            username=f"synthetic-{uuid.uuid4().hex[:10]}",
            password_hash="$argon2id$synthetic-cannot-sign-in",
        )
        session.add(company)
        rows.append(company)
    session.flush()
    return rows


def _incident(session: Session, seed: str) -> IntakeIncident:
    incident = IntakeIncident(sha256=_digest(seed, "sha256"), report_count=0)
    session.add(incident)
    session.flush()
    return incident


def _report(
    session: Session, company: ReportingCompany, draft: _Draft, finished: datetime
) -> IntakeReport:
    raw = report_xml(_document(draft, finished))
    report = IntakeReport(
        company_id=company.id,
        raw_xml=raw,
        parsed=stored_form(raw),
        request_id=uuid.uuid4().hex,
        batched=draft.batched,
        state=IntakeState.FINISHED,
        opened_at=finished,
        last_activity_at=finished,
        finished_at=finished,
    )
    session.add(report)
    session.flush()
    return report


def _document(draft: _Draft, finished: datetime) -> ReportModel:
    when = (finished - timedelta(days=draft.age_days)).replace(microsecond=0)
    summary = IncidentSummary(
        incident_type=draft.incident_type,
        incident_date_time=when,
        escalate_to_high_priority=draft.escalation or None,
        report_annotations=flags_of(ReportAnnotations, draft.annotations)
        if draft.annotations
        else None,
    )
    victims = (Victim(person=Person(first_name="(synthetic)")),) if draft.victim else ()
    reporter = Reporter(reporting_person=Person(email=(Email(address="safety@example.com"),)))
    return ReportModel(incident_summary=summary, reporter=reporter, victim=victims)


def _write_files(session: Session, report: IntakeReport, draft: _Draft) -> None:
    for verdict, classification, flags in draft.files:
        _file(session, report, uuid.uuid4().hex, verdict, classification, flags)


def _join_incident(
    session: Session, report: IntakeReport, draft: _Draft, incident: IntakeIncident
) -> None:
    """One file, the incident's: every report of a viral bundle sent the same file."""
    verdict, classification, flags = draft.files[0]
    file = _file(session, report, "", verdict, classification, flags)
    file.sha256 = incident.sha256
    report.incident_id = incident.id
    incident.report_count += 1


def _file(
    session: Session,
    report: IntakeReport,
    seed: str,
    verdict: FileVerdict,
    classification: str | None,
    annotations: list[str],
) -> IntakeFile:
    seed = seed or uuid.uuid4().hex
    raw = file_details_xml(
        FileDetailsModel(
            report_id=report.id,
            file_annotations=flags_of(FileAnnotations, annotations) if annotations else None,
            # the reporter's own view
            industry_classification=classification if verdict is not FileVerdict.KNOWN else None,
        )
    )
    file = IntakeFile(
        public_id=uuid.uuid4().hex,
        report_id=report.id,
        size=1000,
        md5=_digest(seed, "md5"),
        sha1=_digest(seed, "sha1"),
        sha256=_digest(seed, "sha256"),
        media_type="photo",
        details_xml=raw,
        details=stored_form(raw),
        verdict=verdict,
        classification=classification if verdict is FileVerdict.KNOWN else None,
        received_at=report.finished_at or utcnow(),
    )
    session.add(file)
    return file


def _digest(seed: str, kind: str) -> str:
    return hashlib.new(kind, f"synthetic:{seed}".encode()).hexdigest()


def _link(session: Session, rng: random.Random, drafts: list[tuple[IntakeReport, _Draft]]) -> None:
    """Each report asking for links shares one screen name with that many other reports
    (picked at random, so some links land on reports of any level: noise)."""
    reports = [report for report, _ in drafts]
    for report, draft in drafts:
        if not draft.linked:
            continue
        entity = IntakeEntity(kind="screen_name", value=f"synthetic-{uuid.uuid4().hex}")
        session.add(entity)
        session.flush()
        others = rng.sample(reports, min(draft.linked, len(reports) - 1))
        for linked in {report.id, *(other.id for other in others)}:
            session.add(
                IntakeEntityLink(entity_id=entity.id, report_id=linked, context="synthetic")
            )
