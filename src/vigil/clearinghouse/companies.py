"""Reporting companies: the platforms allowed to report here, each with its own HTTP basic-auth
credential (argon2). Authentication costs the same whether or not the name exists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    hash_password,
    verify_decoy,
    verify_password,
)
from vigil.store.models.intake import ReportingCompany

MAX_USERNAME_CHARS = 100
MAX_NAME_CHARS = 200


class CompanyExists(ValueError):
    """The username is taken by another reporting company."""


def add_company(session: Session, name: str, username: str, password: str) -> ReportingCompany:
    """A new reporting company; raises ValueError (WeakPassword, CompanyExists) on bad input.
    Flushes; the caller commits."""
    name, username = name.strip(), username.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"the company name must have 1 to {MAX_NAME_CHARS} characters")
    # A colon cannot be sent in an HTTP basic-auth user name.
    if not username or len(username) > MAX_USERNAME_CHARS or ":" in username:
        raise ValueError(
            f"the username must have 1 to {MAX_USERNAME_CHARS} characters, without a colon"
        )
    check_password_policy(password, username=username)
    if (
        session.scalar(select(ReportingCompany.id).where(ReportingCompany.username == username))
        is not None
    ):
        raise CompanyExists(f"a reporting company already uses the username {username!r}")
    company = ReportingCompany(name=name, username=username, password_hash=hash_password(password))
    session.add(company)
    session.flush()
    return company


def authenticate_company(session: Session, username: str, password: str) -> ReportingCompany | None:
    """The enabled company with these credentials, else None. An unknown or disabled name
    spends one decoy verification, so timing does not tell which names exist."""
    if (
        not isinstance(username, str)
        or not isinstance(password, str)
        or len(username) > MAX_USERNAME_CHARS
        or len(password) > MAX_PASSWORD_LENGTH
    ):
        verify_decoy("")
        return None
    company = session.scalar(select(ReportingCompany).where(ReportingCompany.username == username))
    if company is None or company.disabled_at is not None:
        verify_decoy(password)
        return None
    return company if verify_password(company.password_hash, password) else None
