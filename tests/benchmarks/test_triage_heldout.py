"""The held-out triage set (benchmarks/triage_cases/heldout.json), written apart from the
earlier independent set once that one had been used to improve the scorer: it parses with
the same schema, covers every misleading pattern of issue 20 several times with the levels
the issue gives them, and the loader writes each case as one finished intake report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.bench_triage import parse_args
from benchmarks.triage_cases.__main__ import main
from benchmarks.triage_cases.case import (
    CASES_FILE,
    LEVELS,
    MISLEADING,
    Case,
    CaseError,
    load_cases,
)
from tests.benchmarks.case_files import (
    Loaded,
    assert_one_finished_report_per_case,
    loaded_cases,
)

HELDOUT = CASES_FILE.with_name("heldout.json")
PREFIX = "ho-"
# The level each misleading pattern must carry in truth (issue 20, "What the misses have in
# common"); negation and the coerced teen depend on the rest of the case.
PATTERN_LEVELS = {
    "reposted-by-linked-account": {2},
    "linked-offenders-sharing": {2, 3},
    "truly-viral": {4},
    "escalation-says-meme": {3, 4},
    "escalation-volume-or-repeat": {2},
    "minor-peer-exchange": {2, 3},
    "coerced-teen-now-safe": {2, 3},
    "ended-months-ago-supplemental": {3, 4},
    "new-material-no-context": {2},
    "new-with-child-now-free-text": {1},
    "negation": {1, 2, 3, 4},
}


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(HELDOUT)


@pytest.fixture(scope="module")
def loaded(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, cases: list[Case]
) -> Iterator[Loaded]:
    with loaded_cases(sqlite_template, tmp_path_factory.mktemp("triage-heldout"), cases) as made:
        yield made


def test_the_heldout_file_parses_with_a_realistic_level_mix(cases: list[Case]) -> None:
    levels = Counter(case.level for case in cases)
    assert 180 <= len(cases) <= 220
    assert set(levels) == set(LEVELS)
    assert 0.10 <= levels[1] / len(cases) <= 0.17
    assert all(case.why.strip() for case in cases)


def test_ids_are_unique_prefixed_and_apart_from_the_earlier_set(cases: list[Case]) -> None:
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids))
    assert all(case_id.startswith(PREFIX) for case_id in ids)
    earlier = {case.id for case in load_cases(CASES_FILE)}
    assert not earlier & set(ids)
    assert not any(case_id.startswith(PREFIX) for case_id in earlier)


def test_every_misleading_pattern_is_written_at_least_four_times(cases: list[Case]) -> None:
    counts = Counter(pattern for case in cases for pattern in case.patterns)
    assert {pattern: counts[pattern] for pattern in MISLEADING if counts[pattern] < 4} == {}


@pytest.mark.parametrize("pattern", sorted(PATTERN_LEVELS))
def test_each_misleading_pattern_carries_the_level_the_issue_gives_it(
    cases: list[Case], pattern: str
) -> None:
    levels = {case.level for case in cases if pattern in case.patterns}
    assert levels and levels <= PATTERN_LEVELS[pattern]


def test_level_one_is_never_given_to_the_patterns_that_must_not_be_urgent(
    cases: list[Case],
) -> None:
    never_urgent = set(MISLEADING) - {"new-with-child-now-free-text", "negation"}
    assert [c.id for c in cases if c.level == 1 and never_urgent & set(c.patterns)] == []


def test_viral_memes_spread_over_unrelated_companies_and_accounts(cases: list[Case]) -> None:
    spread: dict[str, set[str]] = {}
    accounts: list[str] = []
    for case in cases:
        if case.batched:
            spread.setdefault(case.files[0].ref, set()).add(case.company)
            accounts += [account.esp_id or "" for account in case.reported]
    assert len(spread) >= 3
    assert all(len(companies) >= 3 for companies in spread.values())
    assert len(accounts) == len(set(accounts))


def test_each_linked_repost_shares_an_identifier_with_an_earlier_holder(
    cases: list[Case],
) -> None:
    identifiers_by_ref: dict[str, set[str]] = {}
    for case in cases:
        mine = {value for account in case.reported for value in vars_of(account) if value}
        if "reposted-by-linked-account" in case.patterns:
            earlier = set().union(*(identifiers_by_ref.get(f.ref, set()) for f in case.files))
            assert mine & earlier, case.id
        for file in case.files:
            identifiers_by_ref.setdefault(file.ref, set()).update(mine)


def vars_of(account: object) -> list[str | None]:
    return [getattr(account, name) for name in ("esp_id", "email", "ip", "phone")]


def test_the_check_command_reads_the_heldout_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--file", str(HELDOUT)]) == 0
    assert capsys.readouterr().out.startswith(f"{len(load_cases(HELDOUT))} cases")


def test_a_damaged_copy_of_the_heldout_file_is_refused(tmp_path: Path) -> None:
    raw = json.loads(HELDOUT.read_text(encoding="utf-8"))
    raw["cases"][5]["level"] = 0
    broken = tmp_path / "heldout.json"
    broken.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(CaseError, match=raw["cases"][5]["id"]):
        load_cases(broken)
    duplicated = tmp_path / "twice.json"
    raw["cases"][5]["level"] = 2
    duplicated.write_text(json.dumps({"cases": raw["cases"] + raw["cases"][:1]}), "utf-8")
    with pytest.raises(CaseError, match="used twice"):
        load_cases(duplicated)


def test_the_benchmark_measures_the_file_named_by_cases() -> None:
    assert parse_args([]).cases == CASES_FILE
    assert parse_args(["--cases", str(HELDOUT)]).cases == HELDOUT


def test_the_loader_writes_one_finished_report_per_case(loaded: Loaded, cases: list[Case]) -> None:
    assert_one_finished_report_per_case(loaded, cases)
