"""`vigil admin`: users, API keys, grants of media access, and the first-run administrator.

Secrets never travel as arguments (they would land in shell history and in `ps`): passwords
come from a hidden prompt or one line on stdin; a new API key's token is printed once, after
the transaction has committed, and cannot be shown again. A one-time password (bootstrap,
reset) is printed on a terminal only, otherwise written to a private file whose path is
printed (vigil.cli.one_time_password_output).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import typer
from rich.console import Console

from vigil.cli.database_access import (
    EXIT_FATAL,
    command_errors,
    default_actor,
    error_console,
    fail,
    store_session,
)
from vigil.cli.one_time_password_output import hand_over
from vigil.cli.password_input import read_new_password
from vigil.core.settings import load_settings
from vigil.store.accounts import (
    API_KEY_SCOPES,
    AccessGrant,
    AccountError,
    ApiKey,
    User,
    approve_grant,
    bootstrap_admin,
    create_api_key,
    create_user,
    list_api_keys,
    list_grants,
    list_users,
    parse_roles,
    parse_scopes,
    pending_roles,
    refuse_grant,
    reset_password,
    revoke_api_key,
)
from vigil.store.accounts.bootstrap import BOOTSTRAP_USERNAME
from vigil.store.accounts.sign_in_locks import locked_addresses
from vigil.store.models.accounts import Role
from vigil.store.models.base import utcnow

_T = TypeVar("_T")
_SCOPES = ", ".join(sorted(API_KEY_SCOPES))

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Accounts: create users and API keys, approve media access, reset a "
    "password, bootstrap the first administrator.",
)


@app.command("create-user")
def create_user_command(
    username: str = typer.Argument(..., help="Letters, digits, '.', '_', '@', '-'."),
    role: list[str] = typer.Option(
        ..., "--role", help=f"Repeat for several: {', '.join(r.value for r in Role)}."
    ),
    display_name: str = typer.Option("", "--display-name", help="Shown instead of the name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password as one line from stdin."
    ),
) -> None:
    """Create a user; the password is asked for twice (never given as an argument)."""
    console = error_console()
    roles = _checked(lambda: parse_roles(role))
    password = read_new_password(from_stdin=password_stdin)
    with command_errors(console):
        settings = load_settings()
    with store_session(console, write=True, settings=settings) as session:
        user = create_user(
            session,
            username,
            password,
            roles,
            actor=default_actor(),
            display_name=display_name,
            min_password_length=settings.api.min_password_length,
        )
        name, granted = user.username, sorted(role.value for role in user.role_set)
        waiting = pending_roles(session, user)
    typer.echo(f"created user {name} (roles: {', '.join(granted)})")
    if waiting:
        console.print(
            f"The roles {', '.join(waiting)} give an administrator media access: they "
            "wait for a second administrator (vigil admin list-grants).",
            markup=False,
            style="bold yellow",
        )


@app.command("create-api-key")
def create_api_key_command(
    name: str = typer.Argument(..., help="What the key is for, e.g. the uploading service."),
    scope: list[str] = typer.Option(
        ..., "--scope", help=f"What the key may do; repeat for several: {_SCOPES}."
    ),
    expires_days: int | None = typer.Option(
        None, "--expires-days", min=1, help="Expire after N days (default: never)."
    ),
    rate_limit: int | None = typer.Option(
        None, "--rate-limit", min=1, help="Requests per minute (default: the server's)."
    ),
    note: str | None = typer.Option(None, "--note", help="Free text kept with the key."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Create an API key and print its token once."""
    console = error_console()
    scopes = _checked(lambda: parse_scopes(scope))
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    with store_session(console, write=True) as session:
        key, token = create_api_key(
            session,
            name,
            scopes,
            created_by=default_actor(),
            expires_at=expires_at,
            rate_limit_per_minute=rate_limit,
            note=note,
        )
        label = key.name
        shown: dict[str, Any] = {
            "prefix": key.prefix,
            "token": token,
            "scopes": list(key.scopes),
            "expires_at": _iso(key.expires_at),
        }
        if key.awaiting_approval:
            shown["awaiting_approval"] = True
    if as_json:
        typer.echo(json.dumps(shown))
        return
    console.print(
        f"created API key {shown['prefix']} ({label}), scopes: "
        f"{', '.join(shown['scopes'])}, expires: {shown['expires_at'] or 'never'}",
        markup=False,
    )
    typer.echo(token)
    console.print(
        "Store this token now: it cannot be shown again.", markup=False, style="bold yellow"
    )
    if shown.get("awaiting_approval"):
        console.print(
            "It fetches media, so it works only once a second administrator "
            "approves it (vigil admin list-grants, approve-grant).",
            markup=False,
            style="bold yellow",
        )


@app.command("revoke-api-key")
def revoke_api_key_command(
    prefix: str = typer.Argument(..., help="The key's 12-character prefix."),
) -> None:
    """Revoke an API key at once; requests using it are refused from now on."""
    with store_session(error_console(), write=True) as session:
        key = revoke_api_key(session, prefix.strip(), actor=default_actor())
        line = f"revoked API key {key.prefix} ({key.name})"
    typer.echo(line)


@app.command("list-grants")
def list_grants_command() -> None:
    """Media access for administrators (keys with media:view, roles): pending first."""
    with store_session(error_console()) as session:
        lines = [_grant_line(grant) for grant in list_grants(session)]
    typer.echo("id\tstate\tkind\tfor\twhat\trequested_by\trequested_at\tdecided_by")
    for line in lines:
        typer.echo(line)


