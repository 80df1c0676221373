"""Roles, API key scopes and principals: least privilege as documented in docs/accounts.md."""

from __future__ import annotations

import pytest

from vigil.store.accounts import (
    API_KEY_SCOPES,
    ROLE_PERMISSIONS,
    InvalidScope,
    Permission,
    Principal,
    Role,
    parse_scopes,
    permissions_for_roles,
)

P = Permission


def test_every_role_has_permissions() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert all(ROLE_PERMISSIONS[role] for role in Role)


def test_only_reviewers_may_view_media() -> None:
    assert [role for role in Role if P.MEDIA_VIEW in ROLE_PERMISSIONS[role]] == [Role.REVIEWER]


def test_administrators_manage_accounts_but_see_no_content_and_decide_nothing() -> None:
    admin = ROLE_PERMISSIONS[Role.ADMIN]
    assert {P.USERS_MANAGE, P.KEYS_MANAGE, P.WEBHOOKS_MANAGE, P.AUDIT_READ} <= admin
    assert not {P.MEDIA_VIEW, P.DECIDE, P.LISTS_MANAGE, P.REPORTS_SUBMIT} & admin


def test_auditors_are_read_only() -> None:
    assert ROLE_PERMISSIONS[Role.AUDITOR] == {
        P.AUDIT_READ,
        P.RECORDS_READ,
        P.LISTS_READ,
        P.STATS_READ,
    }


def test_agencies_hold_only_their_own_queue() -> None:
    """An agency user's single permission; which reports it reaches is decided per query."""
    assert ROLE_PERMISSIONS[Role.AGENCY] == {P.AGENCY_WORK}
    assert [role for role in Role if P.AGENCY_WORK in ROLE_PERMISSIONS[role]] == [Role.AGENCY]


def test_only_admins_manage_users_and_keys() -> None:
    for permission in (P.USERS_MANAGE, P.KEYS_MANAGE):
        holders = [role for role in Role if permission in ROLE_PERMISSIONS[role]]
        assert holders == [Role.ADMIN]


def test_permissions_for_roles_is_the_union() -> None:
    combined = permissions_for_roles([Role.AUDITOR, Role.LIST_CURATOR])
    assert combined == ROLE_PERMISSIONS[Role.AUDITOR] | ROLE_PERMISSIONS[Role.LIST_CURATOR]
    assert permissions_for_roles([]) == frozenset()
    assert permissions_for_roles(["reviewer"]) == ROLE_PERMISSIONS[Role.REVIEWER]  # type: ignore[list-item]


def test_api_keys_cannot_hold_account_list_or_review_powers() -> None:
    forbidden = {
        P.USERS_MANAGE,
        P.KEYS_MANAGE,
        P.LISTS_MANAGE,
        P.DECIDE,
        P.AUDIT_READ,
        P.REPORTS_SUBMIT,
        P.EVIDENCE_HOLD,
        P.TRIAGE,
        P.AGENCIES_MANAGE,
        P.AGENCY_WORK,
    }
    assert not forbidden & API_KEY_SCOPES
    assert {P.SCREEN, P.MEDIA_VIEW} <= API_KEY_SCOPES


def test_parse_scopes_accepts_names_and_members() -> None:
    assert parse_scopes(["screen", " flag ", P.SCREEN]) == {P.SCREEN, P.FLAG}


@pytest.mark.parametrize(
    "values",
    [
        [],
        [""],
        ["admin"],
        ["users:manage"],
        ["keys:manage"],
        ["lists:manage"],
        ["screen; DROP TABLE api_keys;--"],
        ["SCREEN"],
        ["\u0455creen"],  # Cyrillic "s"
        ["screen", "review:decide"],
        ["x" * 100_000],
    ],
)
def test_parse_scopes_refuses_unknown_non_grantable_and_empty(values: list[str]) -> None:
    with pytest.raises(InvalidScope) as caught:
        parse_scopes(values)
    assert len(str(caught.value)) < 400  # a huge value is not echoed back


def test_parse_scopes_bounds_the_number_of_values() -> None:
    with pytest.raises(InvalidScope, match="too many"):
        parse_scopes(["screen"] * 10_000)


def test_principal_actor_and_can() -> None:
    user = Principal(kind="user", id=1, name="alice", permissions=frozenset({P.FLAG}))
    key = Principal(kind="api_key", id=2, name="abcdefghij12", permissions=frozenset())
    assert user.actor == "user:alice" and key.actor == "key:abcdefghij12"
    assert user.can(P.FLAG) and not user.can(P.SCREEN) and not key.can(P.FLAG)
    with pytest.raises(AttributeError):
        user.name = "mallory"  # type: ignore[misc]
