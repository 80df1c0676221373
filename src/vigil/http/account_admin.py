"""What the API and the console refuse alike when an administrator changes accounts: the
named user must exist, one's own roles, state and password change only through another
administrator (so the last one cannot lock everybody out), a password reset's refusals, and
a media-access grant's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from vigil.http.errors import ApiError
from vigil.store.accounts import (
    AccountError,
    GrantClosed,
    Principal,
    SecondApproverRequired,
    UnknownAccount,
    WeakPassword,
    find_user,
)
from vigil.store.models import User


def named_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise ApiError(404, "no such user")
    return user


def refuse_own_account(user: User, principal: Principal) -> None:
    if user.id == principal.id:
        raise ApiError(409, "change your own account through another administrator")


@contextmanager
def grant_errors() -> Iterator[None]:
    """A grant decision's refusals as answers: unknown, the same administrator, closed."""
    try:
        yield
    except UnknownAccount:
        raise ApiError(404, "no such grant") from None
    except SecondApproverRequired as exc:
        raise ApiError(403, str(exc), code="second_approver_required") from None
    except GrantClosed as exc:
        raise ApiError(409, str(exc)) from None


@contextmanager
def password_reset_errors() -> Iterator[None]:
    """A reset's refusals as answers: a chosen password the policy refuses (422), an account
    that cannot take one now, such as a disabled one (409)."""
    try:
        yield
    except WeakPassword as exc:
        raise ApiError(422, str(exc), code="weak_password") from None
    except AccountError as exc:
        raise ApiError(409, str(exc)) from None
