"""The first administrator: created once, on an empty user table, with a one-time password."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.accounts.errors import DuplicateUser
from vigil.store.accounts.one_time_passwords import one_time_password
from vigil.store.accounts.users import create_user
from vigil.store.models.accounts import Role, User

BOOTSTRAP_USERNAME = "admin"
BOOTSTRAP_ACTOR = "bootstrap"


def bootstrap_admin(session: Session, *, now: datetime | None = None) -> str | None:
    """Create ``admin`` (must change the password at first sign-in) when no user exists and
    return its password; None when there are users already, including when a concurrent
    process created the administrator first."""
    if session.scalar(select(User.id).limit(1)) is not None:
        return None
    password = one_time_password(BOOTSTRAP_USERNAME)
    try:
        user = create_user(
            session,
            BOOTSTRAP_USERNAME,
            password,
            [Role.ADMIN],
            actor=BOOTSTRAP_ACTOR,
            display_name="Administrator",
            must_change_password=True,
        )
    except DuplicateUser:
        return None
    if now is not None:
        user.created_at = now
        session.flush()
    return password
