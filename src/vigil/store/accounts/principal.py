"""Who is acting: a signed-in user or an API key, with what it may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vigil.store.accounts.permissions import Permission


@dataclass(frozen=True, slots=True)
class Principal:
    """``name`` is the username for users and the key prefix for API keys (a key's label is
    not unique, its prefix is)."""

    kind: Literal["user", "api_key"]
    id: int
    name: str
    permissions: frozenset[Permission]
    rate_limit_per_minute: int | None = None
    session_id: int | None = None
    # A person whose password someone else set: no permissions until they replace it.
    must_change_password: bool = False

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"user:{self.name}" if self.kind == "user" else f"key:{self.name}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions
