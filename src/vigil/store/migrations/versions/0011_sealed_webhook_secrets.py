"""Webhook signing secrets are sealed under the evidence master key instead of stored in
plaintext: ``webhook_endpoints.secret`` becomes ``sealed_secret``, and every existing secret
is sealed in place (receivers keep verifying with the secret they have).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Sealing needs the master key: the settings handed over by vigil.store.migrate, else those of
the environment (VIGIL_EVIDENCE__MASTER_KEY, the key file). A database with endpoints and no
key to be found refuses to upgrade rather than keep the secrets readable. The sealed format
("v1", vigil.store.sealed_secrets) is versioned, so this revision keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from vigil.store.evidence.errors import MasterKeyMissing
from vigil.store.evidence.keys import MasterKey, load_master_key
from vigil.store.migrate import migration_settings
from vigil.store.sealed_secrets import is_sealed, open_secret, seal_secret

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSE = "webhook-endpoint"  # as vigil.store.records.outbox.SECRET_PURPOSE
ENDPOINTS = sa.table(
    "webhook_endpoints",
    sa.column("id", sa.Integer()),
    sa.column("secret", sa.String()),
    sa.column("sealed_secret", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column(
            "secret",
            new_column_name="sealed_secret",
            existing_type=sa.String(length=128),
            type_=sa.String(length=256),
            existing_nullable=False,
        )
    _rewrite(
        "sealed_secret",
        lambda key, text: text if is_sealed(text) else seal_secret(key, text, PURPOSE),
    )


def downgrade() -> None:
    _rewrite(
        "sealed_secret",
        lambda key, text: open_secret(key, text, PURPOSE) if is_sealed(text) else text,
    )
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column(
            "sealed_secret",
            new_column_name="secret",
            existing_type=sa.String(length=256),
            type_=sa.String(length=128),
            existing_nullable=False,
        )


def _rewrite(column: str, change: Callable[[MasterKey, str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(ENDPOINTS.c.id, ENDPOINTS.c[column])).all()
    if not rows:
        return  # nothing to seal: no key needed
    key = _master_key(len(rows))
    for endpoint_id, text in rows:
        connection.execute(
            sa.update(ENDPOINTS)
            .where(ENDPOINTS.c.id == endpoint_id)
            .values({column: change(key, text)})
        )


def _master_key(count: int) -> MasterKey:
    try:
        return load_master_key(migration_settings(context.config))
    except MasterKeyMissing as exc:
        raise MasterKeyMissing(
            f"{count} webhook signing secret(s) must be sealed under the evidence master key, "
            f"and none was found ({exc}); configure it, then run `vigil db upgrade` again"
        ) from None
