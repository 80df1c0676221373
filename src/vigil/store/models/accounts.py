"""People and machines that use the service: users with roles, sign-in sessions, API keys.

No secret is stored in a form that lets it be used: passwords as argon2 hashes, session and
API-key tokens as SHA-256 digests (they are 256-bit random, so a slow hash adds nothing but
latency on every request). The logic lives in vigil.store.accounts.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.models.base import Base, enum_column_type, utcnow


class Role(StrEnum):
    """What a person may do; permissions per role are in vigil.store.accounts.permissions."""

    ADMIN = "admin"
    LIST_CURATOR = "list_curator"
    REVIEWER = "reviewer"  # child-safety trained; the only role that may view media
    REPORT_SUBMITTER = "report_submitter"
    AUDITOR = "auditor"  # read-only, including the audit log
    AGENCY = "agency"  # an investigator: only the reports routed to their own agency


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    # A bootstrap or admin-set password must be replaced at first sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Sealed under the evidence master key (vigil.store.accounts.totp), never in the clear.
    sealed_totp_secret: Mapped[str | None] = mapped_column(String(256))
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # refuses a replayed code
    # Failures since the last success, from any address (shown to administrators); locks are
    # per (account, address): SignInLock.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(grant.role) for grant in self.roles)

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, username={self.username!r})"


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "user_role"), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by: Mapped[str] = mapped_column(String(200))

    user: Mapped[User] = relationship(back_populates="roles")


class UserSession(Base):
    """A signed-in browser. The cookie holds the token; only its digest is here."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]  # absolute limit; idle expiry is computed from last_seen_at
    second_factor_passed: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship(lazy="joined")


class ApiKey(Base):
    """A machine credential: ``vigil_<prefix>_<secret>``; the prefix finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)  # None: the default
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    # A key with media:view works only once a second administrator approved it (AccessGrant).
    awaiting_approval: Mapped[bool] = mapped_column(default=False, server_default=false())

    def is_usable(self, now: datetime) -> bool:
        return (
            self.revoked_at is None
            and not self.awaiting_approval
            and (self.expires_at is None or self.expires_at > now)
        )

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "prefix": self.prefix, "name": self.name, "scopes": self.scopes}


class SignInLock(Base):
    """Failed sign-ins to one account from one client address, and that pair's lock: a
    stranger guessing from their address locks only themselves out, never the account's owner
    signing in from elsewhere. ``locks`` makes each new lock of the pair last longer."""

    __tablename__ = "sign_in_locks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when unknown
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locks: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime]


class GrantKind(StrEnum):
    API_KEY = "api_key"  # a key with media:view
    ROLES = "roles"  # roles that would let an administrator view media


class GrantState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"  # by any administrator, the requester included (withdrawn)


class AccessGrant(Base):
    """Media access for an administrator, requested by one and in force only once a second
    administrator approves it (vigil.store.accounts.grants; docs/accounts.md)."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[GrantKind] = mapped_column(enum_column_type(GrantKind, "grant_kind"))
    state: Mapped[GrantState] = mapped_column(
        enum_column_type(GrantState, "grant_state"), default=GrantState.PENDING
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    roles: Mapped[list[str] | None] = mapped_column(JSON)  # the whole role set asked for
    previous_roles: Mapped[list[str] | None] = mapped_column(JSON)  # when it was asked
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship(lazy="joined")
    api_key: Mapped[ApiKey | None] = relationship(lazy="joined")
