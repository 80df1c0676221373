"""Issue 14, item 8: an administrator could mint a media:view key in one call, or give an
administrator the reviewer role. Media access for administrators now waits for a second
administrator's approval, and every step is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.accounts import (
    GrantClosed,
    GrantState,
    InvalidCredentials,
    Role,
    SecondApproverRequired,
    UnknownAccount,
    User,
    approve_grant,
    create_api_key,
    create_user,
    find_user,
    list_grants,
    pending_roles,
    refuse_grant,
    set_roles,
    verify_api_key,
)
from vigil.store.audit import AuditAction, AuditRecord

pytestmark = pytest.mark.usefixtures("cheap_argon2")

PASSWORD = "Tr0ub4dor&3-horse-staple"


def _user(session: Session, name: str, roles: list[Role], actor: str = "cli:root") -> User:
    return create_user(session, name, PASSWORD, roles, actor=actor)


def _grant_events(session: Session) -> list[tuple[str, str]]:
    return [
        (r.details["event"], r.actor)
        for r in session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == AuditAction.ACCESS_GRANT)
            .order_by(AuditRecord.seq)
        )
    ]


def test_a_media_key_works_only_after_a_second_administrator_approves(session: Session) -> None:
    ann, ben = _user(session, "ann", [Role.ADMIN]), _user(session, "ben", [Role.ADMIN])
    key, token = create_api_key(session, "viewer", ["media:view"], created_by="user:ann")
    session.commit()
    assert key.awaiting_approval
    with pytest.raises(InvalidCredentials):
        verify_api_key(session, token)
    [grant] = list_grants(session)
    with pytest.raises(SecondApproverRequired):
        approve_grant(session, grant.id, actor="user:ann", approver=ann)
    approve_grant(session, grant.id, actor="user:ben", approver=ben)
    session.commit()
    assert verify_api_key(session, token).prefix == key.prefix
    assert _grant_events(session) == [("requested", "user:ann"), ("approved", "user:ben")]
    with pytest.raises(GrantClosed):  # decided once
        refuse_grant(session, grant.id, actor="user:ben")


def test_keys_without_media_need_no_approval(session: Session) -> None:
    key, token = create_api_key(session, "uploader", ["screen", "flag"], created_by="user:ann")
    assert not key.awaiting_approval and verify_api_key(session, token)
    assert list_grants(session) == []


def test_a_refused_key_is_revoked(session: Session) -> None:
    key, token = create_api_key(
        session, "viewer", ["media:view", "records:read"], created_by="user:ann"
    )
    [grant] = list_grants(session)
    refuse_grant(session, grant.id, actor="user:ann")  # the asker withdraws
    session.commit()
    assert key.revoked_at is not None and grant.state is GrantState.REFUSED
    with pytest.raises(InvalidCredentials):
        verify_api_key(session, token)
    with pytest.raises(GrantClosed):
        approve_grant(session, grant.id, actor="user:ben")


def test_the_reviewer_role_for_an_administrator_waits_for_approval(session: Session) -> None:
    _user(session, "ann", [Role.ADMIN])
    cat = _user(session, "cat", [Role.ADMIN])
    dan = _user(session, "dan", [Role.ADMIN])
    grant = set_roles(session, cat, [Role.ADMIN, Role.REVIEWER], actor="user:ann")
    session.commit()
    assert grant is not None and cat.role_set == {Role.ADMIN}
    assert pending_roles(session, cat) == ["admin", "reviewer"]
    with pytest.raises(SecondApproverRequired):  # nobody approves their own access
        approve_grant(session, grant.id, actor="user:cat", approver=cat)
    approve_grant(session, grant.id, actor="user:dan", approver=dan)
    session.commit()
    assert cat.role_set == {Role.ADMIN, Role.REVIEWER}
    assert pending_roles(session, cat) is None


def test_an_account_the_asker_created_cannot_approve(session: Session) -> None:
    ann = _user(session, "ann", [Role.ADMIN])
    puppet = _user(session, "puppet", [Role.ADMIN], actor="user:ann")
    grant = set_roles(session, ann, [Role.ADMIN, Role.REVIEWER], actor="user:ann")
    assert grant is not None
    with pytest.raises(SecondApproverRequired):
        approve_grant(session, grant.id, actor="user:puppet", approver=puppet)
    # Nor one the asker made an administrator.
    eve = _user(session, "eve", [Role.AUDITOR])
    set_roles(session, eve, [Role.ADMIN], actor="user:ann")
    with pytest.raises(SecondApproverRequired):
        approve_grant(session, grant.id, actor="user:eve", approver=eve)
    assert ann.role_set == {Role.ADMIN}


def test_giving_oneself_media_access_waits_for_approval(session: Session) -> None:
    fay = _user(session, "fay", [Role.LIST_CURATOR])
    grant = set_roles(session, fay, [Role.REVIEWER], actor="user:fay")
    assert grant is not None and fay.role_set == {Role.LIST_CURATOR}


def test_ordinary_role_changes_take_effect_at_once(session: Session) -> None:
    rex = _user(session, "rex", [Role.AUDITOR])
    assert set_roles(session, rex, [Role.REVIEWER], actor="user:ann") is None
    assert rex.role_set == {Role.REVIEWER}
    both = _user(session, "both", [Role.ADMIN])
    grant = set_roles(session, both, [Role.ADMIN, Role.REVIEWER], actor="user:ann")
    assert grant is not None
    approve_grant(session, grant.id, actor="cli:operator")
    assert set_roles(session, both, [Role.ADMIN], actor="user:ann") is None  # losing media
    assert both.role_set == {Role.ADMIN}


def test_a_new_administrator_with_media_roles_gets_them_on_approval(session: Session) -> None:
    new = _user(session, "gus", [Role.ADMIN, Role.REVIEWER], actor="user:ann")
    session.commit()
    assert new.role_set == {Role.ADMIN}
    assert pending_roles(session, new) == ["admin", "reviewer"]
    [grant] = list_grants(session)
    approve_grant(session, grant.id, actor="cli:operator")
    assert new.role_set == {Role.ADMIN, Role.REVIEWER}


def test_a_grant_whose_roles_changed_meanwhile_is_not_applied(session: Session) -> None:
    hal = _user(session, "hal", [Role.ADMIN])
    grant = set_roles(session, hal, [Role.ADMIN, Role.REVIEWER], actor="user:ann")
    assert grant is not None
    set_roles(session, hal, [Role.ADMIN, Role.AUDITOR], actor="user:ann")
    with pytest.raises(GrantClosed):
        approve_grant(session, grant.id, actor="user:ben")
    user = find_user(session, "hal")
    assert user is not None and Role.REVIEWER not in user.role_set


@pytest.mark.parametrize("grant_id", [0, -1, 2**31, 2**70, 99_999])
def test_unknown_and_hostile_grant_ids(session: Session, grant_id: int) -> None:
    with pytest.raises(UnknownAccount):
        approve_grant(session, grant_id, actor="user:ben")
    with pytest.raises(UnknownAccount):
        refuse_grant(session, grant_id, actor="user:ben")
