"""Reporting companies: the platforms allowed to report here, each with its own HTTP basic-auth
credential (argon2). Authentication costs the same whether or not the name exists.

A reporting company is a credentialed principal: what an operator does to one (registering
it, a new password, disabling or enabling it) is audited as a change to an account
(USER_CREATED, USER_CHANGED), told apart by the subject type ``intake_company``."""

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
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models import utcnow
from vigil.store.models.intake import ReportingCompany

MAX_USERNAME_CHARS = 100
MAX_NAME_CHARS = 200
SUBJECT = "intake_company"  # the audit log's subject type of a reporting company


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


def attached_company(session: Session, company: ReportingCompany) -> ReportingCompany:
    """The company as a row of ``session``, from a copy cached by another (the intake's
    credential cache), without reading it again."""
    return session.merge(company, load=False)


def register_company(
    session: Session, name: str, username: str, password: str, *, actor: str
) -> ReportingCompany:
    """add_company by an operator, audited (USER_CREATED; name and username, never the
    password). Raises ValueError as add_company does."""
    company = add_company(session, name, username, password)
    AuditLog(session).append(
        AuditAction.USER_CREATED,
        actor=actor,
        subject_type=SUBJECT,
        subject_id=str(company.id),
        details={"name": company.name, "username": company.username},
    )
    return company


def list_companies(session: Session) -> list[ReportingCompany]:
    """Every reporting company, disabled ones included, in the order they were added."""
    return list(session.scalars(select(ReportingCompany).order_by(ReportingCompany.id)))


def find_company(session: Session, username: str) -> ReportingCompany | None:
    """The company with this basic-auth user name (exact), enabled or not; else None."""
    query = select(ReportingCompany).where(ReportingCompany.username == username)
    return session.scalar(query)


def set_company_password(
    session: Session, company: ReportingCompany, password: str, *, actor: str
) -> None:
    """Replace the company's password (raises ValueError for one the policy refuses),
    audited; the credential caches of the workers drop the old one within their TTL."""
    check_password_policy(password, username=company.username)
    company.password_hash = hash_password(password)
    _audit_change(session, company, "password", actor)


def set_company_disabled(
    session: Session, company: ReportingCompany, *, disabled: bool, actor: str
) -> None:
    """Stop a company reporting (its reports are kept), or let it report again; audited."""
    company.disabled_at = utcnow() if disabled else None
    _audit_change(session, company, "disabled" if disabled else "enabled", actor)


def _audit_change(session: Session, company: ReportingCompany, change: str, actor: str) -> None:
    session.flush()
    AuditLog(session).append(
        AuditAction.USER_CHANGED,
        actor=actor,
        subject_type=SUBJECT,
        subject_id=str(company.id),
        details={"change": change, "username": company.username},
    )
