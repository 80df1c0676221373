"""Issue 18: a case escalated as it is created (the platform flagged content as urgent)
shows on its page what escalated it, not a system sentence; a reviewer who escalates it
replaces that with their own reason. Over HTTP on the demo data (benign pictures only),
whose account acct-3001 arrives as an escalation flag."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import add_user, console_sign_in, running, service_settings
from vigil.cli.demo_data import seed_demo
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import Case, Role

ESCALATED_ACCOUNT = "acct-3001"
DEMO_NOTE = "demo: flagged by a user"  # vigil.cli.demo_data


@pytest.fixture
def console(
    database_url: str, tmp_path: Path, corpus_images: list[Path], database: Database
) -> Iterator[TestClient]:
    settings: Settings = service_settings(database_url, tmp_path / "data")
    seed_demo(settings, corpus_images[0].parent)
    add_user(database, "rev", [Role.REVIEWER])
    yield from running(settings)


def _case(database: Database) -> Case:
    with database.transaction() as session:
        query = select(Case).where(Case.platform_account_id == ESCALATED_ACCOUNT)
        return session.scalars(query).one()


def _shown_reason(client: TestClient, case: Case) -> str:
    page = client.get(f"/review/cases/{case.public_id}")
    assert page.status_code == 200, page.text
    start = page.text.index('<p class="escalated"')
    return html.unescape(page.text[start : page.text.index("</p>", start)])


def test_the_case_page_says_what_escalated_it_at_intake(
    console: TestClient, database: Database
) -> None:
    case = _case(database)
    assert case.escalated and case.escalation_reason
    console_sign_in(console, "rev")
    shown = _shown_reason(console, case)
    assert "none given" not in shown
    assert "Flagged as urgent by the platform when received (content ID demo-post-6)" in shown
    assert f'with the note: "{DEMO_NOTE}"' in shown


def test_a_reviewers_reason_replaces_it(console: TestClient, database: Database) -> None:
    case = _case(database)
    csrf = console_sign_in(console, "rev")
    words = "The account says it is meeting the child."
    answer = console.post(
        f"/review/cases/{case.public_id}/decide",
        headers=csrf,
        data={"kind": "escalate", "reason": words, "confirmed": "true"},
    )
    assert answer.status_code == 200, answer.text
    shown = _shown_reason(console, case)
    assert words in shown and DEMO_NOTE not in shown
    assert _case(database).escalation_reason == words
