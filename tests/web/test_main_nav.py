"""The console's main navigation (vigil.web.main_nav, rendered by _nav.html): who sees which
link, and which link marks the current screen (aria-current="page"), decided by comparing the
address with each link rather than by rewriting rendered markup."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from vigil.store.accounts import Principal
from vigil.store.accounts.permissions import ROLE_PERMISSIONS, Permission
from vigil.store.models import Role
from vigil.web.main_nav import LINKS, main_nav
from vigil.web.templating import templates

CLEARINGHOUSE_LINKS = ["/clearinghouse", "/clearinghouse/triage", "/clearinghouse/routing"]


def person(*roles: Role, kind: str = "user") -> Principal:
    permissions = frozenset().union(*(ROLE_PERMISSIONS[role] for role in roles))
    return Principal(kind, 1, "someone", permissions)  # type: ignore[arg-type]


def hrefs(principal: Principal | None, *, clearinghouse: bool = True) -> list[str]:
    return [link.href for link in main_nav(principal, "/", clearinghouse=clearinghouse)]


def current(path: str) -> list[str]:
    everyone = Principal("user", 1, "all", frozenset(Permission))
    return [link.label for link in main_nav(everyone, path, clearinghouse=True) if link.current]


def test_each_role_sees_its_screens() -> None:
    reviewer = ["/home", "/review", "/review/requests", "/clearinghouse"]
    assert hrefs(person(Role.REVIEWER))[:4] == reviewer
    assert "/admin/users" not in hrefs(person(Role.REVIEWER))
    admin = hrefs(person(Role.ADMIN))
    for href in ("/admin/users", "/admin/reporting", "/admin/exchanges", "/admin/scan-jobs"):
        assert href in admin
    assert "/review" not in admin  # administrators see no content
    assert hrefs(None) == []  # nobody signed in: no links


def test_api_keys_have_no_start_page() -> None:
    assert "/home" in hrefs(person(Role.REVIEWER))
    assert "/home" not in hrefs(person(Role.REVIEWER, kind="api_key"))


def test_the_clearinghouse_screens_only_on_a_clearinghouse() -> None:
    everyone = person(*Role)
    assert all(href in hrefs(everyone) for href in CLEARINGHOUSE_LINKS)
    assert not any(href in hrefs(everyone, clearinghouse=False) for href in CLEARINGHOUSE_LINKS)


def test_every_link_is_shown_to_someone_in_one_order() -> None:
    everyone = Principal("user", 1, "all", frozenset(Permission))
    assert hrefs(everyone) == [link.href for link in LINKS]
    assert len({link.href for link in LINKS}) == len(LINKS)  # each screen once


@pytest.mark.parametrize(
    ("path", "marked"),
    [
        ("/review", ["Queue"]),
        ("/review/cases/c-12", ["Queue"]),  # a case is part of the queue
        ("/review/requests", ["Entries to disable"]),  # the longest link wins
        ("/clearinghouse/triage", ["Triage"]),
        ("/clearinghouse/reports/7/triage", ["Clearinghouse"]),
        ("/admin/users/4", ["Users"]),
        ("/reviewer", []),  # not under /review: a link is a whole path segment
        ("/account/password", []),  # not in the navigation
        ('/review/"><b>x</b>', ["Queue"]),
    ],
)
def test_the_current_screen_is_marked_once(path: str, marked: list[str]) -> None:
    assert current(path) == marked


def test_the_rendered_navigation_marks_by_comparison() -> None:
    """The address is compared, never written into the links: a hostile one changes nothing."""
    settings = SimpleNamespace(clearinghouse=SimpleNamespace(enabled=False))
    request = SimpleNamespace(
        url=SimpleNamespace(path='/review/"><b>x</b>'),
        app=SimpleNamespace(state=SimpleNamespace(vigil=SimpleNamespace(settings=settings))),
    )
    html = templates.env.get_template("_nav.html").render(
        request=request, principal=person(Role.REVIEWER)
    )
    nav = html.split("</nav>")[0]
    assert '<a href="/review" aria-current="page">Queue</a>' in nav
    assert nav.count("aria-current") == 1
    assert "<b>" not in html and "/clearinghouse" not in nav
