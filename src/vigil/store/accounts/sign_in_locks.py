"""Locks per (account, client address): after ``lockout_after`` failures in a row from one
address, that address may not try the account for ``lockout_minutes``, doubling with each
new lock of the pair (at most MAX_LOCK). Other addresses, the owner's among them, still sign
in: a stranger's bad passwords lock out only the stranger (issue 14).

When one account fails from ALERT_ADDRESSES addresses within ALERT_WINDOW, somebody is
probably guessing from many machines: an audit record (``sign_in_alert``) and a log warning
say so, once each time the count reaches the threshold.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models.accounts import SignInLock, User

log = logging.getLogger(__name__)

MAX_SOURCE = 64
MAX_LOCK = timedelta(hours=24)
FORGET_AFTER = timedelta(hours=24)  # a pair quiet this long starts afresh (no backoff)
ALERT_ADDRESSES = 10
ALERT_WINDOW = timedelta(hours=1)
ALERT_ACTOR = "sign-in-monitor"
_MAX_DOUBLINGS = 16  # 2**16 lock periods already exceed MAX_LOCK; bounds the arithmetic


def source_key(source_ip: str | None) -> str:
    """How an address is stored: "" when the caller does not know it."""
    return source_ip[:MAX_SOURCE] if isinstance(source_ip, str) else ""


def active_lock(session: Session, user: User, source: str, now: datetime) -> datetime | None:
    """Until when this address may not try this account; None when it may."""
    lock = session.get(SignInLock, (user.id, source))
    if lock is None or lock.locked_until is None or lock.locked_until <= now:
        return None
    return lock.locked_until


def record_failure(
    session: Session,
    user: User,
    source: str,
    now: datetime,
    *,
    lockout_after: int,
    lockout_minutes: int,
) -> None:
    lock = session.get(SignInLock, (user.id, source))
    if lock is None:
        lock = SignInLock(user_id=user.id, source=source, failures=0, locks=0, last_failure_at=now)
        session.add(lock)
        newly_failing = True
    else:
        newly_failing = lock.last_failure_at < now - ALERT_WINDOW
        if lock.last_failure_at < now - FORGET_AFTER:
            lock.failures, lock.locks = 0, 0
    lock.failures += 1
    lock.last_failure_at = now
    if lock.failures >= lockout_after:
        # The count restarts, so after the lock a full round of failures is needed again.
        period = timedelta(minutes=lockout_minutes) * 2 ** min(lock.locks, _MAX_DOUBLINGS)
        lock.locked_until = now + min(period, MAX_LOCK)
        lock.locks, lock.failures = lock.locks + 1, 0
    session.flush()
    if newly_failing:
        _alert_if_widespread(session, user, now)


def clear_address(session: Session, user: User, source: str) -> None:
    """A success from this address: its failures are forgiven (other addresses' are not)."""
    session.execute(
        delete(SignInLock).where(SignInLock.user_id == user.id, SignInLock.source == source)
    )


def lift_locks(session: Session, user: User) -> None:
    """A new password (set or reset): every address may try again."""
    session.execute(delete(SignInLock).where(SignInLock.user_id == user.id))


def locked_addresses(session: Session, now: datetime) -> dict[int, int]:
    """Per user id, how many addresses are locked out now."""
    rows = session.execute(
        select(SignInLock.user_id, func.count())
        .where(SignInLock.locked_until > now)
        .group_by(SignInLock.user_id)
    )
    return {user_id: count for user_id, count in rows}


def _alert_if_widespread(session: Session, user: User, now: datetime) -> None:
    addresses = session.scalar(
        select(func.count())
        .select_from(SignInLock)
        .where(SignInLock.user_id == user.id, SignInLock.last_failure_at >= now - ALERT_WINDOW)
    )
    if addresses != ALERT_ADDRESSES:
        return  # below the threshold, or already told when it was reached
    log.warning(
        "account %r failed to sign in from %d addresses within %s: someone may be "
        "guessing its password from many machines",
        user.username,
        addresses,
        ALERT_WINDOW,
    )
    AuditLog(session).append(
        AuditAction.SIGN_IN_ALERT,
        actor=ALERT_ACTOR,
        subject_type="user",
        subject_id=str(user.id),
        at=now,
        details={
            "username": user.username,
            "addresses": addresses,
            "window_minutes": int(ALERT_WINDOW.total_seconds() // 60),
        },
    )
