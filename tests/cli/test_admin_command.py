"""`vigil admin` through the CLI on SQLite and PostgreSQL: users, API keys and bootstrap, with
secrets never taken as arguments and never printed twice; bad input exits 2 in one line."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from vigil.cli.app import app
from vigil.cli.database_access import EXIT_FATAL, EXIT_OK, default_actor
from vigil.store import open_database
from vigil.store.accounts import (
    API_KEY_SCOPES,
    InvalidCredentials,
    Role,
    authenticate,
    create_api_key,
    disable_user,
    find_user,
    resolve_session,
    start_session,
    verify_api_key,
)
from vigil.store.audit import AuditLog
from vigil.store.models import SignInLock, utcnow

pytestmark = pytest.mark.usefixtures("cheap_argon2")  # see tests/conftest.py

PASSWORD = "a-long-enough-passphrase"


def _run(tmp_path: Path, database_url: str, *args: str, stdin: str | None = None) -> Result:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "VIGIL_DATABASE__CONNECT_TIMEOUT": "2",
        "COLUMNS": "200",
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
    }
    result = CliRunner().invoke(app, ["admin", *args], input=stdin, env=env, catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


def _failed(result: Result, fragment: str) -> None:
    assert result.exit_code == EXIT_FATAL, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0]


def test_create_user_from_stdin(tmp_path: Path, database_url: str) -> None:
    result = _run(
        tmp_path,
        database_url,
        "create-user",
        "Erin",
        "--role",
        "reviewer",
        "--role",
        "auditor",
        "--display-name",
        "Erin R",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == EXIT_OK, result.output
    assert "created user erin (roles: auditor, reviewer)" in result.output
    assert PASSWORD not in result.output + result.stderr
    with open_database(database_url) as database, database.transaction(write=True) as session:
        user = find_user(session, "erin")
        assert user is not None and user.role_set == {Role.REVIEWER, Role.AUDITOR}
        assert user.created_by == default_actor()
        assert authenticate(session, "erin", PASSWORD).ok
        records = AuditLog(session).recent(5)
        assert PASSWORD not in json.dumps([record.details for record in records])


def test_create_user_prompts_twice(tmp_path: Path, sqlite_url: str) -> None:
    ok = _run(
        tmp_path,
        sqlite_url,
        "create-user",
        "frank",
        "--role",
        "admin",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert ok.exit_code == EXIT_OK, ok.output
    assert PASSWORD not in ok.output  # the prompt does not echo
    differ = _run(
        tmp_path,
        sqlite_url,
        "create-user",
        "grace",
        "--role",
        "admin",
        stdin=f"{PASSWORD}\n{PASSWORD}x\n",
    )
    _failed(differ, "differ")


def test_create_user_bad_input_exits_2(tmp_path: Path, database_url: str) -> None:
    _failed(
        _run(
            tmp_path,
            database_url,
            "create-user",
            "hank",
            "--role",
            "root",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ),
        "unknown role",
    )
    weak = _run(
        tmp_path,
        database_url,
        "create-user",
        "hank",
        "--role",
        "admin",
        "--password-stdin",
        stdin="hank-hank-hank\n",
    )
    _failed(weak, "username")
    assert "hank-hank-hank" not in weak.output + weak.stderr
    _failed(
        _run(
            tmp_path,
            database_url,
            "create-user",
            "hank",
            "--role",
            "admin",
            "--password-stdin",
            stdin="x" * 100_000 + "\n",
        ),
        "at most",
    )
    _failed(
        _run(
            tmp_path,
            database_url,
            "create-user",
            "h'; DROP TABLE users;--",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ),
        "username",
    )
    _failed(
        _run(
            tmp_path,
            database_url,
            "create-user",
            "hank",
            "--role",
            "admin",
            "--password-stdin",
            stdin="",
        ),
        "no password",
    )
    assert (
        _run(
            tmp_path,
            database_url,
            "create-user",
            "hank",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ).exit_code
        == EXIT_OK
    )
    _failed(
        _run(
            tmp_path,
            database_url,
            "create-user",
            "HANK",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ),
        "already exists",
    )


def test_api_key_lifecycle(tmp_path: Path, database_url: str) -> None:
    created = _run(
        tmp_path,
        database_url,
        "create-api-key",
        "uploader",
        "--scope",
        "screen",
        "--scope",
        "flag",
        "--expires-days",
        "30",
        "--rate-limit",
        "100",
        "--json",
    )
    assert created.exit_code == EXIT_OK, created.output
    shown = json.loads(created.output)
    assert set(shown) == {"prefix", "token", "scopes", "expires_at"}
    assert shown["scopes"] == ["flag", "screen"] and shown["expires_at"]
    with open_database(database_url) as database, database.transaction(write=True) as session:
        key = verify_api_key(session, shown["token"])
        assert key.prefix == shown["prefix"] and key.rate_limit_per_minute == 100
        secret_hash = key.secret_hash
    listed = _run(tmp_path, database_url, "list-api-keys")
    assert listed.exit_code == EXIT_OK and shown["prefix"] in listed.output
    assert "uploader\tflag,screen\tactive" in listed.output
    secret = shown["token"].split("_", 2)[2]
    assert secret not in listed.output and secret_hash not in listed.output
    revoked = _run(tmp_path, database_url, "revoke-api-key", shown["prefix"])
    assert revoked.exit_code == EXIT_OK and shown["prefix"] in revoked.output
    assert "\trevoked\t" in _run(tmp_path, database_url, "list-api-keys").output
    with (
        open_database(database_url) as database,
        database.session() as session,
        pytest.raises(InvalidCredentials),
    ):
        verify_api_key(session, shown["token"])
    _failed(_run(tmp_path, database_url, "revoke-api-key", "0" * 12), "no API key")


def test_create_api_key_prints_the_token_once_with_a_warning(
    tmp_path: Path, sqlite_url: str
) -> None:
    result = _run(tmp_path, sqlite_url, "create-api-key", "viewer", "--scope", "media:view")
    assert result.exit_code == EXIT_OK, result.output
    [token] = [line for line in result.output.splitlines() if line.startswith("vigil_")]
    assert "cannot be shown again" in result.stderr and token not in result.stderr
    assert "expires: never" in result.stderr


def test_create_api_key_bad_scope_exits_2(tmp_path: Path, sqlite_url: str) -> None:
    _failed(
        _run(tmp_path, sqlite_url, "create-api-key", "k", "--scope", "users:manage"),
        "cannot be granted",
    )
    _failed(_run(tmp_path, sqlite_url, "create-api-key", "k", "--scope", "nope"), "unknown scope")
    assert "vigil_" not in _run(tmp_path, sqlite_url, "list-api-keys").output


def test_bootstrap_once_then_list_users(tmp_path: Path, database_url: str) -> None:
    first = _run(tmp_path, database_url, "bootstrap")
    assert first.exit_code == EXIT_OK, first.output
    password = _from_file(first, "admin")  # not a terminal: a private file, not the output
    assert password not in first.output + first.stderr
    assert "shown only once" in first.stderr
    again = _run(tmp_path, database_url, "bootstrap")
    assert again.exit_code == EXIT_OK and "already exist" in again.output
    assert password not in again.output
    listed = _run(tmp_path, database_url, "list-users")
    assert "admin\tadmin\tmust change password\toff\t-" in listed.output
    assert "argon2" not in listed.output and password not in listed.output
    with open_database(database_url) as database, database.transaction(write=True) as session:
        assert authenticate(session, "admin", password).ok


def _from_file(result: Result, username: str) -> str:
    """The one-time password from the file the command named (issue 14, item 12)."""
    found = re.search(r"the one-time password is in (\S+)", result.output)
    assert found, result.output
    path = Path(found.group(1))
    assert path.name == f"one-time-password-{username}"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    return path.read_text().strip()


def _one_time(result: Result, username: str) -> str:
    password = _from_file(result, username)
    assert password not in result.output + result.stderr
    return password


def test_reset_password_gives_a_one_time_password(tmp_path: Path, database_url: str) -> None:
    assert (
        _run(
            tmp_path,
            database_url,
            "create-user",
            "ivy",
            "--role",
            "reviewer",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ).exit_code
        == EXIT_OK
    )
    with open_database(database_url) as database, database.transaction(write=True) as session:
        user = find_user(session, "ivy")
        assert user is not None
        _, token, _ = start_session(session, user)
        user.failed_sign_ins = 4
        session.add(
            SignInLock(
                user_id=user.id,
                source="",
                failures=0,
                locks=1,
                locked_until=utcnow() + timedelta(minutes=10),
                last_failure_at=utcnow(),
            )
        )
    assert (
        "ivy\treviewer\tlocked from 1 address\t"
        in _run(tmp_path, database_url, "list-users").output
    )

    reset = _run(tmp_path, database_url, "reset-password", "IVY")
    assert reset.exit_code == EXIT_OK, reset.output
    password = _one_time(reset, "ivy")
    assert "shown only once" in reset.stderr and password not in reset.stderr
    with open_database(database_url) as database, database.transaction(write=True) as session:
        assert not authenticate(session, "ivy", PASSWORD).ok
        assert authenticate(session, "ivy", password).ok  # the lockout was lifted
        user = find_user(session, "ivy")
        assert user is not None and user.must_change_password
        with pytest.raises(InvalidCredentials):  # signed out everywhere
            resolve_session(session, token)
        [record] = [
            r for r in AuditLog(session).recent(10) if r.details.get("change") == "password reset"
        ]
        assert record.actor == default_actor() and record.details["username"] == "ivy"
        assert password not in json.dumps(record.details)
    listed = _run(tmp_path, database_url, "list-users")
    assert "ivy\treviewer\tmust change password" in listed.output
    again = _one_time(_run(tmp_path, database_url, "reset-password", "ivy"), "ivy")
    assert again != password


def test_reset_password_refusals_exit_2(tmp_path: Path, database_url: str) -> None:
    _failed(_run(tmp_path, database_url, "reset-password", "nobody"), "no user")
    _failed(_run(tmp_path, database_url, "reset-password", "h'; DROP TABLE users;--"), "no user")
    assert (
        _run(
            tmp_path,
            database_url,
            "create-user",
            "jay",
            "--role",
            "auditor",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ).exit_code
        == EXIT_OK
    )
    with open_database(database_url) as database, database.transaction(write=True) as session:
        user = find_user(session, "jay")
        assert user is not None
        disable_user(session, user, actor="test")
    _failed(_run(tmp_path, database_url, "reset-password", "jay"), "disabled")
    with open_database(database_url) as database, database.transaction() as session:
        assert not [
            r for r in AuditLog(session).recent(10) if r.details.get("change") == "password reset"
        ]


def test_create_api_key_help_lists_the_scopes(tmp_path: Path, sqlite_url: str) -> None:
    shown = " ".join(_run(tmp_path, sqlite_url, "create-api-key", "--help").output.split())
    for scope in API_KEY_SCOPES:
        assert scope.value in shown
    assert "users:manage" not in shown  # only what a key may be granted


def test_media_access_for_administrators_needs_a_second_one(
    tmp_path: Path, database_url: str
) -> None:
    """Issue 14, item 8, on the command line: a media:view key waits; the shell's login
    cannot approve what it asked for, another administrator can; refusing revokes."""
    created = _run(
        tmp_path, database_url, "create-api-key", "viewer", "--scope", "media:view", "--json"
    )
    shown = json.loads(created.output)
    assert shown["awaiting_approval"] is True
    assert (
        "viewer\tmedia:view\tawaiting approval"
        in _run(tmp_path, database_url, "list-api-keys").output
    )
    listed = _run(tmp_path, database_url, "list-grants").output.splitlines()
    assert len(listed) == 2 and f"key {shown['prefix']}" in listed[1]
    grant_id = listed[1].split("\t")[0]
    _failed(_run(tmp_path, database_url, "approve-grant", grant_id), "another administrator")
    with open_database(database_url) as database, database.transaction(write=True) as session:
        _, token = create_api_key(session, "second", ["media:view"], created_by="user:ann")
    second_id = _run(tmp_path, database_url, "list-grants").output.splitlines()[1].split("\t")[0]
    approved = _run(tmp_path, database_url, "approve-grant", second_id)
    assert approved.exit_code == EXIT_OK and "approved grant" in approved.output
    refused = _run(tmp_path, database_url, "refuse-grant", grant_id)
    assert refused.exit_code == EXIT_OK
    with open_database(database_url) as database, database.session() as session:
        assert verify_api_key(session, token)
        with pytest.raises(InvalidCredentials):
            verify_api_key(session, shown["token"])
    _failed(_run(tmp_path, database_url, "approve-grant", "999999"), "no access grant")


def test_create_user_with_media_roles_for_an_administrator(
    tmp_path: Path, database_url: str
) -> None:
    made = _run(
        tmp_path,
        database_url,
        "create-user",
        "kim",
        "--role",
        "admin",
        "--role",
        "reviewer",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert made.exit_code == EXIT_OK, made.output
    assert "created user kim (roles: admin)" in made.output
    assert "second administrator" in made.stderr
