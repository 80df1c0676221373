"""The two steps of a reveal (issue 18): a hand-out is audited as an export with a one-time
view check; only that check, once, in time, by the same person for the same file, records a
view (media_viewed). And each reviewer's days of exposure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.api.service import add_user
from vigil.review.exposure import daily_exposure, record_media_time, record_received_file_reveal
from vigil.review.media_views import CHECK_LIFETIME, ViewRefused, record_view, release
from vigil.store import Database
from vigil.store.models import AuditRecord, Role, User

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _release(database: Database, actor: str = "user:ann", subject: str = "7") -> str:
    with database.transaction(write=True) as session:
        return release(
            session, actor=actor, subject_type="review_item", subject_id=subject, details={}
        )


def _view(database: Database, check: str, actor: str = "user:ann", subject: str = "7", **kw):  # type: ignore[no-untyped-def]
    with database.transaction(write=True) as session:
        return record_view(
            session,
            actor=actor,
            subject_type="review_item",
            subject_id=subject,
            check=check,
            **kw,
        ).seq


def _actions(database: Database) -> list[tuple[str, str | None]]:
    with database.transaction() as session:
        rows = session.execute(
            select(AuditRecord.action, AuditRecord.subject_id).order_by(AuditRecord.seq)
        ).all()
    return [(action.value, subject) for action, subject in rows]


def test_a_hand_out_is_an_export_and_only_its_check_records_one_view(database: Database) -> None:
    check = _release(database)
    assert _actions(database) == [("export", "7")]
    with database.transaction() as session:
        handed = session.scalars(select(AuditRecord)).one()
    assert handed.details["purpose"] == "display"
    assert check not in str(handed.details)  # only its digest is kept

    for wrong in ("", "x" * 101, check[:-1] + ("A" if check[-1] != "A" else "B")):
        with pytest.raises(ViewRefused):
            _view(database, wrong)
    with pytest.raises(ViewRefused):
        _view(database, check, actor="user:bob")  # another person
    with pytest.raises(ViewRefused):
        _view(database, check, subject="8")  # another file
    assert _actions(database) == [("export", "7")]

    seq = _view(database, check)
    with pytest.raises(ViewRefused, match="already recorded"):
        _view(database, check)
    assert _actions(database) == [("export", "7"), ("media_viewed", "7")]
    with database.transaction() as session:
        viewed = session.get(AuditRecord, seq)
        assert viewed is not None and viewed.details["release"] == seq - 1


def test_a_check_expires(database: Database) -> None:
    check = _release(database)
    with pytest.raises(ViewRefused, match="expired"):
        _view(database, check, now=datetime.now(UTC) + CHECK_LIFETIME + timedelta(seconds=1))
    assert [action for action, _ in _actions(database)] == ["export"]


def test_each_reviewers_days_are_summed_newest_first(database: Database) -> None:
    add_user(database, "ann", [Role.REVIEWER])
    add_user(database, "bob", [Role.REVIEWER])
    with database.transaction(write=True) as session:
        ids = {u.username: u.id for u in session.scalars(select(User))}
        for at, who, seconds in [
            (NOON - timedelta(days=1), "ann", 30.0),
            (NOON, "ann", 60.0),
            (NOON + timedelta(minutes=5), "ann", 30.0),
            (NOON, "bob", 12.0),
            (NOON - timedelta(days=30), "bob", 99.0),  # outside the window
        ]:
            record_media_time(session, ids[who], seconds, now=at)
        record_received_file_reveal(session, ids["ann"], now=NOON)
    with database.transaction() as session:
        days = daily_exposure(session, days=7, now=NOON + timedelta(hours=1))
    assert [(d.day, d.username, d.reveals, d.media_minutes) for d in days] == [
        (date(2026, 3, 10), "ann", 1, 1.5),
        (date(2026, 3, 10), "bob", 0, 0.2),
        (date(2026, 3, 9), "ann", 0, 0.5),
    ]
