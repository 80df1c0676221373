"""Exposure care: how much each reviewer saw today (reveals, seconds on media screens), a
warning past the daily reveal limit, and a break reminder after a long stretch on media.

Only counts and times are kept, never what was shown. Administrators see the aggregate per
reviewer (``aggregate_exposure``), not the content. A day is the UTC day; a stretch on media
ends with a pause of ``BREAK_GAP`` or more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from vigil.core.settings import ReviewSettings
from vigil.review.errors import InvalidReviewInput
from vigil.review.lookup import get_item
from vigil.store.audit import AuditLog
from vigil.store.models import (
    AuditAction,
    CaseItem,
    ExposureEvent,
    ExposureKind,
    User,
    utcnow,
)

MAX_MEDIA_REPORT = 300.0  # seconds one report may add: a tab left open is not exposure
BREAK_GAP = timedelta(minutes=10)  # a pause this long counts as a break
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Exposure:
    reveals: int
    media_seconds: float
    over_limit: bool  # reveals reached [review] daily_reveal_limit
    break_due: bool  # the current stretch on media reached [review] break_minutes
    warning: str | None  # what to tell the reviewer, if anything


@dataclass(frozen=True, slots=True)
class DailyExposure:
    """One reviewer's UTC day: reveals (media shown) and minutes revealed media was visible."""

    day: date
    username: str
    reveals: int
    media_minutes: float


@dataclass(frozen=True, slots=True)
class ReviewerExposure:
    """What administrators see: per reviewer, counts and minutes only."""

    username: str
    reveals: int
    media_minutes: float
    days_active: int


def record_reveal(
    session: Session,
    user_id: int,
    item_id: int,
    *,
    now: datetime | None = None,
    actor: str | None = None,
) -> int:
    """Count one reveal of an item (unblurred view); returns the item's reveals so far.
    With ``actor``, also append the MEDIA_VIEWED audit record (who, which item, when). The
    console counts a reveal only once the browser showed the media: it records the view
    with vigil.review.media_views and calls this without ``actor``."""
    when = now or utcnow()
    item = get_item(session, item_id)
    # Incremented in SQL: two reviewers revealing at once must both be counted.
    session.execute(
        update(CaseItem).where(CaseItem.id == item.id).values(reveals=CaseItem.reveals + 1)
    )
    session.refresh(item, ["reveals"])
    session.add(
        ExposureEvent(
            user_id=user_id, at=when, kind=ExposureKind.REVEAL, item_id=item.id, seconds=0.0
        )
    )
    session.flush()
    if actor is not None:
        AuditLog(session).append(
            AuditAction.MEDIA_VIEWED,
            actor=actor,
            subject_type="review_item",
            subject_id=str(item.id),
            details={"case": item.case.public_id, "reveal": item.reveals},
            at=when,
        )
    return item.reveals


def record_received_file_reveal(
    session: Session, user_id: int, *, now: datetime | None = None
) -> None:
    """Count one reveal of a file received by the clearinghouse: exposure to it counts
    towards the person's daily limit like a case item's, though it belongs to no case
    item (the view's audit record is the clearinghouse's, received_files.py)."""
    session.add(
        ExposureEvent(
            user_id=user_id, at=now or utcnow(), kind=ExposureKind.REVEAL, item_id=None, seconds=0.0
        )
    )
    session.flush()


