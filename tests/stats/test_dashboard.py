"""The statistics dashboard over HTTP: who may see it, what it shows (the same numbers as the
queries, the caveat, charts that are real PNGs), and hostile parameters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.service import add_user, running, service_settings, sign_in
from tests.stats.dataset import HOSTILE_TYPE, SECRET_EMAIL, SECRET_IP, at, insert
from tests.stats.rendering import assert_not_blank, image
from vigil.core.settings import Settings
from vigil.stats.charts import SERIES
from vigil.stats.period import Period
from vigil.stats.queries import statistics
from vigil.stats.sections import CAVEAT_TITLE
from vigil.store import Database
from vigil.store.models import Role

pytestmark = pytest.mark.usefixtures("cheap_argon2")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A clearinghouse: the figures shown are its intake's (test_stats_page.py: a platform)."""
    return service_settings(database_url, tmp_path / "data", clearinghouse={"enabled": True})


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with database.transaction(write=True) as session:
        insert(session)
    for name, role in (
        ("auditor", Role.AUDITOR),
        ("agent", Role.AGENCY),
        ("curator", Role.LIST_CURATOR),
    ):
        add_user(database, name, [role])
    yield from running(settings)


def test_auditor_sees_the_dashboard(client: TestClient, database: Database) -> None:
    sign_in(client, "auditor")
    answer = client.get("/stats", params={"year": 2026})
    assert answer.status_code == 200
    html = answer.text
    with database.transaction() as session:
        stats = statistics(session, Period.year(2026), now=at(2026, 6, 1))
    assert CAVEAT_TITLE in html
    assert f"{stats.verdicts.known_or_seen_share * 100:.1f}%" in html
    for row in stats.companies:
        assert f'<th scope="row">{row.company}</th>' in html
    for name in SERIES:
        assert f'src="/stats/charts/{name}.png?year=2026"' in html
    for secret in (SECRET_EMAIL, SECRET_IP, HOSTILE_TYPE, "secret question"):
        assert secret not in html


def test_charts_are_served_privately(client: TestClient) -> None:
    sign_in(client, "auditor")
    for name in SERIES:
        answer = client.get(f"/stats/charts/{name}.png", params={"year": 2026})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/png"
        assert answer.headers["cache-control"].startswith("private")
        assert_not_blank(image(answer.content))


def test_other_roles_are_refused(client: TestClient) -> None:
    for user in ("agent", "curator"):
        sign_in(client, user)
        for path in ("/stats", "/stats/charts/months.png", "/stats/report.html"):
            assert client.get(path).status_code == 403, (user, path)


def test_anonymous_is_sent_to_sign_in(client: TestClient) -> None:
    answer = client.get("/stats", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert client.get("/stats/charts/months.png", follow_redirects=False).status_code == 303


HOSTILE = [
    "/stats?year=-1",
    "/stats?year=99999",
    "/stats?year=abc",
    "/stats?year=2026%00",
    "/stats/charts/secret.png",
    "/stats/charts/..%2F..%2Fetc%2Fpasswd.png",
    "/stats/charts/months.png?year=1e9",
    "/stats/report.exe",
]


def test_hostile_parameters_are_refused(client: TestClient) -> None:
    sign_in(client, "auditor")
    for path in HOSTILE:
        assert client.get(path).status_code in (404, 422), path


def test_empty_year_and_report_download(client: TestClient) -> None:
    sign_in(client, "auditor")
    answer = client.get("/stats", params={"year": 2031})
    assert answer.status_code == 200 and "No reports were received" in answer.text
    report = client.get("/stats/report.html", params={"year": 2031})
    assert report.status_code == 200 and CAVEAT_TITLE in report.text
    assert "attachment" in report.headers["content-disposition"]


def test_a_clearinghouse_without_review_work_shows_no_platform_part(client: TestClient) -> None:
    sign_in(client, "auditor")
    html = client.get("/stats", params={"year": 2026}).text
    assert 'id="clearinghouse"' in html and 'id="platform"' not in html
    report = client.get("/stats/report.html", params={"year": 2026}).text
    assert "<h1>Clearinghouse statistics 2026</h1>" in report
