"""WCAG 2.1 AA on every console screen: axe-core (npm, package-lock.json) runs in Chromium on
each main screen of each role, on one seeded installation (platform cases and a
clearinghouse's intake, triage, routing and an agency's referrals).

Every screen listed must stay clean (test_a_screen_meets_wcag_21_aa); the administrators'
screens are among them. docs/accessibility.md has the findings before and after."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import func, select

from tests.agency.agency_rows import add_agency, add_member, add_referral, add_report, add_triage
from tests.api.scan_job_rows import make_jobs
from tests.api.service import PASSWORD, add_user, live_service, service_settings
from tests.clearinghouse.intake_rows import company_row
from tests.conftest import REPO
from tests.db import in_ci
from tests.store.samples import add_entry, add_list
from tests.web.conftest import PAGE_TIMEOUT_MS
from vigil.cli.demo_data import seed_demo
from vigil.core.settings import FloodGuardSettings, Settings
from vigil.store import Database, open_database
from vigil.store.evidence.keys import load_master_key
from vigil.store.exchanges.catalogue import create_exchange
from vigil.store.exchanges.fetch_state import begin_fetch, fail_fetch, store_page
from vigil.store.lists.flood_guard import enforce_flood_guard
from vigil.store.lists.match_counts import record_matches
from vigil.store.models import Case, CaseItem, ReferralState, Role

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices: landmarks, headings and table headers that
# people using screen readers rely on, which WCAG's own rules in axe leave out.
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

REVIEWER, ADMIN, SUBMITTER, CURATOR, INVESTIGATOR = (
    "reviewer-rae",
    "admin-ada",
    "submitter-sam",
    "curator-cy",
    "investigator-ivo",
)


def _refused_sign_in(page: Page) -> None:
    page.get_by_label("Username").fill(REVIEWER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()


def _notices(page: Page) -> None:
    """What notices.js shows after an action, both kinds (their colours are checked)."""
    page.evaluate("announce('Routed to ICAC-A.', 'ok')")
    page.evaluate("announce('Not done: a reason is required.', 'refused')")
    page.locator("#alerts .notice").wait_for()


def _skip_link(page: Page) -> None:
    """The first Tab shows the link to the main content over the top bar: its colours too."""
    page.keyboard.press("Tab")
    page.locator(".skip:focus").wait_for()


def _selection(page: Page) -> None:
    """A label for a selection: every pending item ticked, the bulk control enabled."""
    page.keyboard.press("Shift+A")
    page.get_by_role("button", name="Label selected").and_(page.locator(":enabled")).wait_for()


@dataclass(frozen=True)
class Screen:
    name: str
    who: str | None  # None: nobody signed in
    path: str  # {case}, {report}, {referral} filled from the seeded installation
    then: Callable[[Page], None] | None = None  # brings the screen into the state checked
    status: int = 200  # the screen checked is the one meant, not an error page


SCREENS = [
    Screen("sign-in", None, "/login"),
    Screen("sign-in refused", None, "/login", _refused_sign_in),
    Screen("start page", ADMIN, "/home"),
    Screen("review queue", REVIEWER, "/review"),
    Screen("skip link shown", REVIEWER, "/review", _skip_link),
    Screen("case with items", REVIEWER, "/review/cases/{case}"),
    Screen("case with a selection", REVIEWER, "/review/cases/{case}", _selection),
    Screen("entries to disable", REVIEWER, "/review/requests"),
    Screen("reports", SUBMITTER, "/reports"),
    Screen("law enforcement", SUBMITTER, "/legal"),
    Screen("law enforcement lookup", SUBMITTER, "/legal/lookup"),
    Screen("intake list", REVIEWER, "/clearinghouse"),
    Screen("intake report", REVIEWER, "/clearinghouse/reports/{report}"),
    Screen("triage queue", REVIEWER, "/clearinghouse/triage"),
    Screen("triage report", REVIEWER, "/clearinghouse/reports/{report}/triage"),
    Screen("routing queue", REVIEWER, "/clearinghouse/routing"),
    Screen("notices shown", REVIEWER, "/clearinghouse/routing", _notices),
    Screen("agency queue", INVESTIGATOR, "/agency"),
    Screen("agency referral", INVESTIGATOR, "/agency/referrals/{referral}"),
    Screen("statistics", ADMIN, "/stats"),
    Screen("exposure", ADMIN, "/review/exposure"),
    Screen("exchanges", ADMIN, "/admin/exchanges"),
    Screen("scan jobs", ADMIN, "/admin/scan-jobs"),
    Screen("suspect entries", CURATOR, "/lists/suspects"),
    Screen("change password", REVIEWER, "/account/password"),
    Screen("users", ADMIN, "/admin/users"),
    Screen("API keys", ADMIN, "/admin/keys"),
    Screen("audit log", ADMIN, "/audit"),
    Screen("hash lists", CURATOR, "/admin/lists"),
    Screen("reporting settings", ADMIN, "/admin/reporting"),
    Screen("refusal", REVIEWER, "/admin/exchanges", status=403),  # a reviewer may not
]


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        if in_ci():
            pytest.fail(f"{AXE} is missing: ./test.sh installs it (npm ci)")
        pytest.skip("axe-core is not installed (./test.sh runs npm ci)")
    return AXE.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Installation:
    base_url: str
    ids: dict[str, str]  # case, report, referral
    sessions: dict[str, Any]  # username -> Playwright storage state, signed in once


@pytest.fixture(scope="module")
def installation(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, corpus_images: list[Path]
) -> Iterator[Installation]:
    """One installation for every screen (axe only reads pages): seeding it per screen would
    cost a minute for nothing. SQLite only: what axe checks does not depend on the database."""
    root = tmp_path_factory.mktemp("accessibility")
    shutil.copyfile(sqlite_template, root / "vigil.db")
    settings = service_settings(
        f"sqlite:///{root / 'vigil.db'}", root / "data", clearinghouse={"enabled": True}
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(root / "config"))
        patch.setenv("XDG_DATA_HOME", str(root / "share"))
        seed_demo(settings, corpus_images[0].parent)
        ids = _seed(settings)
        with live_service(settings) as base_url:
            yield Installation(base_url, ids, {})


def _seed(settings: Settings) -> dict[str, str]:
    """People of each role; a clearinghouse report referred to an agency and one waiting for
    routing; a scan job of each status, a flood-guard suspect and a failing exchange, so each
    screen shows rows rather than its empty state."""
    with open_database(settings) as database:
        make_jobs(database)
        _suspect_and_exchange(database, settings)
        for username, role in (
            (REVIEWER, Role.REVIEWER),
            (ADMIN, Role.ADMIN),
            (SUBMITTER, Role.REPORT_SUBMITTER),
            (CURATOR, Role.LIST_CURATOR),
        ):
            add_user(database, username, [role])
        with database.transaction(write=True) as session:
            case = session.scalars(
                select(Case.public_id)
                .join(CaseItem, CaseItem.case_id == Case.id)
                .group_by(Case.id)
                .order_by(func.count(CaseItem.id).desc(), Case.id)
                .limit(1)
            ).one()
            agency = add_agency(session, "ICAC-A")
            add_member(session, INVESTIGATOR, agency)
            company = company_row(session, "Example Platform")
            report = add_report(session, company, files=2)
            add_triage(session, report, 1, 90.0)
            referral = add_referral(session, report, agency)
            waiting = add_report(session, company)
            add_triage(session, waiting, 2, 50.0)
            add_referral(session, waiting, None, state=ReferralState.UNROUTED)
            return {"case": case, "report": str(report.id), "referral": str(referral.id)}


def _suspect_and_exchange(database: Database, settings: Settings) -> None:
    now = datetime.now(UTC)
    with database.transaction(write=True) as session:
        bank = add_list(session, "bank")
        record_matches(session, add_entry(session, bank, 1).id, now, 51)
        enforce_flood_guard(session, FloodGuardSettings(min_history_hours=0), now=now)
        exchange = create_exchange(
            session,
            "ncmec",
            kind="ncmec",
            base_url="https://report.cybertip.org/hashsharing/",
            environment="exploitative",
            credentials={"username": "platform-user", "password": "an-exchange-password-1"},
            list_names=["bank"],
            master_key=load_master_key(settings),
            actor="admin",
        )
        begin_fetch(session, exchange.id, now=now - timedelta(minutes=5))
        store_page(session, exchange.id, "paging-token", fetched=12, deleted=3, errors=1)
        fail_fetch(session, exchange.id, kind="unavailable", message="503 after 3 tries")


def _open(browser: Browser, installation: Installation, screen: Screen) -> Page:
    state = installation.sessions.get(screen.who) if screen.who else None
    context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=state)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    base = installation.base_url
    if screen.who and state is None:
        # Signed in once per person: the sign-in limit counts attempts per address.
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill(screen.who)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        installation.sessions[screen.who] = context.storage_state()
    answer = page.goto(base + screen.path.format(**installation.ids))
    assert answer is not None and answer.status == screen.status, f"{screen.name}: {answer}"
    page.wait_for_load_state("networkidle")
    if screen.then is not None:
        screen.then(page)
    return page


def violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's rules (RULES) on the page as it is shown. The console's CSP allows
    no inline script, which is what add_script_tag writes: page.evaluate runs the file through
    the DevTools protocol instead, which the page's CSP does not govern."""
    page.evaluate(axe_source)
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, count: v.nodes.length,
                targets: v.nodes.slice(0, 5).map(
                    n => n.target.join(' ') + (n.any[0] ? ': ' + n.any[0].message : '')),
            }));
        }""",
        RULES,
    )
    return found


def _described(screen: Screen, found: list[dict[str, Any]]) -> str:
    lines = [f"{screen.name} ({screen.path}):"]
    lines += [f"  {v['id']} [{v['impact']}] x{v['count']}: {v['targets']}" for v in found]
    return "\n".join(lines)


@pytest.mark.parametrize("screen", SCREENS, ids=[screen.name for screen in SCREENS])
def test_a_screen_meets_wcag_21_aa(
    browser: Browser, installation: Installation, axe_source: str, screen: Screen
) -> None:
    page = _open(browser, installation, screen)
    try:
        found = violations(page, axe_source)
    finally:
        page.context.close()
    assert not found, _described(screen, found)


def test_axe_finds_what_it_should(
    browser: Browser, installation: Installation, axe_source: str
) -> None:
    """The check itself works under the console's CSP: an unlabeled field and text of 1.3:1
    contrast put on a console page are found."""
    page = _open(browser, installation, Screen("probe", None, "/login"))
    try:
        page.evaluate(
            """() => {
                const field = document.createElement('input');
                const faint = document.createElement('p');
                faint.textContent = 'faint';
                faint.style.color = '#ddd';  // the CSSOM, not a style attribute the CSP refuses
                faint.style.background = '#fff';
                document.querySelector('main').append(field, faint);
            }"""
        )
        found = {v["id"] for v in violations(page, axe_source)}
    finally:
        page.context.close()
    assert {"label", "color-contrast"} <= found
