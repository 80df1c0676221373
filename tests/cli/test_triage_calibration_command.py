"""`vigil triage labels export` and `vigil triage refit` on both backends: the export writes
the decided reports and says what it left out; refit shows the current and proposed
thresholds with the reliability table before and after, changes nothing without --apply,
and with it writes a new weights file differing only in version and thresholds, applied
through the audited weights path. Broken, foreign or thin labels are refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.triage import triage_rows as rows
from vigil.cli.app import app
from vigil.cli.database_access import EXIT_FATAL, default_actor
from vigil.store import Database
from vigil.store.models import AuditRecord, FileVerdict, ReportTriage, TriageWeightSet
from vigil.store.models.audit import AuditAction
from vigil.triage.labels_file import LabelledReport, Labels, labels_lines, read_labels
from vigil.triage.refitted import refitted_weights
from vigil.triage.service import override_priority, score_pending
from vigil.triage.weights import load_weights, parse_weights

# The packaged weights with thresholds of the tests' own, whatever the package ships.
BASE = refitted_weights(load_weights(), 65.0, 40.0, "base-1")


def _run(tmp_path: Path, database_url: str, *args: str | Path) -> Result:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "COLUMNS": "200",
    }
    base = tmp_path / "base.toml"
    base.write_bytes(BASE.content)
    command = ["triage", *map(str, args), "--weights", str(base)]
    result = CliRunner().invoke(app, command, env=env, catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


def _labels(tmp_path: Path, *, sha256: str = BASE.sha256, level_two_at: float = 70.0) -> Path:
    """Ten reports of each level 1 (scores 100-109), 2 and 3: the base level_1 (65) puts
    level 2 at level 1 too; halfway between level 2 and level 1 separates them."""
    groups = ((1, 100.0), (2, level_two_at), (3, 10.0))
    reports = tuple(
        LabelledReport(100 * truth + index, base + index, 1, 1, truth, "override")
        for truth, base in groups
        for index in range(10)
    )
    path = tmp_path / "labels.jsonl"
    path.write_bytes(labels_lines(Labels(BASE.version, sha256, reports, {})))
    return path


def _open_report(database: Database) -> int:
    with database.transaction(write=True) as session:
        report = rows.report(session, rows.company(session), files=[(FileVerdict.NEW, "A1", [])])
        score_pending(session, BASE)
        return report.id


def test_refit_shows_the_change_and_applies_nothing_by_default(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    result = _run(tmp_path, database_url, "refit", "--labels", _labels(tmp_path))
    assert result.exit_code == 0, result.stderr
    lines = result.output.splitlines()
    thresholds = {line.split()[0]: line.split()[1:] for line in lines if line[:1] in "cp"}
    assert thresholds["current"] == ["65", "40"]
    assert thresholds["proposed"] == ["89.5", "40"]
    before = lines.index("before (current thresholds):")
    after = lines.index("after (proposed thresholds):")
    # of the 20 reports placed at level 1 before, 10 are level 1; after, all 10 of 10
    assert lines[before + 2].split()[:5] == ["level", "1", "20", "10", "50.0%"]
    assert lines[after + 2].split()[:5] == ["level", "1", "10", "10", "100.0%"]
    assert "nothing applied" in result.output
    assert "kept by the rules below their true level (no threshold helps): 0" in result.output
    with database.transaction() as session:
        assert session.scalars(select(TriageWeightSet)).all() == []


def test_refit_apply_writes_a_new_version_and_applies_it_audited(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    report_id = _open_report(database)
    out = tmp_path / "weights-refit.toml"
    result = _run(
        tmp_path, database_url, "refit", "--labels", _labels(tmp_path),
        "--apply", "--version", "refit-1", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "applied weights refit-1: 1 reports re-scored" in result.output
    written = parse_weights(out.read_bytes())
    assert (written.version, written.level_1, written.level_2) == ("refit-1", 89.5, 40.0)
    assert written.weights == BASE.weights and written.level_1_needs == BASE.level_1_needs
    changed = [
        new.split("=")[0].strip()
        for old, new in zip(
            BASE.content.decode().splitlines(), out.read_text().splitlines(), strict=True
        )
        if old != new
    ]
    assert changed == ["version", "level_1"]  # level_2 stays at 40; every comment is kept
    line = next(line for line in out.read_text().splitlines() if line.startswith("level_1"))
    base = next(line for line in BASE.content.decode().splitlines() if line.startswith("level_1"))
    assert line.index("#") == base.index("#") and line.startswith("level_1 = 89.5 ")
    with database.transaction() as session:
        assert session.get(TriageWeightSet, "refit-1").sha256 == written.sha256
        assert session.get(ReportTriage, report_id).weights_version == "refit-1"
        [audit] = session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.TRIAGE_WEIGHTS)
        )
        assert audit.actor == default_actor() and audit.subject_id == "refit-1"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (("--apply",), "--version"),
        (("--apply", "--version", BASE.version, "--out", "{tmp}/new.toml"), "new version"),
        (("--apply", "--version", "bad version!", "--out", "{tmp}/new.toml"), "version"),
    ],
)
def test_refit_apply_needs_a_new_version_and_a_file(
    tmp_path: Path, database_url: str, database: Database, extra: tuple[str, ...], named: str
) -> None:
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in extra]
    result = _run(tmp_path, database_url, "refit", "--labels", _labels(tmp_path), *args)
    assert result.exit_code == EXIT_FATAL and named in result.stderr
    assert not (tmp_path / "new.toml").exists()
    with database.transaction() as session:
        assert session.scalars(select(TriageWeightSet)).all() == []


def test_refit_never_writes_over_a_file(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    out = tmp_path / "weights.toml"
    out.write_bytes(b"mine")
    result = _run(
        tmp_path, database_url, "refit", "--labels", _labels(tmp_path),
        "--apply", "--version", "refit-1", "--out", out,
    )  # fmt: skip
    assert result.exit_code == EXIT_FATAL and "exists" in result.stderr
    assert out.read_bytes() == b"mine"


def test_a_version_applied_before_leaves_no_file_behind(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    labels = _labels(tmp_path)
    applied = _run(
        tmp_path, database_url, "refit", "--labels", labels,
        "--apply", "--version", "refit-1", "--out", first,
    )  # fmt: skip
    assert applied.exit_code == 0, applied.stderr
    # the same version again with other thresholds (fitted on other labels) is refused
    other = _labels(tmp_path, level_two_at=60.0)
    again = _run(
        tmp_path, database_url, "refit", "--labels", other,
        "--apply", "--version", "refit-1", "--out", second,
    )  # fmt: skip
    assert again.exit_code == EXIT_FATAL and "new version" in again.stderr
    assert not second.exists()


def test_refit_refuses_what_it_cannot_meet(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    # level 2 scored above level 1: no level_1 places mostly level-1 reports
    mixed = _labels(tmp_path, level_two_at=200.0)
    shown = _run(tmp_path, database_url, "refit", "--labels", mixed)
    assert shown.exit_code == 0 and "NOT met" in shown.output
    refused = _run(
        tmp_path, database_url, "refit", "--labels", mixed,
        "--apply", "--version", "refit-1", "--out", tmp_path / "new.toml",
    )  # fmt: skip
    assert refused.exit_code == EXIT_FATAL and "objective" in refused.stderr


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        (lambda text: text.replace('"version": 1', '"version": 9', 1), "version"),
        (lambda text: text + "this is not JSON\n", "not a JSON object"),
        (lambda text: text.replace('"true_level": 3', '"true_level": 5', 1), "true_level"),
        (lambda text: "\n".join(text.splitlines()[:25]) + "\n", "cut short"),
        (lambda text: text.replace('"true_level": 1', '"true_level": 2'), "level 1: 0"),
    ],
)
def test_broken_labels_are_refused_in_one_line(
    tmp_path: Path, database_url: str, broken, named: str
) -> None:
    path = _labels(tmp_path)
    path.write_text(broken(path.read_text()))
    result = _run(tmp_path, database_url, "refit", "--labels", path)
    assert result.exit_code == EXIT_FATAL and named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_labels_scored_with_other_weights_are_refused(tmp_path: Path, database_url: str) -> None:
    result = _run(tmp_path, database_url, "refit", "--labels", _labels(tmp_path, sha256="0" * 64))
    assert result.exit_code == EXIT_FATAL and "export them again" in result.stderr


def test_export_writes_decided_reports_and_counts_the_rest(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    report_id = _open_report(database)
    with database.transaction(write=True) as session:
        override_priority(session, report_id, 2, "seen before, not new", "analyst")
    out = tmp_path / "labels.jsonl"
    result = _run(tmp_path, database_url, "labels", "export", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "wrote 1 labelled reports" in result.output
    assert "true levels: 1: 0, 2: 1, 3: 0, 4: 0" in result.output
    labels = read_labels(out)
    assert [(r.report_id, r.true_level, r.source) for r in labels.reports] == [
        (report_id, 2, "override")
    ]
    assert json.loads(out.read_text().splitlines()[0])["weights_sha256"] == BASE.sha256
    thin = _run(tmp_path, database_url, "refit", "--labels", out)
    assert thin.exit_code == EXIT_FATAL and "too few labelled reports" in thin.stderr
