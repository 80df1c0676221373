"""Second-factor (TOTP) secrets are sealed under the evidence master key instead of stored in
plaintext (issue 14, item 7): ``users.totp_secret`` becomes ``sealed_totp_secret`` (wide
enough for a sealed value), and every existing secret is sealed in place, bound to its user
(authenticator apps keep working: the secret itself does not change). Also the audit action
``master_key_rotated`` (`vigil evidence rotate-key`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Sealing needs the master key, found as in 0011: the settings handed over by
vigil.store.migrate, else those of the environment. A database with second factors and no key
to be found refuses to upgrade rather than keep the secrets readable. The purpose string and
the sealed format ("v1") are spelled out or versioned, so this revision keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from vigil.store.evidence.errors import MasterKeyMissing
from vigil.store.evidence.keys import MasterKey, load_master_key
from vigil.store.migrate import migration_settings
from vigil.store.migrations.allowed_values import set_allowed_values
from vigil.store.sealed_secrets import is_sealed, open_secret, seal_secret

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ACTIONS = (
    "sign_in",
    "key_created",
    "media_viewed",
    "decision",
    "report",
    "deletion",
    "export",
    "setting_changed",
    "sign_in_failed",
    "sign_out",
    "user_created",
    "user_changed",
    "key_revoked",
    "webhook_changed",
    "escalation",
    "assignment",
    "triage_override",
    "triage_weights",
    "routing",
    "referral_action",
    "outcome",
    "info_request",
    "agency_changed",
    "access_grant",
    "sign_in_alert",
)
NEW_ACTIONS = (*OLD_ACTIONS, "master_key_rotated")
USERS = sa.table(
    "users",
    sa.column("id", sa.Integer()),
    sa.column("totp_secret", sa.String()),
    sa.column("sealed_totp_secret", sa.String()),
)


def purpose(user_id: int) -> str:
    return f"totp-secret:user:{user_id}"  # as vigil.store.accounts.totp.totp_purpose


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column(
            "totp_secret",
            new_column_name="sealed_totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=256),
            existing_nullable=True,
        )
    _rewrite(
        "sealed_totp_secret",
        lambda key, user_id, text: (
            text if is_sealed(text) else seal_secret(key, text, purpose(user_id))
        ),
    )
    set_allowed_values("audit_records", "ck_audit_records_audit_action", "action", NEW_ACTIONS)


def downgrade() -> None:
    set_allowed_values("audit_records", "ck_audit_records_audit_action", "action", OLD_ACTIONS)
    _rewrite(
        "sealed_totp_secret",
        lambda key, user_id, text: (
            open_secret(key, text, purpose(user_id)) if is_sealed(text) else text
        ),
    )
    with op.batch_alter_table("users") as batch:
        batch.alter_column(
            "sealed_totp_secret",
            new_column_name="totp_secret",
            existing_type=sa.String(length=256),
            type_=sa.String(length=64),
            existing_nullable=True,
        )


def _rewrite(column: str, change: Callable[[MasterKey, int, str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(USERS.c.id, USERS.c[column]).where(USERS.c[column].is_not(None))
    ).all()
    if not rows:
        return  # no second factor enrolled: no key needed
    key = _master_key(len(rows))
    for user_id, text in rows:
        connection.execute(
            sa.update(USERS)
            .where(USERS.c.id == user_id)
            .values({column: change(key, user_id, text)})
        )


def _master_key(count: int) -> MasterKey:
    try:
        return load_master_key(migration_settings(context.config))
    except MasterKeyMissing as exc:
        raise MasterKeyMissing(
            f"{count} second-factor secret(s) must be sealed under the evidence master key, "
            f"and none was found ({exc}); configure it, then run `vigil db upgrade` again"
        ) from None
