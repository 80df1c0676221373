"""The independent triage set (benchmarks/triage_cases): the case file is well formed and
covers the issue's misleading patterns, malformed cases are refused, and the loader writes
every case through the clearinghouse intake as one finished report with Vigil's own file
verdicts, links and incidents."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from benchmarks.triage_cases.__main__ import main
from benchmarks.triage_cases.case import (
    MISLEADING,
    Case,
    CaseError,
    load_cases,
    parse_case,
    parse_cases,
)
from benchmarks.triage_cases.load import load
from tests.benchmarks.case_files import (
    Loaded,
    assert_one_finished_report_per_case,
    loaded_cases,
    reports_of,
)
from vigil.clearinghouse.entities import linked_reports
from vigil.store import Database
from vigil.store.models import FileVerdict, IntakeReport

INCIDENT = "Child Pornography (possession, manufacture, and distribution)"


def raw_case(**changes: Any) -> dict[str, Any]:
    """A valid raw case; ``changes`` replace fields (None removes one)."""
    case: dict[str, Any] = {
        "id": "t-1",
        "level": 2,
        "why": "New material from an identifiable account.",
        "patterns": ["new-material-no-context"],
        "company": "Larkspur Social",
        "type": INCIDENT,
        "hours_ago": 30,
        "reported": [{"esp_id": "100200"}],
        "files": [{"ref": "t-file-1", "status": "new"}],
    }
    for key, value in changes.items():
        if value is None:
            case.pop(key, None)
        else:
            case[key] = value
    return case


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases()


@pytest.fixture(scope="module")
def loaded(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, cases: list[Case]
) -> Iterator[Loaded]:
    with loaded_cases(sqlite_template, tmp_path_factory.mktemp("triage-cases"), cases) as made:
        yield made


# --- the case file -------------------------------------------------------------------------


def test_the_case_file_parses_with_a_realistic_level_mix(cases: list[Case]) -> None:
    assert 240 <= len(cases) <= 300
    assert len({case.id for case in cases}) == len(cases)
    levels = Counter(case.level for case in cases)
    assert set(levels) == {1, 2, 3, 4}
    assert 0.10 <= levels[1] / len(cases) <= 0.16
    assert all(case.why.strip() and case.company for case in cases)
    assert len({case.company for case in cases}) in (3, 4)


def test_every_misleading_pattern_is_written_several_times(cases: list[Case]) -> None:
    counts = Counter(pattern for case in cases for pattern in case.patterns)
    assert {pattern: counts[pattern] >= 5 for pattern in MISLEADING} == dict.fromkeys(
        MISLEADING, True
    )


def test_the_misleading_patterns_carry_the_levels_the_issue_gives_them(cases: list[Case]) -> None:
    def levels(pattern: str) -> set[int]:
        return {case.level for case in cases if pattern in case.patterns}

    assert levels("truly-viral") == {4}
    assert levels("new-with-child-now-free-text") == {1}
    assert levels("new-material-no-context") == {2}
    for pattern in MISLEADING:
        if pattern != "new-with-child-now-free-text":
            assert 1 not in levels(pattern), pattern


def test_viral_material_spreads_over_unrelated_companies(cases: list[Case]) -> None:
    """Each meme file is reported by at least three companies; a linked re-post is not."""
    companies: dict[str, set[str]] = {}
    for case in cases:
        if "truly-viral" in case.patterns:
            for file in case.files:
                companies.setdefault(file.ref, set()).add(case.company)
    assert companies and all(len(names) >= 3 for names in companies.values())


def test_viral_reporters_share_no_identifier_and_linked_reposts_do(cases: list[Case]) -> None:
    """Unrelated means unrelated: no account identifier of a viral report appears in any other
    case, while every linked re-post shares one with an earlier case."""
    seen: dict[str, set[str]] = {}
    for case in cases:
        for account in case.reported:
            for value in (account.email, account.ip, account.phone, account.screen_name):
                if value:
                    seen.setdefault(value, set()).add(case.id)
    shared = {case_id for ids in seen.values() if len(ids) > 1 for case_id in ids}
    viral = {case.id for case in cases if "truly-viral" in case.patterns}
    reposts = {case.id for case in cases if "reposted-by-linked-account" in case.patterns}
    assert viral and not viral & shared
    assert reposts and reposts <= shared


def test_the_check_command_prints_counts(
    cases: list[Case], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--check"]) == 0
    out = capsys.readouterr().out
    assert f"{len(cases)} cases" in out
    assert "truly-viral" in out and "level 1:" in out


# --- malformed cases -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"level": 5},
        {"level": 0},
        {"level": "1"},
        {"level": True},
        {"level": None},
        {"why": None},
        {"why": "  "},
        {"company": None},
        {"patterns": []},
        {"patterns": ["made-up-pattern"]},
        {"type": "Something Else"},
        {"hours_ago": -3},
        {"hours_ago": "yesterday"},
        {"files": [{"ref": "k", "status": "known"}]},
        {"files": [{"ref": "k", "status": "known", "class": "C9"}]},
        {"files": [{"ref": "n", "status": "new", "class": "A1"}]},
        {"files": [{"ref": "n", "status": "maybe"}]},
        {"files": [{"ref": "n", "status": "new", "annotations": ["unheardOf"]}]},
        {"victim": {"age": 30}},
        {"reported": [{"nickname": "x"}]},
        {"reported": [{"esp_id": "1"}, {"esp_id": "2"}]},
        {"batched": True, "escalation": "urgent"},
        {"batched": True, "files": [{"ref": "m", "status": "new"}]},
        {"tags": ["notATag"]},
    ],
)
def test_a_malformed_case_is_refused_naming_it(changes: dict[str, Any]) -> None:
    with pytest.raises(CaseError, match="t-1"):
        parse_case(raw_case(**changes))


def test_a_case_without_an_id_or_not_an_object_is_refused() -> None:
    with pytest.raises(CaseError, match="no id"):
        parse_case(raw_case(id=None))
    with pytest.raises(CaseError, match="not an object"):
        parse_case(["not", "a", "case"])


def test_a_duplicate_id_is_refused() -> None:
    with pytest.raises(CaseError, match="used twice"):
        parse_cases([raw_case(), raw_case(files=[])])


def test_one_file_cannot_be_new_in_one_case_and_known_in_another() -> None:
    other = raw_case(id="t-2", files=[{"ref": "t-file-1", "status": "known", "class": "A1"}])
    with pytest.raises(CaseError, match="t-file-1"):
        parse_cases([raw_case(), other])


def test_a_broken_case_file_is_refused_by_the_check(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text('{"cases": [')
    with pytest.raises(CaseError):
        load_cases(path)
    path.write_text(json.dumps({"cases": [raw_case(level=9)]}))
    assert main(["--check", "--file", str(path)]) == 1


# --- the loader ----------------------------------------------------------------------------


def test_the_loader_writes_one_finished_report_per_case(loaded: Loaded, cases: list[Case]) -> None:
    assert_one_finished_report_per_case(loaded, cases)


def test_known_files_are_known_with_their_class_and_repeats_are_seen(
    loaded: Loaded, cases: list[Case]
) -> None:
    database, levels = loaded
    first_report: dict[str, int] = {}
    with database.session() as session:
        reports = reports_of(session, levels)
        for report, case in zip(reports, cases, strict=True):
            for record, file in zip(
                sorted(report.files, key=lambda f: f.id), case.files, strict=True
            ):
                if file.status == "known":
                    assert (record.verdict, record.classification) == (
                        FileVerdict.KNOWN,
                        file.classification,
                    )
                elif first_report.setdefault(file.ref, report.id) == report.id:
                    assert record.verdict is FileVerdict.NEW, file.ref
                else:
                    assert record.verdict is FileVerdict.SEEN, file.ref


def test_each_meme_is_bundled_into_one_incident_across_companies(
    loaded: Loaded, cases: list[Case]
) -> None:
    database, levels = loaded
    by_ref: dict[str, list[int]] = {}
    for report_id, case in zip(levels, cases, strict=True):
        if "truly-viral" in case.patterns:
            for file in case.files:
                by_ref.setdefault(file.ref, []).append(report_id)
    with database.session() as session:
        for ref, report_ids in by_ref.items():
            incidents = set(
                session.scalars(
                    select(IntakeReport.incident_id).where(IntakeReport.id.in_(report_ids))
                )
            )
            assert len(incidents) == 1 and None not in incidents, ref


def test_viral_reports_are_linked_by_files_only(loaded: Loaded, cases: list[Case]) -> None:
    database, levels = loaded
    viral = [rid for rid, case in zip(levels, cases, strict=True) if "truly-viral" in case.patterns]
    with database.session() as session:
        kinds = {
            shared.kind
            for report_id in viral
            for linked in linked_reports(session, report_id)
            for shared in linked.shared
        }
    assert kinds == {"file"}


def test_a_shared_account_links_reports_and_an_unrelated_one_does_not(
    database: Database, tmp_path: Path
) -> None:
    shared_mail = "same.person@mail.example"
    raw = [
        raw_case(id="a", reported=[{"esp_id": "1", "email": shared_mail}]),
        raw_case(
            id="b",
            company="Tidepool Cloud",
            patterns=["reposted-by-linked-account"],
            reported=[{"esp_id": "2", "email": shared_mail}],
            files=[{"ref": "t-file-2", "status": "new"}],
        ),
        raw_case(
            id="c",
            reported=[{"esp_id": "3", "ip": "192.0.2.9"}],
            files=[{"ref": "t-file-3", "status": "known", "class": "B1"}],
        ),
    ]
    levels = load(database, tmp_path / "work", parse_cases(copy.deepcopy(raw)))
    first, second, unrelated = levels
    with database.session() as session:
        assert [linked.report_id for linked in linked_reports(session, first)] == [second]
        assert linked_reports(session, unrelated) == []
    assert list(levels.values()) == [2, 2, 2]
