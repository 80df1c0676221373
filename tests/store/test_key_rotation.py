"""Rotating the evidence master key on SQLite and PostgreSQL: evidence, webhook and
second-factor secrets open with the new key alone afterwards and no longer with the old one;
an interrupted rotation resumes without losing a row; damage and a third key are reported.
Content is random bytes only."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vigil.store import Database
from vigil.store.accounts import (
    Role,
    authenticate,
    begin_totp_enrolment,
    confirm_totp,
    create_user,
)
from vigil.store.audit import AuditAction, AuditRecord, verify_chain
from vigil.store.evidence import (
    EvidenceVault,
    LocalEvidenceBackend,
    MasterKey,
    WrongMasterKey,
)
from vigil.store.key_rotation import KeyRotationError, rotate_master_key
from vigil.store.models import EvidenceItem, User, WebhookEndpoint
from vigil.store.records.outbox import endpoint_secret, register_endpoint
from vigil.store.sealed_secrets import SealedSecretError

pytestmark = pytest.mark.usefixtures("cheap_argon2")

PASSWORD = "a-long-enough-passphrase"
NOW = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)
ITEMS = 5


class Crash(Exception):
    """Stands for the process dying between two batches."""


@dataclass
class World:
    """What an older Vigil sealed under ``old``: plaintexts kept to compare after."""

    old: MasterKey
    evidence: dict[str, bytes]  # item id -> content, the live items
    shredded: str
    webhooks: dict[int, str]  # endpoint id -> signing secret
    apps: dict[str, pyotp.TOTP]  # username -> authenticator


def _vault(tmp_path: Path, key: MasterKey) -> EvidenceVault:
    return EvidenceVault(
        LocalEvidenceBackend(tmp_path / "evidence"),
        key,
        max_bytes=1 << 20,
        retention=timedelta(days=30),
    )


@pytest.fixture
def world(database: Database, tmp_path: Path) -> World:
    old = MasterKey.generate()
    vault = _vault(tmp_path, old)
    with database.session() as session:
        evidence = {}
        for _ in range(ITEMS + 1):
            content = os.urandom(256)
            evidence[vault.put(session, content).id] = content
        shredded = next(iter(evidence))
        vault.shred(session, shredded, actor="test", reason="retention")
        del evidence[shredded]
        webhooks = {}
        for number in range(3):
            endpoint, secret = register_endpoint(
                session, f"https://8.8.8.{number}/h", ["verdict"], created_by="test", master_key=old
            )
            webhooks[endpoint.id] = secret
        apps = {name: _enrol(session, name, old) for name in ("dave", "erin")}
        session.commit()
    return World(old, evidence, shredded, webhooks, apps)


def _enrol(session: Session, name: str, key: MasterKey) -> pyotp.TOTP:
    user = create_user(session, name, PASSWORD, [Role.REVIEWER], actor="cli:root")
    uri = begin_totp_enrolment(session, user, master_key=key)
    app = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    assert confirm_totp(session, user, app.at(NOW), actor=name, master_key=key, now=NOW)
    return app


def _everything_opens(database: Database, tmp_path: Path, world: World, key: MasterKey) -> None:
    vault = _vault(tmp_path, key)
    with database.session() as session:
        for item_id, content in world.evidence.items():
            assert vault.get(session, item_id) == content
        for endpoint_id, secret in world.webhooks.items():
            endpoint = session.get(WebhookEndpoint, endpoint_id)
            assert endpoint is not None and endpoint_secret(endpoint, key) == secret
        for name, app in world.apps.items():
            assert authenticate(
                session, name, PASSWORD, totp_code=app.at(LATER), now=LATER, master_key=key
            ).ok
        session.rollback()  # the accepted time steps: every check may run again


def _nothing_opens(database: Database, tmp_path: Path, world: World, key: MasterKey) -> None:
    vault = _vault(tmp_path, key)
    with database.session() as session:
        for item_id in world.evidence:
            with pytest.raises(WrongMasterKey):
                vault.get(session, item_id)
        for endpoint_id in world.webhooks:
            endpoint = session.get(WebhookEndpoint, endpoint_id)
            assert endpoint is not None
            with pytest.raises(SealedSecretError):
                endpoint_secret(endpoint, key)
        for name, app in world.apps.items():
            outcome = authenticate(
                session, name, PASSWORD, totp_code=app.at(LATER), now=LATER, master_key=key
            )
            assert outcome.reason == "second_factor_unavailable"
        session.rollback()


def _rotation_records(database: Database) -> list[AuditRecord]:
    with database.session() as session:
        return list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == AuditAction.MASTER_KEY_ROTATED)
                .order_by(AuditRecord.seq)
            )
        )


def test_after_rotation_the_new_key_alone_opens_everything(
    database: Database, tmp_path: Path, world: World
) -> None:
    _everything_opens(database, tmp_path, world, world.old)
    new = MasterKey.generate()
    result = rotate_master_key(database, world.old, new, actor="ops", batch_size=2)
    assert result.rewritten == {
        "evidence_items": ITEMS,
        "webhook_endpoints": 3,
        "second_factors": 2,
        "exchanges": 0,
    }
    assert not any(result.elsewhere.values())
    _everything_opens(database, tmp_path, world, new)
    _nothing_opens(database, tmp_path, world, world.old)
    with database.session() as session:
        shredded = session.get(EvidenceItem, world.shredded)
        assert shredded is not None and shredded.wrapped_key is None  # stays destroyed
    with database.session() as session:
        assert verify_chain(session).intact
    [record] = _rotation_records(database)
    assert (record.actor, record.subject_id) == ("ops", new.key_id)
    assert record.details == {
        "from_key_id": world.old.key_id,
        "to_key_id": new.key_id,
        "evidence_items": ITEMS,
        "webhook_endpoints": 3,
        "second_factors": 2,
        "exchanges": 0,
        "under_other_keys": 0,
    }
    recorded = json.dumps(record.details)
    for key in (world.old, new):
        assert base64.b64encode(key.material).decode() not in recorded
        assert key.material.hex() not in recorded


def test_an_interrupted_rotation_resumes_without_losing_a_row(
    database: Database, tmp_path: Path, world: World
) -> None:
    new = MasterKey.generate()
    batches: list[tuple[str, int]] = []

    def crash_after_two_batches(kind: str, count: int) -> None:
        batches.append((kind, count))
        if len(batches) == 2:
            raise Crash

    with pytest.raises(Crash):
        rotate_master_key(
            database, world.old, new, actor="ops", batch_size=2, on_batch=crash_after_two_batches
        )
    assert batches == [("evidence_items", 2), ("evidence_items", 2)]
    with database.session() as session:
        under = [
            item.master_key_id
            for item in session.scalars(
                select(EvidenceItem).where(EvidenceItem.id.in_(world.evidence))
            )
        ]
    assert sorted(under) == sorted([new.key_id] * 4 + [world.old.key_id] * (ITEMS - 4))
    # Half way, every item still opens under the key its row names.
    vaults = {key.key_id: _vault(tmp_path, key) for key in (world.old, new)}
    with database.session() as session:
        for item_id, content in world.evidence.items():
            item = session.get(EvidenceItem, item_id)
            assert item is not None
            assert vaults[item.master_key_id].get(session, item_id) == content
    assert _rotation_records(database) == []  # unfinished: not recorded as done

    resumed = rotate_master_key(database, world.old, new, actor="ops", batch_size=2)
    assert resumed.rewritten == {
        "evidence_items": ITEMS - 4,
        "webhook_endpoints": 3,
        "second_factors": 2,
        "exchanges": 0,
    }
    _everything_opens(database, tmp_path, world, new)
    _nothing_opens(database, tmp_path, world, world.old)
    again = rotate_master_key(database, world.old, new, actor="ops")  # nothing left to do
    assert not any(again.rewritten.values())
    assert len(_rotation_records(database)) == 2


def test_a_damaged_row_stops_the_rotation_and_its_batch_is_untouched(
    database: Database, tmp_path: Path, world: World
) -> None:
    damaged = sorted(world.evidence)[-1]  # in the last batch
    with database.session() as session:
        item = session.get(EvidenceItem, damaged)
        assert item is not None and item.wrapped_key is not None
        item.wrapped_key = bytes([item.wrapped_key[0] ^ 1]) + item.wrapped_key[1:]
        session.commit()
    new = MasterKey.generate()
    with pytest.raises(KeyRotationError, match=damaged):
        rotate_master_key(database, world.old, new, actor="ops", batch_size=3)
    with database.session() as session:
        keys = {
            item.id: item.master_key_id
            for item in session.scalars(select(EvidenceItem))
            if item.wrapped_key is not None
        }
    moved = sorted(world.evidence)[:3]  # the first batch committed, the second did not
    assert {item_id for item_id, key_id in keys.items() if key_id == new.key_id} == set(moved)
    assert _rotation_records(database) == []


def test_a_damaged_sealed_secret_stops_the_rotation(database: Database, world: World) -> None:
    with database.session() as session:
        session.execute(
            update(User)
            .where(User.username == "erin")
            .values(sealed_totp_secret=f"v1:{world.old.key_id}:AAAA")
        )
        session.commit()
    with pytest.raises(KeyRotationError, match="second_factors"):
        rotate_master_key(database, world.old, MasterKey.generate(), actor="ops")
    assert _rotation_records(database) == []


def test_the_same_key_twice_is_refused(database: Database, world: World) -> None:
    with pytest.raises(KeyRotationError, match="the new key is the current key"):
        rotate_master_key(database, world.old, MasterKey(world.old.material), actor="ops")


def test_rows_under_a_third_key_are_reported_and_left_alone(
    database: Database, tmp_path: Path, world: World
) -> None:
    stranger = MasterKey.generate()
    with database.session() as session:
        foreign = _vault(tmp_path, stranger).put(session, os.urandom(64)).id
        register_endpoint(
            session, "https://8.8.4.4/h", ["verdict"], created_by="test", master_key=stranger
        )
        session.commit()
    new = MasterKey.generate()
    result = rotate_master_key(database, world.old, new, actor="ops")
    assert result.elsewhere == {
        "evidence_items": 1,
        "webhook_endpoints": 1,
        "second_factors": 0,
        "exchanges": 0,
    }
    with database.session() as session:
        item = session.get(EvidenceItem, foreign)
        assert item is not None and item.master_key_id == stranger.key_id
    assert _rotation_records(database)[0].details["under_other_keys"] == 2


def test_a_rotation_with_nothing_sealed_is_recorded(database: Database) -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    result = rotate_master_key(database, old, new, actor="ops")
    assert not any(result.rewritten.values())
    assert len(_rotation_records(database)) == 1
