"""What each role and API key may do: least privilege, spelled out in one table.

Only reviewers may view media: administrators and auditors see aggregate data and the audit
log, never content, so holding an admin account does not expose anyone to abusive material.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from vigil.store.accounts.errors import InvalidScope
from vigil.store.models.accounts import Role


class Permission(StrEnum):
    SCREEN = "screen"
    FLAG = "flag"
    RECORDS_READ = "records:read"
    MEDIA_VIEW = "media:view"
    DECIDE = "review:decide"
    REPORTS_SUBMIT = "reports:submit"
    LISTS_READ = "lists:read"
    LISTS_MANAGE = "lists:manage"
    WEBHOOKS_MANAGE = "webhooks:manage"
    USERS_MANAGE = "users:manage"
    KEYS_MANAGE = "keys:manage"
    AUDIT_READ = "audit:read"
    EVIDENCE_HOLD = "evidence:hold"
    TRIAGE = "triage:manage"  # assign, override priorities, route by hand, notes
    AGENCIES_MANAGE = "agencies:manage"  # agencies, their members and routing rules
    AGENCY_WORK = "agency:work"  # an agency's own queue: accept, decline, ask, outcomes
    STATS_READ = "stats:read"


ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.ADMIN: frozenset(
            {
                Permission.USERS_MANAGE,
                Permission.KEYS_MANAGE,
                Permission.WEBHOOKS_MANAGE,
                Permission.LISTS_READ,
                Permission.RECORDS_READ,
                Permission.AUDIT_READ,
                Permission.EVIDENCE_HOLD,
                Permission.AGENCIES_MANAGE,
                Permission.STATS_READ,
            }
        ),
        Role.LIST_CURATOR: frozenset(
            {
                Permission.LISTS_READ,
                Permission.LISTS_MANAGE,
                Permission.RECORDS_READ,
            }
        ),
        Role.REVIEWER: frozenset(
            {
                Permission.RECORDS_READ,
                Permission.MEDIA_VIEW,
                Permission.DECIDE,
                Permission.FLAG,
                Permission.LISTS_READ,
                Permission.TRIAGE,
                Permission.STATS_READ,
            }
        ),
        Role.REPORT_SUBMITTER: frozenset(
            {
                Permission.RECORDS_READ,
                Permission.REPORTS_SUBMIT,
                Permission.EVIDENCE_HOLD,
            }
        ),
        Role.AUDITOR: frozenset(
            {
                Permission.AUDIT_READ,
                Permission.RECORDS_READ,
                Permission.LISTS_READ,
                Permission.STATS_READ,
            }
        ),
        # Agencies see only what is routed to them, enforced per query (vigil.agency.scope);
        # files only where their agency may receive media.
        Role.AGENCY: frozenset({Permission.AGENCY_WORK}),
    }
)

# What a machine may be granted. Account, key, list and review powers stay with people, so a
# leaked key cannot mint keys, edit lists or decide cases. media:view only when asked for.
API_KEY_SCOPES: frozenset[Permission] = frozenset(
    {
        Permission.SCREEN,
        Permission.FLAG,
        Permission.RECORDS_READ,
        Permission.LISTS_READ,
        Permission.WEBHOOKS_MANAGE,
        Permission.MEDIA_VIEW,
    }
)

_MAX_SCOPES = 32  # bounds the work a hostile request can ask for

# Powers over accounts and keys: whoever holds them could hand themselves anything else, so
# their media access needs a second administrator's approval (vigil.store.accounts.grants).
ADMINISTRATION: frozenset[Permission] = frozenset({Permission.USERS_MANAGE, Permission.KEYS_MANAGE})


def permissions_for_roles(roles: Iterable[Role]) -> frozenset[Permission]:
    """The union of the roles' permissions."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[Role(role)]
    return frozenset(granted)


def roles_need_second_approval(
    roles: Iterable[Role], previous: Iterable[Role], *, self_granted: bool
) -> bool:
    """Would these roles newly let an administrator view media, or give media access to the
    person making the change? (Losing a power never needs approval.)"""
    granted, before = permissions_for_roles(roles), permissions_for_roles(previous)
    if Permission.MEDIA_VIEW not in granted:
        return False
    if self_granted and Permission.MEDIA_VIEW not in before:
        return True
    combined_before = Permission.MEDIA_VIEW in before and bool(before & ADMINISTRATION)
    return bool(granted & ADMINISTRATION) and not combined_before


def media_roles(roles: Iterable[Role]) -> frozenset[Role]:
    """The roles among these that carry media access."""
    return frozenset(
        role for role in roles if Permission.MEDIA_VIEW in ROLE_PERMISSIONS[Role(role)]
    )


def scopes_need_second_approval(scopes: Iterable[Permission]) -> bool:
    """Keys are made by administrators: a key that fetches media needs a second one."""
    return Permission.MEDIA_VIEW in set(scopes)


def parse_scopes(values: Iterable[str]) -> frozenset[Permission]:
    """API key scopes from their names; InvalidScope for unknown, non-grantable or none."""
    scopes: set[Permission] = set()
    for count, value in enumerate(values, start=1):
        if count > _MAX_SCOPES:
            raise InvalidScope(f"too many scopes (at most {_MAX_SCOPES})")
        scopes.add(_grantable(value))
    if not scopes:
        raise InvalidScope("an API key needs at least one scope")
    return frozenset(scopes)


def _grantable(value: str) -> Permission:
    name = value.strip() if isinstance(value, str) else ""
    try:
        permission = Permission(name)
    except ValueError:
        raise InvalidScope(f"unknown scope {name[:40]!r} (choose from {_choices()})") from None
    if permission not in API_KEY_SCOPES:
        raise InvalidScope(
            f"scope {permission.value!r} cannot be granted to an API key (choose from {_choices()})"
        )
    return permission


def _choices() -> str:
    return ", ".join(sorted(API_KEY_SCOPES))
