"""The exchange store (vigil.store.exchanges) on SQLite and PostgreSQL: configuration and its
refusals, credentials sealed at rest and replaceable without losing the checkpoint, removal,
the fetch schedule, the feedback queue, the audit trail and master-key rotation."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from vigil.store import Database
from vigil.store.audit import AuditRecord, verify_chain
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import (
    create_exchange,
    exchange_credentials,
    exchange_list_names,
    get_exchange,
    list_exchanges,
    remove_exchange,
    replace_credentials,
    set_exchange_enabled,
    set_feedback_enabled,
    set_fetch_interval,
)
from vigil.store.exchanges.errors import (
    DuplicateExchange,
    FeedbackStillPending,
    InvalidExchangeSetting,
    UnknownExchange,
)
from vigil.store.exchanges.feedback_queue import (
    MAX_ATTEMPTS,
    claim_due_feedback,
    enqueue_feedback,
    feedback_backoff,
    feedback_for_entry,
    feedback_of_exchange,
    mark_feedback_failed,
    mark_feedback_sent,
)
from vigil.store.exchanges.fetch_state import (
    begin_fetch,
    due_exchanges,
    read_checkpoint,
    store_page,
)
from vigil.store.exchanges.status import exchange_status, exchange_statuses
from vigil.store.key_rotation import rotate_master_key
from vigil.store.lists.catalogue import create_list
from vigil.store.lists.errors import UnknownList
from vigil.store.models import (
    FeedbackState,
    FeedbackVerdict,
    FetchState,
    HashList,
    ListEntry,
    SignalType,
    utcnow,
)
from vigil.store.sealed_secrets import SealedSecretError

KEY = MasterKey.generate()
PASSWORD = "s3cret-Exchange-Passw0rd-9f2c"
CREDENTIALS = {"username": "platform-user", "password": PASSWORD}
MD5 = "0" * 31 + "1"


def _create(database: Database, name: str = "ncmec", **overrides: object) -> None:
    settings: dict[str, object] = {
        "kind": "ncmec",
        "base_url": "https://report.cybertip.org/hashsharing/",
        "credentials": CREDENTIALS,
        "list_names": ["known"],
        "master_key": KEY,
        "actor": "admin",
        "environment": "exploitative",
        **overrides,
    }
    with database.transaction(write=True) as session:
        for list_name in settings["list_names"]:  # type: ignore[attr-defined]
            if session.scalar(select(HashList.id).where(HashList.name == list_name)) is None:
                create_list(session, list_name, actor="admin")
        create_exchange(session, name, **settings)  # type: ignore[arg-type]


def _audits(database: Database) -> list[AuditRecord]:
    with database.session() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def test_an_exchange_is_created_with_its_lists_and_found_again(database: Database) -> None:
    _create(database, list_names=["known", "mirror"], options={"group": "123"})
    with database.session() as session:
        exchange = get_exchange(session, " ncmec ")
        assert exchange_list_names(exchange) == ["known", "mirror"]
        assert exchange.base_url == "https://report.cybertip.org/hashsharing"  # no trailing /
        assert (exchange.kind, exchange.environment, exchange.options) == (
            "ncmec",
            "exploitative",
            {"group": "123"},
        )
        assert exchange.enabled and exchange.feedback_enabled
        assert exchange.fetch_state is FetchState.NEVER and exchange.checkpoint is None
        assert exchange_credentials(exchange, KEY) == CREDENTIALS
        assert [e.name for e in list_exchanges(session)] == ["ncmec"]
        with pytest.raises(UnknownExchange, match="exchanges: ncmec"):
            get_exchange(session, "stopncii")
    [created] = [r for r in _audits(database) if r.subject_type == "exchange"]
    assert created.details["change"] == "created"
    assert created.details["new"]["lists"] == ["known", "mirror"]


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"base_url": "ftp://example.org"}, "http"),
        ({"base_url": "https://user:pw@example.org"}, "user or password"),
        ({"base_url": "https://example.org:notaport"}, "cannot be read"),
        ({"base_url": "https://"}, "http"),
        ({"credentials": {}}, "credentials"),
        ({"credentials": {"password": ""}}, "'password'"),
        ({"credentials": {"password": 7}}, "text"),
        ({"list_names": []}, "at least one list"),
        ({"fetch_interval_seconds": 5}, "fetch interval"),
        ({"kind": ""}, "kind"),
        ({"options": {"group": "a\x1b[2Jb"}}, "printable"),
        ({"actor": "  "}, "actor"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_stored(
    database: Database, overrides: dict[str, object], refusal: str
) -> None:
    with pytest.raises(InvalidExchangeSetting, match=refusal) as caught:
        _create(database, **overrides)
    assert PASSWORD not in str(caught.value)
    with database.session() as session:
        assert list_exchanges(session) == []


def test_a_duplicate_name_or_an_unknown_list_is_refused(database: Database) -> None:
    _create(database)
    with pytest.raises(DuplicateExchange):
        _create(database)
    with database.transaction(write=True) as session, pytest.raises(UnknownList):
        create_exchange(
            session,
            "other",
            kind="tat",
            base_url="https://tat.example",
            credentials=CREDENTIALS,
            list_names=["missing"],
            master_key=KEY,
            actor="admin",
        )


def test_credentials_are_not_readable_in_the_database_nor_in_logs(
    database: Database, tmp_path: Path
) -> None:
    _create(database)
    with database.session() as session:
        stored = session.execute(text("SELECT * FROM exchanges")).mappings().one()
        exchange = get_exchange(session, "ncmec")
        shown = repr(exchange) + repr(exchange_status(session, "ncmec"))
    row = json.dumps({key: str(value) for key, value in stored.items()})
    assert PASSWORD not in row and "platform-user" not in row
    assert stored["sealed_credentials"].startswith(f"v1:{KEY.key_id}:")
    assert PASSWORD not in shown and "sealed" not in shown
    audits = json.dumps([r.details for r in _audits(database)])
    assert PASSWORD not in audits and "platform-user" not in audits
    if database.backend == "sqlite":
        database.dispose()  # folds the write-ahead log into the file
        files = list(Path(str(database.engine.url.database)).parent.glob("vigil.db*"))
        assert files and all(PASSWORD.encode() not in path.read_bytes() for path in files)


def test_sealed_credentials_open_only_under_their_key_and_for_their_exchange(
    database: Database,
) -> None:
    _create(database, "first")
    _create(database, "second")
    with database.transaction(write=True) as session:
        first, second = get_exchange(session, "first"), get_exchange(session, "second")
        with pytest.raises(SealedSecretError, match="master key"):
            exchange_credentials(first, MasterKey.generate())
        second.sealed_credentials = first.sealed_credentials  # moved by someone with the db
        with pytest.raises(SealedSecretError):
            exchange_credentials(second, KEY)


def test_replacing_credentials_keeps_the_checkpoint_and_the_fetch_state(
    database: Database,
) -> None:
    _create(database)
    with database.transaction(write=True) as session:
        exchange_id = get_exchange(session, "ncmec").id
        begin_fetch(session, exchange_id)
        store_page(session, exchange_id, "page-7", fetched=10, deleted=2, errors=1)
    rotated = {"username": "platform-user", "password": "a-new-password-4411"}
    with database.transaction(write=True) as session:
        replace_credentials(session, "ncmec", rotated, master_key=KEY, actor="admin")
    with database.session() as session:
        exchange = get_exchange(session, "ncmec")
        assert exchange_credentials(exchange, KEY) == rotated
        assert read_checkpoint(session, "ncmec") == "page-7"
        assert (exchange.entries_fetched, exchange.entries_deleted, exchange.record_errors) == (
            10,
            2,
            1,
        )
        assert exchange.fetch_state is FetchState.RUNNING
    replaced = _audits(database)[-1]
    assert replaced.details == {
        "change": "credentials_replaced",
        "old": {},
        "new": {"fields": ["password", "username"]},
    }


def test_switches_and_interval_are_audited_once_per_change(database: Database) -> None:
    _create(database)
    with database.transaction(write=True) as session:
        assert set_exchange_enabled(session, "ncmec", False, actor="admin")
        assert not set_exchange_enabled(session, "ncmec", False, actor="admin")
        assert set_feedback_enabled(session, "ncmec", False, actor="admin")
        assert set_fetch_interval(session, "ncmec", 7200, actor="admin")
        with pytest.raises(InvalidExchangeSetting):
            set_fetch_interval(session, "ncmec", 10**9, actor="admin")
    changes = [r.details["change"] for r in _audits(database) if r.subject_type == "exchange"]
    assert changes == ["created", "disabled", "feedback_disabled", "fetch_interval"]
    with database.session() as session:
        assert verify_chain(session).intact


def test_due_exchanges_follow_their_interval_and_skip_disabled_ones(
    database: Database,
) -> None:
    _create(database, "hourly", fetch_interval_seconds=3600)
    _create(database, "daily", fetch_interval_seconds=86400)
    _create(database, "off")
    now = utcnow()
    with database.transaction(write=True) as session:
        set_exchange_enabled(session, "off", False, actor="admin")
        for name in ("hourly", "daily"):
            begin_fetch(session, get_exchange(session, name).id, now - timedelta(hours=2))
    with database.session() as session:
        assert [e.name for e in due_exchanges(session, now)] == ["hourly"]
        tomorrow = now + timedelta(days=2)
        assert sorted(e.name for e in due_exchanges(session, tomorrow)) == ["daily", "hourly"]


def test_removal_waits_for_pending_feedback_unless_forced_and_keeps_the_lists(
    database: Database,
) -> None:
    _create(database)
    with database.transaction(write=True) as session:
        _enqueue(session)
    with database.transaction(write=True) as session, pytest.raises(FeedbackStillPending):
        remove_exchange(session, "ncmec", actor="admin")
    with database.transaction(write=True) as session:
        assert remove_exchange(session, "ncmec", actor="admin", force=True) == 1
    with database.session() as session:
        assert list_exchanges(session) == []
        assert session.scalar(select(HashList.name)) == "known"
    removed = _audits(database)[-1]
    assert removed.details["change"] == "removed"
    assert removed.details["new"] == {"forced": True, "pending_feedback_dropped": 1}


def test_removal_without_pending_feedback_needs_no_force(database: Database) -> None:
    _create(database)
    with database.transaction(write=True) as session:
        item = _enqueue(session)
        assert item is not None
        mark_feedback_sent(session, item.id)
        assert remove_exchange(session, "ncmec", actor="admin") == 1


def _enqueue(session, verdict: FeedbackVerdict = FeedbackVerdict.NEGATIVE, **kwargs):  # type: ignore[no-untyped-def]
    return enqueue_feedback(
        session,
        "ncmec",
        external_id="entry-1",
        signal_type=SignalType.MD5,
        signal=MD5.upper(),
        verdict=verdict,
        reason="not the content described",
        actor="reviewer",
        **kwargs,
    )


def test_feedback_is_queued_claimed_once_and_sent(database: Database) -> None:
    _create(database)
    now = utcnow()
    with database.transaction(write=True) as session:
        list_id = session.scalar(select(HashList.id).where(HashList.name == "known"))
        entry = ListEntry(list_id=list_id, signal_type=SignalType.MD5, signal=MD5)
        session.add(entry)
        session.flush()
        queued = _enqueue(session, now=now, entry_id=entry.id)
        assert queued is not None and queued.signal == MD5  # normalised
    with database.transaction(write=True) as session:
        [claimed] = claim_due_feedback(session, now, lease_until=now + timedelta(minutes=5))
        assert claimed.id == queued.id
        assert claim_due_feedback(session, now, lease_until=now + timedelta(minutes=5)) == []
    with database.transaction(write=True) as session:
        mark_feedback_sent(session, claimed.id, now=now)
        mark_feedback_sent(session, claimed.id, now=now)  # a late second sender: no change
    with database.session() as session:
        status = exchange_status(session, "ncmec")
        assert status.feedback == {FeedbackState.SENT: 1}
        [shown] = feedback_for_entry(session, entry.id)
        assert (shown.state, shown.attempts, shown.sent_at) == (FeedbackState.SENT, 1, now)
    changes = [r.details["change"] for r in _audits(database)]
    assert changes[-2:] == ["feedback_queued", "feedback_sent"]


def test_failed_feedback_backs_off_then_gives_up(database: Database) -> None:
    _create(database)
    now = utcnow()
    with database.transaction(write=True) as session:
        item = _enqueue(session, now=now)
        assert item is not None
    for attempt in range(1, MAX_ATTEMPTS):
        with database.transaction(write=True) as session:
            state = mark_feedback_failed(
                session, item.id, error="503 from the service", retryable=True, now=now
            )
            assert state is FeedbackState.PENDING
            assert claim_due_feedback(session, now, lease_until=now + timedelta(seconds=1)) == []
            later = now + feedback_backoff(attempt)
            assert len(claim_due_feedback(session, later, lease_until=later + timedelta(1))) == 1
    with database.transaction(write=True) as session:
        assert (
            mark_feedback_failed(session, item.id, error="503 again", retryable=True, now=now)
            is FeedbackState.FAILED
        )
    with database.session() as session:
        [settled] = feedback_of_exchange(session, "ncmec")
        assert (settled.attempts, settled.last_error) == (MAX_ATTEMPTS, "503 again")
    assert feedback_backoff(1) == timedelta(minutes=1)
    assert feedback_backoff(100) == timedelta(hours=6)


def test_a_refused_feedback_fails_at_once(database: Database) -> None:
    _create(database)
    with database.transaction(write=True) as session:
        item = _enqueue(session)
        assert item is not None
        state = mark_feedback_failed(session, item.id, error="400 bad reason", retryable=False)
        assert state is FeedbackState.FAILED
    with database.session() as session:
        assert exchange_statuses(session)[0].failed_feedback == 1


def test_feedback_is_not_queued_when_turned_off_nor_sent_while_disabled(
    database: Database,
) -> None:
    _create(database)
    now = utcnow()
    with database.transaction(write=True) as session:
        assert _enqueue(session) is not None
        set_exchange_enabled(session, "ncmec", False, actor="admin")
    with database.transaction(write=True) as session:
        assert claim_due_feedback(session, now, lease_until=now + timedelta(1)) == []
        set_feedback_enabled(session, "ncmec", False, actor="admin")
        assert _enqueue(session) is None
    with database.session() as session:
        assert exchange_status(session, "ncmec").pending_feedback == 1


def test_bad_feedback_is_refused(database: Database) -> None:
    _create(database)
    with database.transaction(write=True) as session:
        with pytest.raises(InvalidExchangeSetting, match="entry id"):
            enqueue_feedback(
                session,
                "ncmec",
                external_id=" ",
                signal_type="md5",
                signal=MD5,
                verdict="negative",
                actor="reviewer",
            )
        with pytest.raises(ValueError, match="32 hex"):
            enqueue_feedback(
                session,
                "ncmec",
                external_id="e",
                signal_type="md5",
                signal="zz",
                verdict="negative",
                actor="reviewer",
            )
        with pytest.raises(ValueError):
            enqueue_feedback(
                session,
                "ncmec",
                external_id="e",
                signal_type="md5",
                signal=MD5,
                verdict="maybe",
                actor="reviewer",
            )


def test_master_key_rotation_reseals_exchange_credentials(database: Database) -> None:
    _create(database)
    with database.transaction(write=True) as session:
        exchange_id = get_exchange(session, "ncmec").id
        store_page(session, exchange_id, "cp", fetched=0, deleted=0, errors=0)
    new = MasterKey.generate()
    result = rotate_master_key(database, KEY, new, actor="ops")
    assert result.rewritten["exchanges"] == 1
    with database.session() as session:
        exchange = get_exchange(session, "ncmec")
        assert exchange_credentials(exchange, new) == CREDENTIALS
        assert exchange.checkpoint == "cp"
        with pytest.raises(SealedSecretError):
            exchange_credentials(exchange, KEY)
