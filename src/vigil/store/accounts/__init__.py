"""Accounts: users with roles and argon2 passwords, sign-in (lockout, TOTP), browser sessions
with CSRF tokens, scoped API keys, and the first-run administrator. See docs/accounts.md."""

from vigil.store.accounts.api_keys import (
    create_api_key,
    find_api_key,
    list_api_keys,
    principal_for_key,
    revoke_api_key,
    verify_api_key,
)
from vigil.store.accounts.bootstrap import bootstrap_admin
from vigil.store.accounts.errors import (
    AccountError,
    DuplicateUser,
    GrantClosed,
    InvalidAccountInput,
    InvalidCredentials,
    InvalidScope,
    SecondApproverRequired,
    SecondFactorUnavailable,
    UnknownAccount,
    WeakPassword,
)
from vigil.store.accounts.grant_requests import grant_summary
from vigil.store.accounts.grants import (
    approve_grant,
    grant_for_key,
    list_grants,
    pending_roles,
    refuse_grant,
)
from vigil.store.accounts.one_time_passwords import reset_password
from vigil.store.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from vigil.store.accounts.permissions import (
    API_KEY_SCOPES,
    ROLE_PERMISSIONS,
    Permission,
    parse_scopes,
    permissions_for_roles,
)
from vigil.store.accounts.principal import Principal
from vigil.store.accounts.sessions import (
    check_csrf,
    end_session,
    principal_for_session,
    resolve_session,
    revoke_user_sessions,
    start_session,
)
from vigil.store.accounts.sign_in import SignInOutcome, authenticate
from vigil.store.accounts.totp import (
    begin_totp_enrolment,
    confirm_totp,
    disable_totp,
    verify_totp,
)
from vigil.store.accounts.users import (
    change_own_password,
    create_user,
    disable_user,
    find_user,
    list_users,
    parse_roles,
    set_password,
    set_roles,
    user_by_id,
)
from vigil.store.models.accounts import AccessGrant, ApiKey, GrantState, Role, User, UserSession

__all__ = [
    "API_KEY_SCOPES",
    "MAX_PASSWORD_LENGTH",
    "ROLE_PERMISSIONS",
    "AccessGrant",
    "AccountError",
    "ApiKey",
    "DuplicateUser",
    "GrantClosed",
    "GrantState",
    "InvalidAccountInput",
    "InvalidCredentials",
    "InvalidScope",
    "Permission",
    "Principal",
    "Role",
    "SecondApproverRequired",
    "SecondFactorUnavailable",
    "SignInOutcome",
    "UnknownAccount",
    "User",
    "UserSession",
    "WeakPassword",
    "approve_grant",
    "authenticate",
    "begin_totp_enrolment",
    "bootstrap_admin",
    "change_own_password",
    "check_csrf",
    "check_password_policy",
    "confirm_totp",
    "create_api_key",
    "create_user",
    "disable_totp",
    "disable_user",
    "end_session",
    "find_api_key",
    "find_user",
    "grant_for_key",
    "grant_summary",
    "hash_password",
    "list_api_keys",
    "list_grants",
    "list_users",
    "needs_rehash",
    "parse_roles",
    "parse_scopes",
    "pending_roles",
    "permissions_for_roles",
    "principal_for_key",
    "principal_for_session",
    "refuse_grant",
    "reset_password",
    "resolve_session",
    "revoke_api_key",
    "revoke_user_sessions",
    "set_password",
    "set_roles",
    "start_session",
    "user_by_id",
    "verify_api_key",
    "verify_password",
    "verify_totp",
]