def record_media_time(
    session: Session, user_id: int, seconds: float, *, now: datetime | None = None
) -> float:
    """Add time spent on a media screen; returns the seconds counted (0: ignored). Negative
    or non-numeric reports are ignored, one report counts at most MAX_MEDIA_REPORT."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return 0.0
    value = float(seconds)
    if not math.isfinite(value) or value <= 0:
        return 0.0
    counted = min(value, MAX_MEDIA_REPORT)
    session.add(
        ExposureEvent(
            user_id=user_id, at=now or utcnow(), kind=ExposureKind.MEDIA_TIME, seconds=counted
        )
    )
    session.flush()
    return counted


def exposure_today(
    session: Session, user_id: int, *, settings: ReviewSettings, now: datetime | None = None
) -> Exposure:
    when = now or utcnow()
    start = datetime.combine(when.date(), time.min, tzinfo=when.tzinfo)
    events = session.execute(
        select(ExposureEvent.kind, ExposureEvent.at, ExposureEvent.seconds)
        .where(
            ExposureEvent.user_id == user_id, ExposureEvent.at >= start, ExposureEvent.at <= when
        )
        .order_by(ExposureEvent.at, ExposureEvent.id)
    ).all()
    reveals = sum(1 for e in events if e.kind is ExposureKind.REVEAL)
    media = [(e.at, float(e.seconds)) for e in events if e.kind is ExposureKind.MEDIA_TIME]
    over_limit = reveals >= settings.daily_reveal_limit
    break_due = _current_stretch(media, when) >= settings.break_minutes * 60
    return Exposure(
        reveals,
        sum(s for _, s in media),
        over_limit,
        break_due,
        _warning(reveals, over_limit, break_due, settings),
    )


def aggregate_exposure(
    session: Session, *, days: int = 7, now: datetime | None = None
) -> list[ReviewerExposure]:
    """Per reviewer over the last ``days`` days, most reveals first."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidReviewInput(f"days must be between 1 and {MAX_DAYS}")
    since = (now or utcnow()) - timedelta(days=days)
    reveal = case((ExposureEvent.kind == ExposureKind.REVEAL, 1), else_=0)
    media = case((ExposureEvent.kind == ExposureKind.MEDIA_TIME, ExposureEvent.seconds), else_=0.0)
    day = func.date(ExposureEvent.at)
    rows = session.execute(
        select(User.username, func.sum(reveal), func.sum(media), func.count(func.distinct(day)))
        .join(User, User.id == ExposureEvent.user_id)
        .where(ExposureEvent.at >= since)
        .group_by(User.username)
        .order_by(func.sum(reveal).desc(), User.username)
    ).all()
    return [
        ReviewerExposure(
            username, int(reveals or 0), round(float(seconds or 0) / 60, 1), int(active or 0)
        )
        for username, reveals, seconds, active in rows
    ]


def daily_exposure(
    session: Session, *, days: int = 7, now: datetime | None = None
) -> list[DailyExposure]:
    """Per reviewer and UTC day over the last ``days`` days, newest day first."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidReviewInput(f"days must be between 1 and {MAX_DAYS}")
    when = now or utcnow()
    since = datetime.combine(when.date() - timedelta(days=days - 1), time.min, tzinfo=when.tzinfo)
    reveal = case((ExposureEvent.kind == ExposureKind.REVEAL, 1), else_=0)
    media = case((ExposureEvent.kind == ExposureKind.MEDIA_TIME, ExposureEvent.seconds), else_=0.0)
    day = func.date(ExposureEvent.at)
    rows = session.execute(
        select(day, User.username, func.sum(reveal), func.sum(media))
        .join(User, User.id == ExposureEvent.user_id)
        .where(ExposureEvent.at >= since)
        .group_by(day, User.username)
        .order_by(day.desc(), User.username)
    ).all()
    return [
        DailyExposure(_as_date(on), username, int(reveals or 0), round(float(seconds or 0) / 60, 1))
        for on, username, reveals, seconds in rows
    ]


def _as_date(value: date | str) -> date:
    # PostgreSQL's date() gives a date, SQLite's the ISO text.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _current_stretch(media: list[tuple[datetime, float]], now: datetime) -> float:
    """Seconds on media since the last pause of BREAK_GAP (0 if that pause is now)."""
    stretch, last = 0.0, None
    for at, seconds in media:
        if last is not None and at - last >= BREAK_GAP:
            stretch = 0.0
        stretch += seconds
        last = at
    if last is None or now - last >= BREAK_GAP:
        return 0.0
    return stretch


def _warning(
    reveals: int, over_limit: bool, break_due: bool, settings: ReviewSettings
) -> str | None:
    parts = []
    if over_limit:
        parts.append(
            f"You have revealed {reveals} items today; the daily limit is "
            f"{settings.daily_reveal_limit}. Consider stopping for today or asking "
            "a colleague to take over."
        )
    if break_due:
        parts.append(
            f"You have spent {settings.break_minutes} minutes or more on media "
            "screens without a pause: please take a break of at least "
            f"{int(BREAK_GAP.total_seconds() // 60)} minutes."
        )
    return " ".join(parts) or None
