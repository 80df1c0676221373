"""Answers of the administration routes: people's accounts, API keys and the media-access
grants a second administrator decides. Secrets appear once: a generated first password and a
new key's token, each only in the answer that created it."""

from __future__ import annotations

from vigil.api.answers import Answer, Time


class AccessGrant(Answer):
    """Media access asked for a person (``roles``) or an API key (``scopes``)."""

    id: int
    kind: str
    state: str
    username: str | None
    roles: list[str] | None
    previous_roles: list[str] | None
    api_key: str | None
    scopes: list[str] | None
    requested_by: str
    requested_at: Time
    decided_by: str | None
    decided_at: Time | None


class AccessGrants(Answer):
    grants: list[AccessGrant]


class UserAccount(Answer):
    username: str
    display_name: str
    roles: list[str]
    second_factor: bool
    disabled: bool
    must_change_password: bool
    created_at: Time


class UserAccounts(Answer):
    users: list[UserAccount]


class NewUserAccount(UserAccount):
    """``initial_password`` only when none was given (the route answers with
    ``response_model_exclude_unset``): the person must change it at first sign-in."""

    pending_roles: list[str] | None
    initial_password: str | None = None


class ChangedUserAccount(UserAccount):
    """``pending_grant`` (status 202) when a role asked for waits for a second administrator."""

    pending_grant: AccessGrant | None


class EnabledUserAccount(UserAccount):
    """``enabled`` is False when the account was not disabled (nothing changed, no record)."""

    enabled: bool


class ResetUserAccount(UserAccount):
    """``one_time_password`` only when Vigil made it up (the route answers with
    ``response_model_exclude_unset``); a password the client chose is never echoed. Either
    must be replaced at the next sign-in."""

    one_time_password: str | None = None


class ApiKeySummary(Answer):
    prefix: str
    name: str
    scopes: list[str]
    created_by: str
    created_at: Time | None
    expires_at: Time | None
    revoked_at: Time | None
    last_used_at: Time | None
    rate_limit_per_minute: int | None
    awaiting_approval: bool


class ApiKeys(Answer):
    api_keys: list[ApiKeySummary]


class CreatedApiKey(ApiKeySummary):
    """The token is in this answer only."""

    token: str
    pending_grant: AccessGrant | None
