"""`vigil clearinghouse`: the reporting companies allowed to report to this installation's
CyberTipline-compatible intake.

The password never travels as an argument (it would land in shell history and in `ps`): it
comes from a hidden prompt or one line on stdin.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from vigil.clearinghouse.companies import (
    find_company,
    list_companies,
    register_company,
    set_company_disabled,
    set_company_password,
)
from vigil.cli.database_access import (
    default_actor,
    error_console,
    fail,
    store_session,
)
from vigil.cli.password_input import read_new_password
from vigil.store.models import ReportingCompany

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Clearinghouse: the reporting companies of the intake (/ispws).",
)


@app.command("add-company")
def add_company_command(
    name: str = typer.Argument(..., help="The reporting company's name."),
    username: str = typer.Option(..., "--username", help="Its HTTP basic-auth user name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password as one line from stdin."
    ),
) -> None:
    """Allow a company to report; the password is asked for twice (never an argument)."""
    console = error_console()
    password = read_new_password(from_stdin=password_stdin)
    with store_session(console, write=True) as session:
        try:
            company = register_company(session, name, username, password, actor=default_actor())
        except ValueError as exc:  # the messages never contain the password
            fail(console, str(exc))
        line = f"added reporting company {company.name} (username {company.username})"
    typer.echo(line)


@app.command("list-companies")
def list_companies_command() -> None:
    """The reporting companies, with whether each may report."""
    console = error_console()
    with store_session(console) as session:
        companies = list_companies(session)
        table = Table("id", "name", "username", "created", "status")
        for company in companies:
            status = f"disabled {company.disabled_at:%Y-%m-%d}" if company.disabled_at else "active"
            table.add_row(
                str(company.id),
                company.name,
                company.username,
                f"{company.created_at:%Y-%m-%d}",
                status,
            )
    Console().print(table)


@app.command("disable-company")
def disable_company_command(username: str = typer.Argument(..., help="Its user name.")) -> None:
    """Stop a company reporting (within 5 s in every worker); its reports are kept."""
    _set_disabled(username, disabled=True)


@app.command("enable-company")
def enable_company_command(username: str = typer.Argument(..., help="Its user name.")) -> None:
    """Let a disabled company report again."""
    _set_disabled(username, disabled=False)


@app.command("set-password")
def set_password_command(
    username: str = typer.Argument(..., help="The company's user name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password as one line from stdin."
    ),
) -> None:
    """Replace a company's password (e.g. after a leak); the old one stops working within 5 s."""
    console = error_console()
    password = read_new_password(from_stdin=password_stdin)
    with store_session(console, write=True) as session:
        company = _company(console, session, username)
        try:
            set_company_password(session, company, password, actor=default_actor())
        except ValueError as exc:
            fail(console, str(exc))
    typer.echo(f"new password set for {username}")


def _set_disabled(username: str, *, disabled: bool) -> None:
    console = error_console()
    with store_session(console, write=True) as session:
        company = _company(console, session, username)
        set_company_disabled(session, company, disabled=disabled, actor=default_actor())
    typer.echo(f"{username} {'disabled' if disabled else 'enabled'}")


def _company(console: Console, session: Session, username: str) -> ReportingCompany:
    company = find_company(session, username)
    if company is None:
        fail(console, f"no reporting company with username {username!r}")
    return company
