"""`vigil admin`: users, API keys and the first-run administrator.

Secrets never travel as arguments (they would land in shell history and in `ps`): passwords
come from a hidden prompt or one line on stdin; a new API key's token or the bootstrap password
is printed once, after the transaction has committed, and cannot be shown again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import typer

from vigil.cli.database_access import (
    EXIT_FATAL,
    command_errors,
    default_actor,
    error_console,
    fail,
    store_session,
)
from vigil.cli.password_input import read_new_password
from vigil.store import load_settings
from vigil.store.accounts import (
    API_KEY_SCOPES,
    AccountError,
    ApiKey,
    User,
    bootstrap_admin,
    create_api_key,
    create_user,
    list_api_keys,
    list_users,
    parse_roles,
    parse_scopes,
    reset_password,
    revoke_api_key,
)
from vigil.store.models.accounts import Role
from vigil.store.models.base import utcnow

_T = TypeVar("_T")
_SCOPES = ", ".join(sorted(API_KEY_SCOPES))

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Accounts: create users and API keys, reset a password, bootstrap the first "
                       "administrator.")


@app.command("create-user")
def create_user_command(
    username: str = typer.Argument(..., help="Letters, digits, '.', '_', '@', '-'."),
    role: list[str] = typer.Option(
        ..., "--role", help=f"Repeat for several: {', '.join(r.value for r in Role)}."),
    display_name: str = typer.Option("", "--display-name", help="Shown instead of the name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password as one line from stdin."),
) -> None:
    """Create a user; the password is asked for twice (never given as an argument)."""
    console = error_console()
    roles = _checked(lambda: parse_roles(role))
    password = read_new_password(from_stdin=password_stdin)
    with command_errors(console):
        settings = load_settings()
    with store_session(console, write=True, settings=settings) as session:
        user = create_user(session, username, password, roles, actor=default_actor(),
                           display_name=display_name,
                           min_password_length=settings.api.min_password_length)
        name = user.username
    typer.echo(f"created user {name} (roles: {', '.join(sorted(roles))})")


@app.command("create-api-key")
def create_api_key_command(
    name: str = typer.Argument(..., help="What the key is for, e.g. the uploading service."),
    scope: list[str] = typer.Option(
        ..., "--scope", help=f"What the key may do; repeat for several: {_SCOPES}."),
    expires_days: int | None = typer.Option(None, "--expires-days", min=1,
                                            help="Expire after N days (default: never)."),
    rate_limit: int | None = typer.Option(None, "--rate-limit", min=1,
                                          help="Requests per minute (default: the server's)."),
    note: str | None = typer.Option(None, "--note", help="Free text kept with the key."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Create an API key and print its token once."""
    console = error_console()
    scopes = _checked(lambda: parse_scopes(scope))
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    with store_session(console, write=True) as session:
        key, token = create_api_key(session, name, scopes, created_by=default_actor(),
                                    expires_at=expires_at, rate_limit_per_minute=rate_limit,
                                    note=note)
        label = key.name
        shown = {"prefix": key.prefix, "token": token, "scopes": list(key.scopes),
                 "expires_at": _iso(key.expires_at)}
    if as_json:
        typer.echo(json.dumps(shown))
        return
    console.print(f"created API key {shown['prefix']} ({label}), scopes: "
                  f"{', '.join(shown['scopes'])}, expires: {shown['expires_at'] or 'never'}",
                  markup=False)
    typer.echo(token)
    console.print("Store this token now: it cannot be shown again.", markup=False,
                  style="bold yellow")


@app.command("revoke-api-key")
def revoke_api_key_command(
    prefix: str = typer.Argument(..., help="The key's 12-character prefix."),
) -> None:
    """Revoke an API key at once; requests using it are refused from now on."""
    with store_session(error_console(), write=True) as session:
        key = revoke_api_key(session, prefix.strip(), actor=default_actor())
        line = f"revoked API key {key.prefix} ({key.name})"
    typer.echo(line)


@app.command("list-users")
def list_users_command() -> None:
    """Users with roles and status (never password hashes or second-factor secrets)."""
    with store_session(error_console()) as session:
        lines = [_user_line(user) for user in list_users(session)]
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
    typer.echo(f"new one-time password for {username.lower()}:")
    typer.echo(password)
    error_console().print("It is shown only once, and must be changed at the next sign-in.",
                          markup=False, style="bold yellow")


@app.command("bootstrap")
def bootstrap_command() -> None:
    """Create the first administrator if there are no users, and print its password once."""
    with store_session(error_console(), write=True) as session:
        password = bootstrap_admin(session)
    if password is None:
        typer.echo("users already exist (an administrator was set up before): nothing to do")
        return
    typer.echo("created administrator 'admin'; one-time password:")
    typer.echo(password)
    error_console().print("It is shown only once, and must be changed at first sign-in.",
                          markup=False, style="bold yellow")


def _checked(parse: Callable[[], _T]) -> _T:
    try:
        return parse()
    except AccountError as exc:
        fail(error_console(), str(exc), EXIT_FATAL)



def _user_line(user: User) -> str:
    now = utcnow()
    if user.disabled_at is not None:
        status = "disabled"
    elif user.locked_until is not None and user.locked_until > now:
        status = f"locked until {_iso(user.locked_until)}"
    else:
        status = "must change password" if user.must_change_password else "active"
    roles = ",".join(sorted(role.value for role in user.role_set)) or "-"
    second_factor = "on" if user.totp_enabled else "off"
    last = _iso(user.last_sign_in_at) or "-"
    return f"{user.username}\t{roles}\t{status}\t{second_factor}\t{last}"


def _key_line(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        status = "revoked"
    else:
        status = "active" if key.is_usable(now) else "expired"
    return (f"{key.prefix}\t{key.name}\t{','.join(key.scopes)}\t{status}\t"
            f"{_iso(key.expires_at) or 'never'}\t{_iso(key.last_used_at) or '-'}\t{key.created_by}")


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
