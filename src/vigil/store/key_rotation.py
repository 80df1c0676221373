"""Rotating the evidence master key: everything sealed under the current key moves to a new
one (each evidence item's wrapped data key, each webhook signing secret, each second-factor
secret, each hash exchange's credentials), so that afterwards the new key alone opens them
and the old one can be retired.

Rows are rewritten in batches, each batch one transaction; every row names the key it is
under, so an interrupted rotation is resumed by running it again (rows already under the new
key are not touched) and no row is ever half rewritten. Evidence blobs are not touched: only
the small wrapped data key of each item changes. The rotation finishes only when no row is
left under the old key, with an audit record of the counts and key ids, never key material.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from sqlalchemy import ColumnElement, and_, func, not_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from vigil.store.accounts.totp import totp_purpose
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.database import Database
from vigil.store.errors import StoreError
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import credentials_purpose
from vigil.store.models import EvidenceItem, Exchange, User, WebhookEndpoint
from vigil.store.records.outbox import SECRET_PURPOSE as WEBHOOK_PURPOSE
from vigil.store.sealed_secrets import SealedSecretError, reseal_secret, sealed_prefix

BATCH_SIZE = 200  # rows per transaction: short write locks, little lost to a crash

BatchDone = Callable[[str, int], None]  # (kind, rows rewritten), after each committed batch


class KeyRotationError(StoreError):
    """The rotation cannot finish: the same key twice, a row that does not open under the
    current key, or rows still under it at the end. Rows already moved stay moved."""


class _Kind(Protocol):
    """One kind of row that holds something sealed under the master key."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> type[Any]: ...

    def under(self, key_id: str) -> ColumnElement[bool]: ...

    def elsewhere(self, old_id: str, new_id: str) -> ColumnElement[bool]: ...

    def rewrite(self, row: Any, old: MasterKey, new: MasterKey) -> None: ...


class _EvidenceKeys:
    """Evidence items: the data key is unwrapped and wrapped again; shredded items have no
    key left and are not touched."""

    name, model = "evidence_items", EvidenceItem
    _live = and_(EvidenceItem.wrapped_key.is_not(None), EvidenceItem.key_nonce.is_not(None))

    def under(self, key_id: str) -> ColumnElement[bool]:
        return and_(EvidenceItem.master_key_id == key_id, self._live)

    def elsewhere(self, old_id: str, new_id: str) -> ColumnElement[bool]:
        return and_(EvidenceItem.master_key_id.not_in([old_id, new_id]), self._live)

    def rewrite(self, row: EvidenceItem, old: MasterKey, new: MasterKey) -> None:
        assert row.key_nonce is not None and row.wrapped_key is not None  # _live
        try:
            data_key = old.unwrap(row.key_nonce, row.wrapped_key, row.id)
        except InvalidTag:
            raise KeyRotationError(
                f"evidence item {row.id}: its wrapped data key does not open under key "
                f"{old.key_id} (damaged); nothing of this batch was changed"
            ) from None
        row.key_nonce, row.wrapped_key = new.wrap(data_key, row.id)
        row.master_key_id = new.key_id


@dataclass(frozen=True)
class _SealedColumn:
    """A text column of sealed secrets (vigil.store.sealed_secrets)."""

    name: str
    model: type[Any]
    column: InstrumentedAttribute[Any]
    purpose: Callable[[Any], str]

    def under(self, key_id: str) -> ColumnElement[bool]:
        return self.column.startswith(sealed_prefix(key_id), autoescape=True)

    def elsewhere(self, old_id: str, new_id: str) -> ColumnElement[bool]:
        return and_(self.column.is_not(None), not_(self.under(old_id)), not_(self.under(new_id)))

    def rewrite(self, row: Any, old: MasterKey, new: MasterKey) -> None:
        try:
            resealed = reseal_secret(old, new, getattr(row, self.column.key), self.purpose(row))
        except SealedSecretError as exc:
            raise KeyRotationError(
                f"{self.name} of row {row.id}: {exc}; nothing of this batch was changed"
            ) from None
        setattr(row, self.column.key, resealed)


KINDS: tuple[_Kind, ...] = (
    _EvidenceKeys(),
    _SealedColumn(
        "webhook_endpoints",
        WebhookEndpoint,
        WebhookEndpoint.sealed_secret,
        lambda _endpoint: WEBHOOK_PURPOSE,
    ),
    _SealedColumn(
        "second_factors", User, User.sealed_totp_secret, lambda user: totp_purpose(user.id)
    ),
    _SealedColumn(
        "exchanges",
        Exchange,
        Exchange.sealed_credentials,
        lambda exchange: credentials_purpose(exchange.name),
    ),
)


@dataclass(frozen=True)
class RotationResult:
    old_key_id: str
    new_key_id: str
    rewritten: dict[str, int]  # per kind, by this run (earlier runs' rows are not counted)
    elsewhere: dict[str, int]  # per kind, under a third key: neither read nor changed


def rotate_master_key(
    database: Database,
    old: MasterKey,
    new: MasterKey,
    *,
    actor: str,
    batch_size: int = BATCH_SIZE,
    on_batch: BatchDone | None = None,
) -> RotationResult:
    """Move every row under ``old`` to ``new``; see the module docstring."""
    if old.key_id == new.key_id:
        raise KeyRotationError(f"the new key is the current key ({old.key_id})")
    rewritten = dict.fromkeys((kind.name for kind in KINDS), 0)
    while True:
        # Another pass catches rows sealed under the old key while the last one ran.
        moved = {
            kind.name: _rotate(database, kind, old, new, batch_size, on_batch) for kind in KINDS
        }
        for name, count in moved.items():
            rewritten[name] += count
        if not any(moved.values()):
            break
    with database.transaction(write=True) as session:
        remaining = _counts(session, lambda kind: kind.under(old.key_id))
        if any(remaining.values()):
            raise KeyRotationError(
                f"rows are still under key {old.key_id} ({remaining}): "
                "something sealed them meanwhile; run the rotation again"
            )
        elsewhere = _counts(session, lambda kind: kind.elsewhere(old.key_id, new.key_id))
        AuditLog(session).append(
            AuditAction.MASTER_KEY_ROTATED,
            actor=actor,
            subject_type="master_key",
            subject_id=new.key_id,
            details={
                "from_key_id": old.key_id,
                "to_key_id": new.key_id,
                **rewritten,
                "under_other_keys": sum(elsewhere.values()),
            },
        )
    return RotationResult(old.key_id, new.key_id, rewritten, elsewhere)


def _rotate(
    database: Database,
    kind: _Kind,
    old: MasterKey,
    new: MasterKey,
    batch_size: int,
    on_batch: BatchDone | None,
) -> int:
    """One pass over ``kind`` in id order; returns how many rows it moved."""
    done, after = 0, None
    while True:
        with database.transaction(write=True) as session:
            query = select(kind.model).where(kind.under(old.key_id))
            if after is not None:
                query = query.where(kind.model.id > after)
            # The row lock keeps a concurrent shredding from being undone by the rewrite.
            rows = session.scalars(
                query.order_by(kind.model.id).limit(batch_size).with_for_update()
            ).all()
            for row in rows:
                kind.rewrite(row, old, new)
            after = rows[-1].id if rows else after
        if not rows:
            return done
        done += len(rows)
        if on_batch is not None:
            on_batch(kind.name, len(rows))


def _counts(session: Session, condition: Callable[[_Kind], ColumnElement[bool]]) -> dict[str, int]:
    return {
        kind.name: session.scalar(
            select(func.count()).select_from(kind.model).where(condition(kind))
        )
        or 0
        for kind in KINDS
    }
