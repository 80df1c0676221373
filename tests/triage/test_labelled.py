"""People's decisions as labelled reports, on both backends: an override is its level, an
agency's words state a level only when they say one (not negated), decisions that imply
no level are left out and counted, the export is bounded, scored as the store scored it, and
the labels file reads back exactly while garbage, an unknown version, levels out of range,
a cut or oversized file are refused naming the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.triage import triage_rows as rows
from tests.triage.routing_rows import agency_row
from vigil.agency.actions import accept, decline, record_outcome
from vigil.store import Database
from vigil.store.models import Referral, ReferralState, ReportTriage
from vigil.store.models.agencies import OutcomeKind
from vigil.triage.calibration import placed_level
from vigil.triage.labelled import (
    LEFT_ACCEPTED,
    LEFT_BEYOND,
    LEFT_DECLINED,
    LEFT_DISAGREE,
    Decisions,
    export_labels,
    implied_level,
    stated_levels,
)
from vigil.triage.labels_file import (
    MAX_EXAMPLES,
    MAX_FILE_BYTES,
    LabelledReport,
    Labels,
    LabelsRefused,
    labels_lines,
    parse_labels,
    read_labels,
)
from vigil.triage.service import override_priority, score_pending
from vigil.triage.weights import load_weights

WEIGHTS = load_weights()

# --- what a decision says ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "levels"),
    [
        ("The child is in imminent danger: the meeting is tonight.", {1}),
        ("Declined: not urgent, the images are years old.", {3}),
        ("Informational only; a widely shared meme.", {4}),
        ("Treat as level 2.", {2}),
        ("No imminent danger: the girl is safe with her mother.", set()),
        ("She is not in imminent danger any more.", set()),
        ("He isn't at risk now.", set()),
        ("Outside our jurisdiction.", set()),
        ("Level 10 of the building.", set()),
        ("", set()),
    ],
)
def test_an_agency_states_a_level_only_in_its_words(text: str, levels: set[int]) -> None:
    assert stated_levels(text) == levels


def test_an_override_is_the_level_the_analyst_chose() -> None:
    implied = implied_level(Decisions(override=2, declines=("imminent danger",)))
    assert (implied.level, implied.source) == (2, "override")


@pytest.mark.parametrize(
    ("decisions", "level", "source"),
    [
        (Decisions(declines=("not urgent",)), 3, "declined"),
        (
            Decisions(notes=("child identified; was in imminent danger",), accepted=True),
            1,
            "outcome",
        ),
        (Decisions(declines=("not urgent",), notes=("low priority",), accepted=True), 3, "agency"),
        (Decisions(declines=("not urgent",), notes=("imminent danger",)), None, LEFT_DISAGREE),
        (Decisions(declines=("wrong agency",)), None, LEFT_DECLINED),
        (Decisions(notes=("arrest made",), accepted=True), None, LEFT_ACCEPTED),
        (Decisions(accepted=True), None, LEFT_ACCEPTED),
    ],
)
def test_agency_decisions_imply_a_level_or_say_why_not(
    decisions: Decisions, level: int | None, source: str
) -> None:
    implied = implied_level(decisions)
    assert (implied.level, implied.source) == (level, source)


# --- the export from the store -------------------------------------------------------------


def _referral(session, report_id: int, agency_id: int) -> int:
    referral = Referral(
        report_id=report_id, agency_id=agency_id, state=ReferralState.ROUTED, routed_by="t"
    )
    session.add(referral)
    session.flush()
    return referral.id


def _decided(database: Database) -> dict[str, int]:
    """Reports with every kind of decision, scored by the packaged weights."""
    with database.transaction(write=True) as session:
        owner = rows.company(session)
        made = {
            "overridden": rows.urgent_report(session, owner).id,
            "not urgent": rows.quiet_report(session, owner).id,
            "jurisdiction": rows.quiet_report(session, owner).id,
            "arrest": rows.urgent_report(session, owner).id,
            "in danger": rows.urgent_report(session, owner).id,
            "routed only": rows.urgent_report(session, owner).id,
            "undecided": rows.quiet_report(session, owner).id,
        }
        score_pending(session, WEIGHTS)
        agency = agency_row(session, "ICAC1")
        override_priority(session, made["overridden"], 2, "older than it looks", "analyst")
        referrals = {name: _referral(session, made[name], agency.id) for name in list(made)[1:6]}
        decline(session, agency.id, referrals["not urgent"], "Not urgent: old material", actor="a")
        decline(session, agency.id, referrals["jurisdiction"], "Outside our area", actor="a")
        for name, kind, note in (
            ("arrest", OutcomeKind.ARREST, ""),
            ("in danger", OutcomeKind.CHILD_IDENTIFIED, "The child was in imminent danger."),
        ):
            accept(session, agency.id, referrals[name], actor="a")
            record_outcome(session, agency.id, referrals[name], kind, note=note, actor="a")
    return made


def test_decided_reports_become_labels_and_the_rest_is_counted(database: Database) -> None:
    made = _decided(database)
    with database.transaction() as session:
        labels = export_labels(session, WEIGHTS)
        stored = {
            report.report_id: session.get(ReportTriage, report.report_id)
            for report in labels.reports
        }
    by_id = {report.report_id: report for report in labels.reports}
    assert set(by_id) == {made["overridden"], made["not urgent"], made["in danger"]}
    assert (by_id[made["overridden"]].true_level, by_id[made["overridden"]].source) == (
        2,
        "override",
    )
    assert (by_id[made["not urgent"]].true_level, by_id[made["not urgent"]].source) == (
        3,
        "declined",
    )
    assert (by_id[made["in danger"]].true_level, by_id[made["in danger"]].source) == (
        1,
        "outcome",
    )
    assert labels.left_out == {LEFT_DECLINED: 1, LEFT_ACCEPTED: 1}
    assert (labels.weights_version, labels.weights_sha256) == (WEIGHTS.version, WEIGHTS.sha256)
    for report in labels.reports:
        row = stored[report.report_id]
        # scored as the store scored it: the same weights, as of its latest scoring
        assert report.score == row.score and report.level == row.priority
        assert report.best_level <= report.level
        assert placed_level(report.example(), WEIGHTS.level_1, WEIGHTS.level_2) == report.level
    assert by_id[made["in danger"]].best_level == 1  # a sign of contact: level 1 is open


def test_the_export_is_bounded_and_counts_what_it_did_not_read(database: Database) -> None:
    made = _decided(database)
    with database.transaction() as session:
        labels = export_labels(session, WEIGHTS, limit=2)
    assert [report.report_id for report in labels.reports] == [
        made["overridden"],
        made["not urgent"],
    ]
    assert labels.left_out == {LEFT_BEYOND: 3}


def test_no_decisions_give_an_empty_export(database: Database) -> None:
    with database.transaction(write=True) as session:
        rows.quiet_report(session, rows.company(session))
        score_pending(session, WEIGHTS)
    with database.transaction() as session:
        labels = export_labels(session, WEIGHTS)
    assert labels.reports == () and labels.left_out == {}


# --- the labels file -----------------------------------------------------------------------


def _file(count: int = 3) -> bytes:
    reports = tuple(
        LabelledReport(index + 1, 10.5 * index, 3, 1 + index % 2, 1 + index % 4, "override")
        for index in range(count)
    )
    return labels_lines(Labels("local-1", "0" * 64, reports, {LEFT_DECLINED: 2}))


def test_the_labels_file_reads_back_exactly(tmp_path: Path) -> None:
    content = _file()
    path = tmp_path / "labels.jsonl"
    path.write_bytes(content)
    labels = read_labels(path)
    assert labels_lines(labels) == content
    assert [r.true_level for r in labels.reports] == [1, 2, 3]
    assert labels.left_out == {LEFT_DECLINED: 2}


def _line(number: int, change: dict[str, object]) -> bytes:
    lines = _file().splitlines()
    document = json.loads(lines[number - 1]) | change
    lines[number - 1] = json.dumps(document).encode()
    return b"\n".join(lines) + b"\n"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"", "empty"),
        (b"not json at all\n", "line 1"),
        (_file().replace(b"\n{", b"\n\x00garbage{", 1), "line 2"),
        (_file() + b"[1, 2]\n", "line 5"),
        (_line(1, {"version": 2}), "version"),
        (_line(1, {"format": "something else"}), "not a labels file"),
        (_line(2, {"true_level": 7}), "line 2: true_level"),
        (_line(3, {"best_level": 0}), "line 3: best_level"),
        (_line(2, {"level": 1.5}), "line 2: level"),
        (_line(2, {"true_level": "1"}), "line 2: true_level"),
        (_line(2, {"score": -1}), "line 2: score"),
        (_line(2, {"source": "rumour"}), "line 2: source"),
        (_line(2, {"extra": 1}), "line 2: extra"),
        (_line(3, {"report_id": 1}), "line 3: report 1 is labelled twice"),
        (_line(1, {"reports": 5}), "header says 5"),
        (b"\xff\xfe" + _file(), "line 1"),
        (b"[" * 100_000 + b"\n", "line 1"),
    ],
)
def test_a_broken_labels_file_is_refused_naming_the_problem(content: bytes, named: str) -> None:
    with pytest.raises(LabelsRefused, match=named):
        parse_labels(content)


def test_a_huge_labels_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as out:
        out.write(_file())
        out.seek(MAX_FILE_BYTES + 10)
        out.write(b"\n")
    with pytest.raises(LabelsRefused, match="larger than"):
        read_labels(path)


def test_too_many_lines_are_refused_before_any_is_read() -> None:
    with pytest.raises(LabelsRefused, match=f"more than {MAX_EXAMPLES} reports"):
        parse_labels(b"\n".join([b"{}"] * (MAX_EXAMPLES + 2)))


def test_a_missing_labels_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LabelsRefused, match="cannot read"):
        read_labels(tmp_path / "absent.jsonl")
