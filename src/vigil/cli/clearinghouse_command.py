"""`vigil clearinghouse`: the reporting companies allowed to report to this installation's
CyberTipline-compatible intake.

The password never travels as an argument (it would land in shell history and in `ps`): it
comes from a hidden prompt or one line on stdin.
"""

from __future__ import annotations

import typer

from vigil.clearinghouse.companies import add_company
from vigil.cli.database_access import (
    default_actor,
    error_console,
    fail,
    store_session,
)
from vigil.cli.password_input import read_new_password
from vigil.store.audit import AuditAction, AuditLog

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Clearinghouse: the reporting companies of the intake (/ispws).")


@app.command("add-company")
def add_company_command(
    name: str = typer.Argument(..., help="The reporting company's name."),
    username: str = typer.Option(..., "--username", help="Its HTTP basic-auth user name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password as one line from stdin."),
) -> None:
    """Allow a company to report; the password is asked for twice (never an argument)."""
    console = error_console()
    password = read_new_password(from_stdin=password_stdin)
    with store_session(console, write=True) as session:
        try:
            company = add_company(session, name, username, password)
        except ValueError as exc:  # the messages never contain the password
            fail(console, str(exc))
        # A reporting company is a credentialed principal: audited as one, told apart by type.
        AuditLog(session).append(AuditAction.USER_CREATED, actor=default_actor(),
                                 subject_type="intake_company", subject_id=str(company.id),
                                 details={"name": company.name, "username": company.username})
        line = f"added reporting company {company.name} (username {company.username})"
    typer.echo(line)