@app.command("approve-grant")
def approve_grant_command(
    grant_id: int = typer.Argument(..., help="The grant's id (vigil admin list-grants)."),
) -> None:
    """Approve media access someone else asked for; it takes effect at once (audited)."""
    with store_session(error_console(), write=True) as session:
        grant = approve_grant(session, grant_id, actor=default_actor())
        line = f"approved grant {grant.id}: {_grant_subject(grant)} {_grant_what(grant)}"
    typer.echo(line)


@app.command("refuse-grant")
def refuse_grant_command(
    grant_id: int = typer.Argument(..., help="The grant's id (vigil admin list-grants)."),
) -> None:
    """Refuse (or withdraw) a pending grant; a key waiting for it is revoked (audited)."""
    with store_session(error_console(), write=True) as session:
        grant = refuse_grant(session, grant_id, actor=default_actor())
        line = f"refused grant {grant.id}: {_grant_subject(grant)} {_grant_what(grant)}"
    typer.echo(line)


@app.command("list-users")
def list_users_command() -> None:
    """Users with roles and status (never password hashes or second-factor secrets)."""
    with store_session(error_console()) as session:
        locked = locked_addresses(session, utcnow())
        lines = [_user_line(user, locked.get(user.id, 0)) for user in list_users(session)]
    typer.echo("username\troles\tstatus\tsecond_factor\tlast_sign_in")
    for line in lines:
        typer.echo(line)


@app.command("list-api-keys")
def list_api_keys_command() -> None:
    """API keys with scopes and status (never tokens or their hashes)."""
    now = utcnow()
    with store_session(error_console()) as session:
        lines = [_key_line(key, now) for key in list_api_keys(session)]
    typer.echo("prefix\tname\tscopes\tstatus\texpires\tlast_used\tcreated_by")
    for line in lines:
        typer.echo(line)


@app.command("reset-password")
def reset_password_command(
    username: str = typer.Argument(..., help="Whose password to replace."),
) -> None:
    """Give a user a new one-time password, printed once; they must change it at their next
    sign-in. Their sessions end and a lockout is lifted (audited)."""
    with store_session(error_console(), write=True) as session:
        password = reset_password(session, username, actor=default_actor())
    hand_over(
        _output(), password, username.lower(), headline=f"reset the password of {username.lower()}"
    )
    error_console().print(
        "It is shown only once, and must be changed at the next sign-in.",
        markup=False,
        style="bold yellow",
    )


@app.command("bootstrap")
def bootstrap_command() -> None:
    """Create the first administrator if there are no users, and print its password once."""
    with store_session(error_console(), write=True) as session:
        password = bootstrap_admin(session)
    if password is None:
        typer.echo("users already exist (an administrator was set up before): nothing to do")
        return
    hand_over(
        _output(),
        password,
        BOOTSTRAP_USERNAME,
        headline=f"created administrator {BOOTSTRAP_USERNAME!r}",
    )
    error_console().print(
        "It is shown only once, and must be changed at first sign-in.",
        markup=False,
        style="bold yellow",
    )


def _output() -> Console:
    """stdout, where one-time passwords go when it is a terminal (see hand_over)."""
    return Console(highlight=False, soft_wrap=True)


def _checked(parse: Callable[[], _T]) -> _T:
    try:
        return parse()
    except AccountError as exc:
        fail(error_console(), str(exc), EXIT_FATAL)


def _user_line(user: User, locked_addresses: int) -> str:
    if user.disabled_at is not None:
        status = "disabled"
    elif locked_addresses:
        status = f"locked from {locked_addresses} address{'es' if locked_addresses > 1 else ''}"
    else:
        status = "must change password" if user.must_change_password else "active"
    roles = ",".join(sorted(role.value for role in user.role_set)) or "-"
    second_factor = "on" if user.totp_enabled else "off"
    last = _iso(user.last_sign_in_at) or "-"
    return f"{user.username}\t{roles}\t{status}\t{second_factor}\t{last}"


def _key_line(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        status = "revoked"
    elif key.awaiting_approval:
        status = "awaiting approval"
    else:
        status = "active" if key.is_usable(now) else "expired"
    return (
        f"{key.prefix}\t{key.name}\t{','.join(key.scopes)}\t{status}\t"
        f"{_iso(key.expires_at) or 'never'}\t{_iso(key.last_used_at) or '-'}\t{key.created_by}"
    )


def _grant_line(grant: AccessGrant) -> str:
    return (
        f"{grant.id}\t{grant.state.value}\t{grant.kind.value}\t{_grant_subject(grant)}\t"
        f"{_grant_what(grant)}\t{grant.requested_by}\t{_iso(grant.requested_at)}\t"
        f"{grant.decided_by or '-'}"
    )


def _grant_subject(grant: AccessGrant) -> str:
    if grant.user is not None:
        return f"user {grant.user.username}"
    return f"key {grant.api_key.prefix}" if grant.api_key is not None else "-"


def _grant_what(grant: AccessGrant) -> str:
    if grant.roles is not None:
        return f"roles {','.join(grant.roles)} (were {','.join(grant.previous_roles or []) or '-'})"
    return f"scopes {','.join(grant.api_key.scopes)}" if grant.api_key is not None else "-"


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
