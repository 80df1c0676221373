"""`vigil stats` and `vigil stats report` through the CLI on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.stats import platform_dataset
from tests.stats.dataset import SECRET_EMAIL, insert
from tests.stats.rendering import assert_not_blank, flat, pdf_pages
from vigil.cli.app import app
from vigil.cli.database_access import EXIT_FATAL, EXIT_OK
from vigil.stats.period import Period
from vigil.stats.queries import statistics
from vigil.stats.sections import CAVEAT_TITLE, PLATFORM_NOTE
from vigil.store import Database


def _run(tmp_path: Path, database_url: str, *args: str, clearinghouse: bool = True) -> Result:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "VIGIL_CLEARINGHOUSE__ENABLED": "true" if clearinghouse else "false",
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(app, ["stats", *args], env=env, catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


@pytest.fixture
def loaded(database: Database) -> Database:
    with database.transaction(write=True) as session:
        insert(session)
    return database


def test_summary_prints_the_tables(tmp_path: Path, database_url: str, loaded: Database) -> None:
    result = _run(tmp_path, database_url, "--year", "2026")
    assert result.exit_code == EXIT_OK, result.output
    with loaded.transaction() as session:
        stats = statistics(session, Period.year(2026))
    assert CAVEAT_TITLE in result.stdout
    assert "Reports and files by month" in result.stdout
    for row in stats.companies:
        assert row.company in result.stdout
    total = next(line for line in result.stdout.splitlines() if "Total" in line)
    assert str(stats.reports) in total and str(stats.files) in total
    assert SECRET_EMAIL not in result.stdout


def test_summary_for_days_across_a_year(
    tmp_path: Path, database_url: str, loaded: Database
) -> None:
    result = _run(tmp_path, database_url, "--from", "2025-12-01", "--to", "2026-01-31")
    assert result.exit_code == EXIT_OK, result.output
    assert "2025-12-01 to 2026-01-31" in result.stdout
    assert "2025-12" in result.stdout and "2026-01" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--year", "2026", "--from", "2026-01-01"),
        ("--to", "2026-01-01"),
        ("--from", "2026-02-01", "--to", "2026-01-01"),
        ("--year", "1800"),
        ("--from", "1900-01-01", "--to", "2026-01-01"),
    ],
)
def test_bad_periods_exit_2(tmp_path: Path, database_url: str, args: tuple[str, ...]) -> None:
    result = _run(tmp_path, database_url, *args)
    assert result.exit_code == EXIT_FATAL
    assert result.stderr.startswith("error:")


def test_malformed_date_is_a_usage_error(tmp_path: Path, database_url: str) -> None:
    assert _run(tmp_path, database_url, "--from", "01/02/2026").exit_code == 2


def test_report_writes_pdf_and_html(tmp_path: Path, database_url: str, loaded: Database) -> None:
    pdf, html = tmp_path / "annual.pdf", tmp_path / "annual.html"
    result = _run(tmp_path, database_url, "report", "--year", "2026", "--output", str(pdf))
    assert result.exit_code == EXIT_OK, result.output
    pages = pdf_pages(pdf.read_bytes())
    assert CAVEAT_TITLE in flat(pages[0][1])
    assert_not_blank(pages[0][0])
    result = _run(tmp_path, database_url, "report", "--year", "2026", "-o", str(html))
    assert result.exit_code == EXIT_OK and "HTML" in result.stdout
    assert html.read_text().startswith("<!doctype html>")


def test_report_of_an_empty_year(tmp_path: Path, database_url: str) -> None:
    target = tmp_path / "empty.html"
    result = _run(
        tmp_path,
        database_url,
        "report",
        "--year",
        "2031",
        "--format",
        "html",
        "--output",
        str(target),
    )
    assert result.exit_code == EXIT_OK, result.output
    assert "No reports were received in this period." in target.read_text()


def test_unwritable_output_exits_2(tmp_path: Path, database_url: str) -> None:
    result = _run(
        tmp_path,
        database_url,
        "report",
        "--year",
        "2031",
        "--format",
        "html",
        "--output",
        str(tmp_path / "missing" / "dir" / "r.html"),
    )
    assert result.exit_code == EXIT_FATAL and "error:" in result.stderr


def test_no_arguments_means_this_year(tmp_path: Path, database_url: str) -> None:
    result = _run(tmp_path, database_url)
    assert result.exit_code == EXIT_OK, result.output
    assert f"Statistics {datetime.now(UTC).year}" in result.stdout
    assert "No reports were received in this period." in result.stdout


def test_a_platform_install_reports_its_own_work(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    with database.transaction(write=True) as session:
        platform_dataset.insert(session)
    target = tmp_path / "platform.pdf"
    result = _run(
        tmp_path,
        database_url,
        "report",
        "--year",
        str(platform_dataset.YEAR),
        "-o",
        str(target),
        clearinghouse=False,
    )
    assert result.exit_code == EXIT_OK, result.output
    first = flat(pdf_pages(target.read_bytes())[0][1])
    assert first.startswith(f"Platform statistics {platform_dataset.YEAR}")
    assert CAVEAT_TITLE not in first


PLATFORM_TITLE = "This platform: detection, review and reporting"
CLEARINGHOUSE_TITLE = "Clearinghouse: reports received, triage and referrals"


def _headline_value(output: str, label: str) -> str:
    line = next(line for line in output.splitlines() if line.strip().startswith(label))
    return line.strip().removeprefix(label).strip()


@pytest.fixture
def platform_work(database: Database) -> Database:
    with database.transaction(write=True) as session:
        platform_dataset.insert(session)
    return database


def test_summary_on_a_platform_install_prints_its_own_work(
    tmp_path: Path, database_url: str, platform_work: Database
) -> None:
    """Plain `vigil stats` on a platform install: the platform's figures, as on /stats,
    and none of the clearinghouse's."""
    year = platform_dataset.YEAR
    result = _run(tmp_path, database_url, "--year", str(year), clearinghouse=False)
    assert result.exit_code == EXIT_OK, result.output
    out = result.stdout
    assert PLATFORM_TITLE in out and PLATFORM_NOTE in " ".join(out.split())
    assert CLEARINGHOUSE_TITLE not in out and CAVEAT_TITLE not in out
    opened = sum(1 for case in platform_dataset.CASES if case.opened_at.year == year)
    received = sum(1 for ask in platform_dataset.REQUESTS if ask.received_at.year == year)
    assert _headline_value(out, "Cases opened") == str(opened)
    assert _headline_value(out, "Law-enforcement requests") == str(received)
    for title in ("Cases, decisions and reveals", "Law-enforcement requests and time to answer"):
        assert title in out
    assert "No reports were received" not in out


def test_summary_of_a_clearinghouse_that_also_reviews_prints_both(
    tmp_path: Path, database_url: str, platform_work: Database
) -> None:
    result = _run(tmp_path, database_url, "--year", str(platform_dataset.YEAR))
    assert result.exit_code == EXIT_OK, result.output
    out = result.stdout
    assert out.index(PLATFORM_TITLE) < out.index(CLEARINGHOUSE_TITLE) < out.index(CAVEAT_TITLE)


def test_summary_of_a_clearinghouse_alone_prints_no_platform_part(
    tmp_path: Path, database_url: str, loaded: Database
) -> None:
    result = _run(tmp_path, database_url, "--year", "2026")
    assert result.exit_code == EXIT_OK, result.output
    assert CLEARINGHOUSE_TITLE in result.stdout and PLATFORM_TITLE not in result.stdout
