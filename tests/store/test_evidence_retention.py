"""Legal holds and the retention purge, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.settings import load_settings
from vigil.store.evidence import (
    EvidenceShredded,
    EvidenceUnderHold,
    EvidenceVault,
    HoldPolicy,
    LocalEvidenceBackend,
    MasterKey,
    active_holds,
    place_preservation_hold,
    place_report_hold,
    purge_expired,
    release_hold,
)
from vigil.store.models import EvidenceItem, EvidencePurge, HoldKind

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = HoldPolicy(report_days=365, report_days_by_jurisdiction={"DE": 730}, preservation_days=90)


@pytest.fixture
def vault(tmp_path: Path) -> EvidenceVault:
    return EvidenceVault(
        LocalEvidenceBackend(tmp_path / "evidence"),
        MasterKey.generate(),
        max_bytes=1 << 20,
        retention=timedelta(days=30),
    )


def store(session: Session, vault: EvidenceVault) -> EvidenceItem:
    return vault.put(session, os.urandom(512), now=T0)


def days(count: int) -> datetime:
    return T0 + timedelta(days=count)


def test_active_hold_blocks_shredding_by_anyone(session: Session, vault: EvidenceVault) -> None:
    item = store(session, vault)
    hold = place_report_hold(
        session, item.id, placed_by="analyst", reason="reported to NCMEC", policy=POLICY, now=T0
    )
    assert hold.kind is HoldKind.REPORT and hold.expires_at == days(365)
    with pytest.raises(EvidenceUnderHold, match="legal hold"):
        vault.shred(session, item.id, actor="admin", reason="cleanup", now=days(10))
    assert vault.get(session, item.id)  # untouched
    release_hold(session, hold.id, released_by="legal", now=days(11))
    vault.shred(session, item.id, actor="admin", reason="case closed", now=days(12))
    with pytest.raises(EvidenceShredded):
        vault.get(session, item.id)


def test_report_hold_period_per_jurisdiction(session: Session, vault: EvidenceVault) -> None:
    item = store(session, vault)
    hold = place_report_hold(
        session,
        item.id,
        placed_by="analyst",
        reason="report",
        policy=POLICY,
        jurisdiction="DE",
        now=T0,
    )
    assert hold.expires_at == days(730)


def test_purge_destroys_only_expired_unheld_items_and_records_why(
    session: Session, vault: EvidenceVault
) -> None:
    expired, held, fresh = store(session, vault), store(session, vault), store(session, vault)
    fresh.retain_until = days(400)
    session.commit()
    place_report_hold(session, held.id, placed_by="analyst", reason="report", policy=POLICY, now=T0)

    purges = purge_expired(session, vault, now=days(31))

    assert [purge.item_id for purge in purges] == [expired.id]
    record = session.scalars(select(EvidencePurge)).one()
    assert record.actor == "retention" and record.purged_at == days(31)
    assert record.retain_until == days(30) and "retention expired" in record.reason
    assert "no active legal hold" in record.reason
    assert vault.get(session, held.id) and vault.get(session, fresh.id)
    assert purge_expired(session, vault, now=days(31)) == []  # nothing twice

    # Once the report hold expires, the held item goes too.
    assert [p.item_id for p in purge_expired(session, vault, now=days(366))] == [held.id]


def test_preservation_request_extends_the_hold(session: Session, vault: EvidenceVault) -> None:
    item = store(session, vault)
    place_report_hold(session, item.id, placed_by="analyst", reason="report", policy=POLICY, now=T0)
    preservation = place_preservation_hold(
        session,
        item.id,
        placed_by="legal",
        reason="preservation request 2703(f)",
        policy=POLICY,
        now=days(300),
    )
    assert preservation.kind is HoldKind.PRESERVATION_REQUEST
    assert preservation.expires_at == days(365 + 90)

    assert purge_expired(session, vault, now=days(400)) == []
    assert [hold.id for hold in active_holds(session, item.id, days(400))] == [preservation.id]
    with pytest.raises(EvidenceUnderHold):
        vault.shred(session, item.id, actor="admin", reason="cleanup", now=days(400))

    assert [p.item_id for p in purge_expired(session, vault, now=days(456))] == [item.id]


def test_no_holds_on_shredded_items(session: Session, vault: EvidenceVault) -> None:
    item = store(session, vault)
    vault.shred(session, item.id, actor="admin", reason="duplicate", now=days(1))
    with pytest.raises(EvidenceShredded):
        place_report_hold(
            session, item.id, placed_by="analyst", reason="late", policy=POLICY, now=days(2)
        )


def test_hold_policy_from_settings(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        evidence={
            "report_hold_days": 400,
            "report_hold_days_by_jurisdiction": {"UK": 500},
            "preservation_days": 180,
        },
    )
    policy = HoldPolicy.from_settings(settings)
    assert policy.report_period(None) == timedelta(days=400)
    assert policy.report_period("UK") == timedelta(days=500)
    assert policy.preservation_days == 180
    assert settings.evidence_dir == tmp_path.resolve() / "evidence"
